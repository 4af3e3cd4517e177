"""`make bench`: fsctl's mod_xml_curl endpoint under wrk, beside nginx serving a static file (the ceiling).

For each data set size it loads a throw-away database, starts `fsctl serve` and nginx on free ports of
127.0.0.1, drives each with wrk (new TCP connection per request, like mod_xml_curl) and prints
requests/s, p50, p99 and the ratio to nginx, against the targets in TARGETS (a share of nginx's rate and a
p99 per lookup section). Figures also go to bench/out/latest.json. Every process started here is
stopped at the end, also on error or Ctrl-C.

Environment knobs (all optional):
  BENCH_SECONDS=15        measured seconds per endpoint     BENCH_WARMUP=2   warm-up seconds (not counted)
  BENCH_CONNECTIONS=50    concurrent connections            BENCH_THREADS=2  wrk threads
  BENCH_WORKERS=2         fsctl --workers (a list "1,2,3" measures each)
  BENCH_SIZES=10x10,10000x100   tenants x users             BENCH_BODIES=10000  distinct bodies per endpoint
  DATABASE_URL=postgresql+psycopg://...  use a throw-away database on that server instead of SQLite
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import random
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from bench.dataset import BenchDatabase, Size, load, parse_sizes
from bench.load import (
    NOT_FOUND_MARK,
    dialplan_bodies,
    directory_bodies,
    run_wrk,
    write_bodies_lua,
    write_script,
)
from bench.servers import LOGS, FsctlServer, NginxServer, ensure_tools, post

# Measured on the 2-core development machine (wrk needs a core too): see bench/README.md.
DEFAULT_WORKERS = 2
OUT = Path(__file__).resolve().parent / "out" / "latest.json"
TARGETS = {
    "directory": {"ratio": 0.25, "p99_ms": 10.0},
    "dialplan": {"ratio": 0.25, "p99_ms": 15.0},
}
PREFLIGHT_SAMPLES = 200


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def settings() -> dict:
    workers = os.environ.get("BENCH_WORKERS", "").strip()
    return {
        "seconds": _env_int("BENCH_SECONDS", 15),
        "warmup": _env_int("BENCH_WARMUP", 2),
        "connections": _env_int("BENCH_CONNECTIONS", 50),
        "threads": _env_int("BENCH_THREADS", 2),
        "workers": [int(w) for w in workers.split(",")] if workers else [DEFAULT_WORKERS],
        "sizes": parse_sizes(os.environ.get("BENCH_SIZES", "") or "10x10,10000x100"),
        "bodies": _env_int("BENCH_BODIES", 10_000),
        # "kumo": bodies as kumo's xml_curl bindings post them (enable-post-var); "all": every field.
        "post": os.environ.get("BENCH_POST", "").strip() or "kumo",
    }


def preflight(port: int, bodies: list[bytes], rng: random.Random) -> dict:
    """POST a sample of the bodies one by one: how many got a real answer, and one such answer."""
    found = not_found = failed = 0
    example = None
    sizes = []
    for body in rng.sample(bodies, min(PREFLIGHT_SAMPLES, len(bodies))):
        status, answer = post(port, "/fs/xml", body)
        if status != 200:
            failed += 1
        elif NOT_FOUND_MARK in answer:
            not_found += 1
        else:
            found += 1
            sizes.append(len(answer))
            example = example or answer
    return {
        "found": found,
        "not_found": not_found,
        "failed": failed,
        "example": example,
        "median_bytes": sorted(sizes)[len(sizes) // 2] if sizes else 0,
    }


class Bench:
    def __init__(self, config: dict, tools: dict[str, str], workdir: Path):
        self.config = config
        self.tools = tools
        self.workdir = workdir
        self.rows: list[dict] = []

    def measure(self, server, port: int, script: Path) -> dict:
        c = self.config
        if c["warmup"] > 0:
            run_wrk(self.tools["wrk"], script, port, c["warmup"], c["connections"], c["threads"])
        cpu_before = server.cpu_seconds()
        result = run_wrk(self.tools["wrk"], script, port, c["seconds"], c["connections"], c["threads"])
        figures = result.as_dict()
        # The server's own CPU per answered request: steadier than req/s on a shared machine.
        cpu = server.cpu_seconds() - cpu_before
        figures["cpu_us_per_request"] = round(cpu / result.requests * 1e6, 1) if result.requests else 0.0
        return figures

    def size(self, size: Size, url: str, db_kind: str) -> None:
        rng = random.Random(f"kumo-bench-{size.label}")
        started = time.perf_counter()
        load_seconds = load(url, size)
        print(f"\n== {size.title}: {db_kind} database loaded in {load_seconds:.1f} s", flush=True)
        scripts = {}
        posted = self.config["post"] != "all"
        bodies = {
            "directory": directory_bodies(size, self.config["bodies"], rng, posted),
            "dialplan": dialplan_bodies(size, self.config["bodies"], rng, posted),
        }
        mean = {name: sum(map(len, items)) // max(len(items), 1) for name, items in bodies.items()}
        print(
            f"   bodies ({'every field' if not posted else 'as posted'}): {mean} bytes on average", flush=True
        )
        for endpoint, items in bodies.items():
            lua_bodies = self.workdir / f"bodies-{size.label}-{endpoint}.lua"
            write_bodies_lua(lua_bodies, items)
            scripts[endpoint] = lua_bodies
        nginx = None
        try:
            for workers in self.config["workers"]:
                fsctl = FsctlServer(self.workdir, url, workers)
                try:
                    fsctl.wait_ready()
                    checks = {name: preflight(fsctl.port, items, rng) for name, items in bodies.items()}
                    if nginx is None:
                        document = checks["directory"]["example"]
                        if document is None:
                            raise RuntimeError(
                                "no directory lookup found its user; see " + str(fsctl.log_path)
                            )
                        nginx = NginxServer(self.workdir, self.tools["nginx"], document)
                        nginx.wait_ready()
                        script = self.workdir / f"nginx-{size.label}.lua"
                        write_script(script, scripts["directory"], nginx.port)
                        print(f"   nginx static: {len(document)} bytes (a directory answer) ...", flush=True)
                        self._row(
                            size,
                            "nginx static",
                            None,
                            self.measure(nginx, nginx.port, script),
                            None,
                            load_seconds,
                        )
                    for endpoint in ("directory", "dialplan"):
                        script = self.workdir / f"fsctl-{size.label}-{endpoint}-{workers}.lua"
                        write_script(script, scripts[endpoint], fsctl.port)
                        print(f"   {endpoint}, {workers} worker(s) ...", flush=True)
                        figures = self.measure(fsctl, fsctl.port, script)
                        self._row(size, endpoint, workers, figures, checks[endpoint], load_seconds)
                finally:
                    fsctl.stop()
        finally:
            if nginx is not None:
                nginx.stop()
        print(f"   ({time.perf_counter() - started:.0f} s for this size)", flush=True)

    def _row(
        self,
        size: Size,
        endpoint: str,
        workers: int | None,
        figures: dict,
        check: dict | None,
        load_seconds: float,
    ) -> None:
        row = {
            "size": size.label,
            "tenants": size.tenants,
            "users_per_tenant": size.users,
            "endpoint": endpoint,
            "workers": workers,
            "load_seconds": round(load_seconds, 1),
            **figures,
        }
        if check is not None:
            row["answers"] = {k: check[k] for k in ("found", "not_found", "failed", "median_bytes")}
        self.rows.append(row)
        self._judge(row)

    def _judge(self, row: dict) -> None:
        if row["endpoint"] == "nginx static":
            row["ratio"], row["result"] = 1.0, "ceiling"
            return
        ceiling = next(r for r in self.rows if r["size"] == row["size"] and r["endpoint"] == "nginx static")
        row["ratio"] = round(row["rps"] / ceiling["rps"], 3) if ceiling["rps"] else 0.0
        target = TARGETS[row["endpoint"]]
        row["target"] = target
        answers = row["answers"]
        if answers["found"] == 0:
            row["result"] = "not available (every answer is not found)"
        elif row["ratio"] >= target["ratio"] and row["p99_ms"] <= target["p99_ms"] and row["errors"] == 0:
            row["result"] = "PASS"
        else:
            misses = []
            if row["ratio"] < target["ratio"]:
                misses.append(f"ratio < {target['ratio']}")
            if row["p99_ms"] > target["p99_ms"]:
                misses.append(f"p99 > {target['p99_ms']:g} ms")
            if row["errors"]:
                misses.append(f"{row['errors']} errors")
            row["result"] = "FAIL: " + ", ".join(misses)


def table(rows: list[dict], config: dict) -> str:
    lines = [
        f"wrk {config['threads']} threads, {config['connections']} connections, {config['seconds']} s per endpoint"
        f" (+{config['warmup']} s warm-up), new connection per request (Connection: close); {os.cpu_count()} CPUs",
        f"targets: directory ratio >= {TARGETS['directory']['ratio']} and p99 <= {TARGETS['directory']['p99_ms']:g} ms;"
        f" dialplan ratio >= {TARGETS['dialplan']['ratio']} and p99 <= {TARGETS['dialplan']['p99_ms']:g} ms",
        "",
        f"{'size':<10} {'endpoint':<13} {'workers':>7} {'req/s':>9} {'p50 ms':>7} {'p99 ms':>7} {'ratio':>6}"
        f" {'cpu us':>6} {'errors':>6} {'found':>9}  result",
    ]
    for r in rows:
        answers = r.get("answers")
        found = (
            f"{answers['found']}/{answers['found'] + answers['not_found'] + answers['failed']}"
            if answers
            else "-"
        )
        lines.append(
            f"{r['size']:<10} {r['endpoint']:<13} {r['workers'] or '-':>7} {r['rps']:>9.0f} {r['p50_ms']:>7.2f}"
            f" {r['p99_ms']:>7.2f} {r['ratio']:>6.2f} {r.get('cpu_us_per_request', 0):>6.0f} {r['errors']:>6}"
            f" {found:>9}  {r['result']}"
        )
    return "\n".join(lines)


def main() -> int:
    # `kill`/`timeout` end the run through the finally blocks below, which stop every server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    config = settings()
    shutil.rmtree(LOGS, ignore_errors=True)
    tools = ensure_tools()
    workdir = Path(tempfile.mkdtemp(prefix="kumo-bench-"))
    database = BenchDatabase(workdir, os.environ.get("DATABASE_URL"))
    bench = Bench(config, tools, workdir)
    print(
        f"kumo bench: sizes {', '.join(s.label for s in config['sizes'])}; fsctl workers"
        f" {', '.join(map(str, config['workers']))}; {database.kind}; work dir {workdir}",
        flush=True,
    )
    try:
        for size in config["sizes"]:
            bench.size(size, database.new(size), database.kind)
    finally:
        try:
            database.drop_all()
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    report = table(bench.rows, config)
    print("\n" + report)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(
        json.dumps(
            {
                "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "machine": {
                    "cpus": os.cpu_count(),
                    "platform": platform.platform(),
                    "python": sys.version.split()[0],
                },
                "database": database.kind,
                "settings": {k: ([s.label for s in v] if k == "sizes" else v) for k, v in config.items()},
                "targets": TARGETS,
                "results": bench.rows,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"\nfigures written to {OUT}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
