"""`python -m webpanel [--listen HOST:PORT]` (what `fsctl panel` runs): the panel on gevent's WSGI server."""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()  # entry point: before anything imports sockets or threads

import argparse  # noqa: E402
import gc  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

from gevent.pywsgi import WSGIServer  # noqa: E402

from fsctl.config import file_umask, parse_listen  # noqa: E402
from webpanel import DEFAULT_LISTEN, create_app  # noqa: E402

log = logging.getLogger("webpanel")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fsctl panel", description="kumo's customer control panel")
    parser.add_argument(
        "--listen", default=os.environ.get("WEBPANEL_LISTEN", DEFAULT_LISTEN), help="host:port"
    )
    parser.add_argument("--upgrade", action="store_true", help="migrate the database first")
    args = parser.parse_args(argv)
    os.umask(file_umask())  # uploads, the database, the secret key: private
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app()
    if args.upgrade:
        from fsctl import migrate

        migrate.upgrade(app.config["SQLALCHEMY_DATABASE_URI"])
    # What is loaded by now lives as long as the process: keep it out of the collector's full passes,
    # which a big tenant's pages (thousands of rows per request) would otherwise trigger every other
    # save, each scanning ~150,000 start-up objects (~100 ms).
    gc.collect()
    gc.freeze()
    host, port = parse_listen(args.listen, 8000)
    server = WSGIServer((host, port), app, log=None, error_log=logging.getLogger("webpanel.http"))
    log.info("panel listening on http://%s:%s", host, port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.stop(timeout=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
