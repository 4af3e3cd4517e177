"""Dialplan lookups measured in-process: CPU µs per lookup, snapshot hits and misses, and a profile.

`python -m bench.dialplan_inproc` builds (or reuses) the bench data set as a SQLite file, then replays
the same carrier-call bodies as `make bench` (bench/load.py) straight through
`DialplanResponder.answer`, without HTTP or wrk: steadier than wrk on a shared machine. It prints CPU
µs per lookup for a cold pass (every tenant a snapshot miss), a warm pass, and the mix of `make bench`
(random tenants, the per-worker snapshot cache of its default size), and with BENCH_PROFILE=1 the
top functions of a cProfile of the misses.

Knobs: BENCH_SIZES (10000x100), BENCH_BODIES (20000), BENCH_DB (a file to keep the data set in,
default bench/out/inproc-<size>.sqlite3), BENCH_CACHE_TENANTS (the settings' default),
BENCH_PROFILE (0).
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import random
import time
from pathlib import Path

from bench.dataset import Size, load, parse_sizes
from bench.load import dialplan_bodies
from fsctl.config import Settings
from fsctl.xmlcurl.app import parse_form
from fsctl.xmlcurl.dialplan import DialplanResponder
from fsctl.xmlcurl.store import LookupStore

OUT = Path(__file__).resolve().parent / "out"


class _Counting:
    """Wraps a snapshot cache to count hits and misses."""

    def __init__(self, inner):
        self.inner = inner
        self.hits = 0
        self.misses = 0

    def get(self, key):
        value = self.inner.get(key)
        if value is None:
            self.misses += 1
        else:
            self.hits += 1
        return value

    def put(self, key, value) -> None:
        self.inner.put(key, value)


def _pass(responder: DialplanResponder, forms: list, label: str) -> None:
    cache = responder.snapshots.cache
    hits, misses = cache.hits, cache.misses
    found = 0
    started = time.process_time()
    for fields in forms:
        if responder.answer(fields) is not None:
            found += 1
    spent = time.process_time() - started
    print(
        f"{label:<34} {len(forms):>7} lookups {spent / len(forms) * 1e6:>9.1f} µs CPU each"
        f"  snapshot hits {cache.hits - hits:>7} misses {cache.misses - misses:>7}  found {found}"
    )


def inproc_database(size: Size) -> str:
    """The URL of the in-process benches' SQLite data set (BENCH_DB, else bench/out), loaded if new."""
    OUT.mkdir(exist_ok=True)
    path = Path(os.environ.get("BENCH_DB", "") or OUT / f"inproc-{size.label}.sqlite3")
    url = f"sqlite:///{path}"
    if not path.exists():
        print(f"loading {size.title} into {path} ...")
        print(f"loaded in {load(url, size):.1f} s")
    return url


def main() -> int:
    size = parse_sizes(os.environ.get("BENCH_SIZES", "") or "10000x100")[0]
    count = int(os.environ.get("BENCH_BODIES", "") or 20_000)
    url = inproc_database(size)
    settings = Settings(database_url=url)
    tenants_cached = int(os.environ.get("BENCH_CACHE_TENANTS", "") or settings.dialplan_cache_tenants)
    rng = random.Random(7)
    forms = [parse_form(body) for body in dialplan_bodies(size, count, rng)]
    store = LookupStore(url)
    from fsctl.wiring import snapshots
    from fsctl.xmlcurl.store import LruCache

    def responder(entries: int) -> DialplanResponder:
        return DialplanResponder(
            store, settings, snapshots=snapshots(_Counting(LruCache(max_entries=entries)))
        )

    print(f"{size.title}, {count} bodies, snapshot cache {tenants_cached} tenants")
    # Cold then warm: a cache that holds every tenant, so the first pass misses once per tenant.
    distinct = sorted({f["Hunt-Destination-Number"] for f in forms})
    first = {}
    for fields in forms:
        first.setdefault(fields["Hunt-Destination-Number"], fields)
    cold_forms = [first[d] for d in distinct][:2000]
    everything = responder(size.tenants + 1)
    _pass(everything, cold_forms, "cold (every lookup a miss)")
    _pass(everything, cold_forms, "warm (every lookup a hit)")
    mixed = responder(tenants_cached)
    _pass(mixed, forms, f"make bench mix, LRU {tenants_cached}")
    _pass(mixed, forms, f"make bench mix again, LRU {tenants_cached}")
    if os.environ.get("BENCH_PROFILE", "0") == "1":
        profiled = responder(size.tenants + 1)
        profiler = cProfile.Profile()
        profiler.enable()
        for fields in cold_forms[:1000]:
            profiled.answer(fields)
        profiler.disable()
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(35)
        print(text.getvalue())
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(20)
        print(text.getvalue())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
