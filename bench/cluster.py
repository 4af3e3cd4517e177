"""REGISTERs per second through Kamailio and two nodes against one node alone: `python -m bench.cluster`
(`make bench-cluster`).

The cluster is the end-to-end tests' own (tests/e2e/cluster.py): Kamailio on 127.0.0.1 in front of
node-a (127.0.0.2) and node-b (127.0.0.3), each a FreeSWITCH deployed from freeswitch/, one
`fsctl serve` connected to both (users `cacheable`, FSCTL_DIRECTORY_CACHE_MS=60000, as `make
bench-switch`'s `kumo` variant). Two tenants of BENCH_CLUSTER_USERS users each, one per node.

- `one_node`: SIPp REGISTERs (digest, challenged once) straight to node-a's internal profile for
  node-a's tenant: one switch alone, the ceiling a single FreeSWITCH gives.
- `cluster`: the same load through Kamailio for both tenants alternately: Kamailio looks each
  REGISTER's domain up in kumo's view, adds Path and sends it to its tenant's node.

Each variant runs at rising offered rates (BENCH_CLUSTER_RATES, REGISTERs/s) for
BENCH_CLUSTER_SECONDS each; a rate counts as carried when at least 99% of its REGISTERs got 200 at
95% of the offered rate or more.
CPU of each part (Kamailio's processes, each FreeSWITCH, kumo and its workers; user+system from
/proc) over a run is divided by the REGISTERs answered. Everything runs on this machine, SIPp
included: with 2 cores the nodes cannot run in parallel on cores of their own, which is what
limits the cluster's gain here (bench/README.md).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from e2e import switch as fs  # noqa: E402
from e2e.cluster import KAMAILIO_IP, Cluster, build_cluster, kamailio_unavailable  # noqa: E402
from e2e.conftest import throwaway_database  # noqa: E402
from e2e.phones import free_udp_port  # noqa: E402
from e2e.tenants import Tenant  # noqa: E402

from bench.switch import SCENARIO, _cpu_seconds, _family  # noqa: E402

DOMAINS = {"node-a": "bench-a.cluster.test", "node-b": "bench-b.cluster.test"}


def _tenant(domain: str, users: int) -> Tenant:
    return Tenant(
        {
            "domain": domain,
            "name": domain.split(".")[0],
            "timezone": "Asia/Tokyo",
            "status": "active",
            "users": [
                {"extension": str(1000 + i), "name": f"U{i}", "password": f"Bench-{domain}-{i}-pass"}
                for i in range(users)
            ],
        }
    )


def _csv(workdir: Path, tenants: list[Tenant]) -> Path:
    """The users of `tenants`, interleaved, as register_csv.xml's -inf file."""
    rows = zip(
        *([(u["extension"], t.domain, u["password"]) for u in t.doc["users"]] for t in tenants), strict=True
    )
    lines = [
        f"{ext};{dom};[authentication username={ext} password={pw}]\n" for row in rows for ext, dom, pw in row
    ]
    path = workdir / f"users-{len(tenants)}.csv"
    path.write_text("SEQUENTIAL\n" + "".join(lines))
    return path


def _sipp(workdir: Path, registrar: str, users: Path, rate: int, count: int) -> int:
    """`count` REGISTERs at `rate`/s from one SIPp; how many got 200."""
    stats = workdir / f"stats-{rate}-{time.monotonic_ns()}.csv"
    args = ["sipp", "-sf", str(SCENARIO), "-inf", str(users), "-i", KAMAILIO_IP, "-p", str(free_udp_port())]
    args += ["-r", str(rate), "-m", str(count), "-l", str(rate * 4), "-nostdin", "-timeout", "120s"]
    args += ["-trace_stat", "-stf", str(stats), registrar]
    subprocess.run(args, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    lines = stats.read_text().splitlines()
    header, last = lines[0].split(";"), lines[-1].split(";")
    return int(last[header.index("SuccessfulCall(C)")])


def _parts(cluster: Cluster, with_kamailio: bool) -> dict[str, list[int]]:
    parts = {name: [node.switch.pid] for name, node in cluster.nodes.items()}
    parts["kumo"] = _family(cluster.kumo.proc.pid)
    if with_kamailio:
        parts["kamailio"] = _family(cluster.kamailio.proc.pid)
    return parts


def _run(cluster: Cluster, workdir: Path, variant: str, rate: int, seconds: int) -> dict:
    if variant == "one_node":
        node = cluster.nodes["node-a"]
        registrar, users = f"{node.ip}:{node.sip_port}", _csv(workdir, [_TENANTS["node-a"]])
    else:
        registrar, users = cluster.kamailio.address, _csv(workdir, list(_TENANTS.values()))
    parts = _parts(cluster, variant == "cluster")
    before = {pid: _cpu_seconds(pid) for pids in parts.values() for pid in pids}
    started = time.monotonic()
    count = rate * seconds
    ok = _sipp(workdir, registrar, users, rate, count)
    wall = time.monotonic() - started
    per = max(ok, 1)
    cpu = {
        part: round(1000 * sum(_cpu_seconds(pid) - before[pid] for pid in pids) / per, 3)
        for part, pids in parts.items()
    }
    return {
        "variant": variant,
        "offered_per_second": rate,
        "registers": count,
        "registers_ok": ok,
        # all but 1% answered 200, at (nearly) the rate offered: SIPp slows down when answers lag
        "carried": ok >= 0.99 * count and ok / wall >= 0.95 * rate,
        "answered_per_second": round(ok / wall, 1),
        "cpu_ms_per_register": cpu,
    }


_TENANTS: dict[str, Tenant] = {}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=int(os.environ.get("BENCH_CLUSTER_USERS", "200")))
    parser.add_argument(
        "--rates", default=os.environ.get("BENCH_CLUSTER_RATES", "100,200,300,350,400,450,500")
    )
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("BENCH_CLUSTER_SECONDS", "8")))
    args = parser.parse_args(argv)
    located = fs.locate()
    reason = located.reason or ("" if fs.have_sipp() else "no sipp") or kamailio_unavailable()
    if reason:
        print(f"bench.cluster: skipped: {reason}")
        return 0
    rates = [int(r) for r in args.rates.split(",") if r.strip()]
    _TENANTS.update({node: _tenant(domain, args.users) for node, domain in DOMAINS.items()})
    results = []
    with tempfile.TemporaryDirectory(prefix="kumo-bench-cluster-") as tmp:
        workdir = Path(tmp)
        databases = throwaway_database(workdir, "kumo_bench_cluster")
        database_url = next(databases)
        clusters = build_cluster(
            workdir,
            database_url,
            {node: [tenant] for node, tenant in _TENANTS.items()},
            kamailio_options=("--pike-density", "100000", "--children", "4", "--log-level", "1"),
            kumo_env={"FSCTL_DIRECTORY_CACHE_MS": "60000"},
        )
        try:
            cluster = next(clusters)
            for variant in ("one_node", "cluster"):
                _run(cluster, workdir, variant, min(rates), 3)  # warm-up: first lookups, caches
                for rate in rates:
                    result = _run(cluster, workdir, variant, rate, args.seconds)
                    results.append(result)
                    print(json.dumps(result), file=sys.stderr)
                    if not result["carried"]:
                        break
        finally:
            clusters.close()
            databases.close()
    best = {
        v: max((r["answered_per_second"] for r in results if r["variant"] == v and r["carried"]), default=0)
        for v in ("one_node", "cluster")
    }
    report = {
        "database": "postgresql" if "postgresql" in database_url else "sqlite",
        "users_per_tenant": args.users,
        "cores": os.cpu_count(),
        "carried_per_second": best,
        "cluster_over_one_node": round(best["cluster"] / best["one_node"], 2) if best["one_node"] else None,
        "results": results,
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
