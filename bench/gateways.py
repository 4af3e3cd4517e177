"""`python -m bench.gateways` (part of `make bench`): what customer gateways add to the lookup hot path.

On a throw-away database (SQLite file, or a throw-away PostgreSQL database on the server of
DATABASE_URL) with BENCH_GW_TENANTS tenants (default 200), each with 20 users, a registering gateway
and a static one carrying 10 numbers each, it answers in process (ServiceApp.handle, no network):
a phone's REGISTER digest lookup (the baseline), a registering gateway's, the ACL token user of a
static gateway, the ACL network list (every static gateway of the platform), and dialplan lookups of a
call in from a gateway and of a phone's call out through one (snapshot cached, and on a config change).

Goal: a gateway's directory and dialplan lookups cost at most 1.5x the phone's (one indexed query
each); the network list (asked once per ACL load) under 50 ms for the whole platform.
Knobs: BENCH_GW_TENANTS=200, BENCH_GW_REQUESTS=2000.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from bench.dataset import BenchDatabase, Size
from fsctl import db, migrate, models
from fsctl.config import Settings
from fsctl.gateways.contexts import ACL_DOMAIN
from fsctl.wiring import tenant_file
from fsctl.xmlcurl.app import ServiceApp
from fsctl.xmlcurl.store import LookupStore

OUT = Path(__file__).resolve().parent / "out" / "gateways.json"
FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "data" / "freeswitch" / "xml_curl"
RATIO_GOAL = 1.5
NETWORK_LIST_GOAL_MS = 50.0


def _tenant(index: int) -> dict:
    domain = f"t{index}.bench.test"
    base = 300000 + index * 20
    doc = {
        "domain": domain,
        "name": f"Tenant {index}",
        "status": "active",
        "outbound_via": "honsha",
        "users": [
            {"extension": str(1000 + u), "name": f"User {u}", "password": f"Bench-{u}-password"}
            for u in range(20)
        ],
        "ring_groups": [{"name": "all", "members": [str(1000 + u) for u in range(5)]}],
        "gateways": [
            {
                "name": "honsha",
                "password": "Bench-gw-password",
                "channels": 8,
                "numbers": [
                    {"number": f"03{base + n:08d}", "destination": {"ring_group": "all"}} for n in range(10)
                ],
            },
            {
                "name": "shiten",
                "address": f"198.51.{index // 250}.{index % 250 + 1}",
                "channels": 4,
                "numbers": [
                    {"number": f"06{base + n:08d}", "destination": {"user": "1000"}} for n in range(10)
                ],
            },
        ],
    }
    doc["users"][1]["outbound_via"] = "carrier"  # 1001 leaves through the carrier, the others the gateway
    return doc


def _directory(fixture: str, user: str, domain: str) -> bytes:
    body = (FIXTURES / fixture).read_bytes()
    return body.replace(b"acme.example", domain.encode()).replace(b"=1001&", f"={user}&".encode())


def _dialplan(context: str, destination: str, extra: dict[str, str]) -> bytes:
    body = (FIXTURES / "dialplan-bridge-1002.txt").read_text()
    fields = {
        "Hunt-Context": context,
        "Caller-Context": context,
        "Hunt-Destination-Number": destination,
        "Caller-Destination-Number": destination,
        **extra,
    }
    for key, value in fields.items():
        body += f"&{key}={quote(value)}"  # the last value of a repeated key wins (FormFields)
    return body.encode()


def _time(app: ServiceApp, bodies: list[bytes], requests: int, cold: bool = False) -> dict:
    samples = []
    for i in range(requests):
        body = bodies[i % len(bodies)]
        if cold:  # as after a configuration change: the tenant's routing snapshot is reloaded
            app.dialplan.cache = type(app.dialplan.cache)(app.dialplan.cache.max_entries)
        started = time.perf_counter()
        response = app.handle("POST", "/fs/xml", {}, body)
        samples.append((time.perf_counter() - started) * 1e6)
        assert response.status == 200 and b"not found" not in response.body, body[:80]
    samples.sort()
    return {
        "p50_us": round(statistics.median(samples), 1),
        "p95_us": round(samples[int(len(samples) * 0.95)], 1),
    }


def main() -> int:
    tenants = int(os.environ.get("BENCH_GW_TENANTS", "200"))
    requests = int(os.environ.get("BENCH_GW_REQUESTS", "2000"))
    with tempfile.TemporaryDirectory() as workdir:
        databases = BenchDatabase(Path(workdir), os.environ.get("DATABASE_URL"))
        try:
            url = databases.new(Size(tenants, 20))
            migrate.upgrade(url)
            engine = db.make_engine(url)
            factory = db.make_session_factory(engine)
            started = time.perf_counter()
            for index in range(tenants):
                with db.session_scope(factory) as session:
                    tenant_file().apply(session, _tenant(index))
            setup_s = time.perf_counter() - started
            with factory() as session:
                static_ids = [
                    g.id for g in session.query(models.Gateway).filter_by(auth=models.GatewayAuth.ADDRESS)
                ]
                registering = {
                    g.tenant_id: g.id for g in session.query(models.Gateway).filter_by(name="honsha")
                }
                domains = {t.id: t.domain for t in session.query(models.Tenant)}
            app = ServiceApp(Settings(database_url=url, xml_curl_auth="off"), LookupStore(engine=engine))
            picks = list(domains.items())[: min(50, tenants)]
            results = {
                "phone_register": _time(
                    app,
                    [_directory("directory-sip_auth-register.txt", "1001", d) for _, d in picks],
                    requests,
                ),
                "gateway_register": _time(
                    app,
                    [_directory("directory-sip_auth-register.txt", "honsha", d) for _, d in picks],
                    requests,
                ),
                "gateway_acl_user": _time(
                    app,
                    [_directory("directory-user_exists.txt", f"gw{i}", ACL_DOMAIN) for i in static_ids[:50]],
                    requests,
                ),
                "network_list": _time(
                    app,
                    [
                        (FIXTURES / "directory-network-list.txt")
                        .read_bytes()
                        .replace(b"acme.example", ACL_DOMAIN.encode())
                    ],
                    max(20, requests // 100),
                ),
                "phone_out_carrier_cached": _time(
                    app,
                    [
                        _dialplan(
                            d,
                            "0312349999",
                            {
                                "variable_domain_name": d,
                                "variable_user_name": "1001",
                                "variable_sip_auth_username": "1001",
                            },
                        )
                        for _, d in picks[:1]
                    ],
                    requests,
                ),
            }
            # Out through the gateway and in from it: the same tenants, snapshots cached after the first.
            results["phone_out_gateway_cached"] = _time(
                app,
                [
                    _dialplan(
                        d,
                        "0312349999",
                        {
                            "variable_domain_name": d,
                            "variable_user_name": "1001",
                            "variable_sip_auth_username": "1001",
                        },
                    )
                    for _, d in picks
                ],
                requests,
            )
            in_bodies = []
            for tid, domain in picks:
                index = int(domain[1:].split(".")[0])
                number = f"03{300000 + index * 20:08d}"
                in_bodies.append(
                    _dialplan(
                        f"gw_{registering[tid]}.{domain}",
                        number,
                        {"variable_kumo_gateway_id": str(registering[tid])},
                    )
                )
            results["gateway_in_cached"] = _time(app, in_bodies, requests)
            results["gateway_in_snapshot_reload"] = _time(app, in_bodies, max(50, requests // 10), cold=True)
            phone_bodies = [
                _dialplan(
                    d,
                    "0312349999",
                    {
                        "variable_domain_name": d,
                        "variable_user_name": "1002",
                        "variable_sip_auth_username": "1002",
                    },
                )
                for _, d in picks
            ]
            results["phone_out_gateway_snapshot_reload"] = _time(
                app, phone_bodies, max(50, requests // 10), cold=True
            )
            app.store.reset()
            engine.dispose()
        finally:
            databases.drop_all()
    ratio_dir = results["gateway_register"]["p50_us"] / results["phone_register"]["p50_us"]
    network_ms = results["network_list"]["p95_us"] / 1000
    report = {
        "database": databases.kind,
        "tenants": tenants,
        "setup_seconds": round(setup_s, 1),
        "results": results,
        "gateway_vs_phone_directory_p50": round(ratio_dir, 2),
        "goal": {"ratio": RATIO_GOAL, "network_list_ms": NETWORK_LIST_GOAL_MS},
        "met": ratio_dir <= RATIO_GOAL and network_ms <= NETWORK_LIST_GOAL_MS,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"customer gateways on {databases.kind}, {tenants} tenants ({2 * tenants} gateways):")
    for name, value in results.items():
        print(f"  {name:26s} p50 {value['p50_us']:8.1f} us   p95 {value['p95_us']:8.1f} us")
    print(
        f"  gateway/phone directory p50 ratio {ratio_dir:.2f} (goal <= {RATIO_GOAL}); network list p95 "
        f"{network_ms:.1f} ms (goal <= {NETWORK_LIST_GOAL_MS:.0f} ms): {'met' if report['met'] else 'NOT MET'}"
    )
    return 0 if report["met"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
