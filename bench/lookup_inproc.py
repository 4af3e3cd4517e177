"""CPU per lookup in-process, bodies as the switch posts them vs with every field: `python -m bench.lookup_inproc`.

The same directory (REGISTER digest) and dialplan (carrier call) bodies as `make bench` (bench/load.py),
each once cut to kumo's list (fsctl.xmlcurl.posted, what the shipped xml_curl.conf.xml makes the switch
post) and once whole (a switch posting every field), straight through `ServiceApp.handle` (parse the
form, answer, no HTTP): CPU µs per lookup from time.process_time, so other load on the machine
barely moves it. Each pass runs after a warm pass over the same bodies (snapshots and rendered
answers cached, as in a warm worker), alternating the two forms `BENCH_ROUNDS` times.

Then the same through HTTP: `fsctl serve` with one worker on loopback, the bodies posted one at a
time on a new connection each (as mod_xml_curl does), and the server's own CPU (user + system, its
processes from /proc) per lookup: the request's reading, parsing, answer, send and close.

Knobs: BENCH_SIZES (10x10; the first size only), BENCH_BODIES (5000), BENCH_ROUNDS (3), BENCH_DB (a
file to keep the data set in, default bench/out/inproc-<size>.sqlite3, shared with bench.dialplan_inproc).
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable

from bench.dataset import parse_sizes
from bench.dialplan_inproc import OUT, inproc_database
from bench.load import dialplan_bodies, directory_bodies
from bench.servers import FsctlServer, post
from fsctl.config import Settings
from fsctl.xmlcurl.app import ServiceApp
from fsctl.xmlcurl.store import LookupStore


def _cpu_us(app: ServiceApp, bodies: list[bytes]) -> float:
    started = time.process_time()
    for body in bodies:
        app.handle("POST", "/fs/xml", {}, body)
    return (time.process_time() - started) / len(bodies) * 1e6


def _found(app: ServiceApp, bodies: list[bytes]) -> int:
    return sum(b'status="not found"' not in app.handle("POST", "/fs/xml", {}, body).body for body in bodies)


def _server_cpu_us(server: FsctlServer, bodies: list[bytes]) -> float:
    before = server.cpu_seconds()
    for body in bodies:
        post(server.port, "/fs/xml", body)
    return (server.cpu_seconds() - before) / len(bodies) * 1e6


def _report_rounds(
    section: str,
    forms: dict[str, list[bytes]],
    measure: Callable[[list[bytes]], float],
    rounds: int,
    digits: int,
) -> None:
    """`measure` each form's bodies `rounds` times, alternating forms; print the best and every round."""
    figures: dict[str, list[float]] = {label: [] for label in forms}
    for _ in range(rounds):
        for label, bodies in forms.items():
            figures[label].append(measure(bodies))
    for label, values in figures.items():
        shown = ", ".join(f"{v:.{digits}f}" for v in values)
        print(f"  {section:<9} {label:<11} {min(values):>7.{digits}f} µs (rounds: {shown})")


def _through_http(url: str, forms_by_section: dict[str, dict[str, list[bytes]]], rounds: int) -> None:
    server = FsctlServer(OUT, url, 1)
    try:
        server.wait_ready()
        print("through HTTP, one worker, one lookup at a time: server CPU µs per lookup")
        for section, forms in forms_by_section.items():
            for bodies in forms.values():
                _server_cpu_us(server, bodies)  # warm
            _report_rounds(section, forms, lambda bodies: _server_cpu_us(server, bodies), rounds, 0)
    finally:
        server.stop()


def main() -> int:
    size = parse_sizes(os.environ.get("BENCH_SIZES", "") or "10x10")[0]
    count = int(os.environ.get("BENCH_BODIES", "") or 5000)
    rounds = int(os.environ.get("BENCH_ROUNDS", "") or 3)
    url = inproc_database(size)
    settings = Settings(database_url=url, xml_curl_auth="off", instance_dir=OUT / "instance")
    app = ServiceApp(settings, LookupStore(url))
    print(f"{size.title}, {count} bodies per section, CPU µs per lookup (ServiceApp.handle), {rounds} rounds")
    forms_by_section = {}
    for section, make in (("directory", directory_bodies), ("dialplan", dialplan_bodies)):
        forms = forms_by_section[section] = {
            "as posted": make(size, count, random.Random(section), True),
            "every field": make(size, count, random.Random(section), False),
        }
        for label, bodies in forms.items():
            mean = sum(map(len, bodies)) / len(bodies)
            print(f"  {section:<9} {label:<11} {mean:>6.0f} bytes, found {_found(app, bodies)}/{len(bodies)}")
        _report_rounds(section, forms, lambda bodies: _cpu_us(app, bodies), rounds, 1)
    _through_http(url, forms_by_section, rounds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
