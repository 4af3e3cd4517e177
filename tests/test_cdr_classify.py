"""Classification of call legs (SYNTHETIC CDRs built from the captured JSON) and rating to the yen."""

from __future__ import annotations

import datetime as dt

import pytest
from cdr_helpers import lab_tenant, synthetic_leg
from kumo_support import tenant_doc
from sqlalchemy import select

from fsctl import db, models
from fsctl.billing.prices import default_prices, load_prices, parse_prices
from fsctl.billing.rating import rate_call, rate_unrated
from fsctl.cdr.parse import parse_json
from fsctl.cdr.store import CdrStore
from fsctl.wiring import tenant_file

BETA_NUMBER = "0312340000"


@pytest.fixture
def store(engine, session_factory):
    with db.session_scope(session_factory) as session:
        tenant_file().apply(session, lab_tenant(international_calls=True))
        tenant_file().apply(
            session,
            tenant_doc(
                domain="beta.example",
                users=[{"extension": "201", "name": "B", "password": "Str0ng-201-pass"}],
                numbers=[{"number": BETA_NUMBER, "destination": {"user": "201"}}],
                ring_groups=[],
            ),
        )
    return CdrStore(engine, session_factory)


def stored(session_factory, uuid: str) -> models.CallRecord:
    with session_factory() as session:
        return session.scalar(select(models.CallRecord).where(models.CallRecord.uuid == uuid))


def uid(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


@pytest.mark.parametrize(
    ("dialled", "call_class", "direction", "remote"),
    [
        ("1002", "internal", "internal", "1002"),
        ("0312345678", "internal", "internal", "0312345678"),  # the tenant's own number
        ("0612345679", "fixed", "out", "0612345679"),
        ("1840612345679", "fixed", "out", "0612345679"),  # 184: caller ID withheld, same class
        ("09012345678", "mobile", "out", "09012345678"),
        ("05012345678", "ip", "out", "05012345678"),
        ("0120123456", "toll_free", "out", "0120123456"),
        ("01044207123456", "international", "out", "+44207123456"),
        ("+81612345679", "fixed", "out", "0612345679"),
        ("110", "emergency", "out", "110"),
        (BETA_NUMBER, "on_net", "out", BETA_NUMBER),
        ("*98", "feature", "internal", "*98"),
        ("0570123456", "service", "out", "0570123456"),
    ],
)
def test_phone_calls_are_classified_like_routing(
    store, session_factory, dialled, call_class, direction, remote
):
    store.store(parse_json(synthetic_leg(uid(1), dialled, billsec=30)), "http")
    row = stored(session_factory, uid(1))
    assert (row.call_class, row.direction, row.remote, row.extension) == (
        call_class,
        direction,
        remote,
        "1001",
    )
    assert row.user_id is not None
    # Outbound calls are linked to the number presented: 1001's caller ID.
    assert row.number == ("0312345678" if direction == "out" else None)


def test_inbound_call_from_the_carrier(store, session_factory):
    leg = synthetic_leg(uid(2), "+81312345678", billsec=40, context="public", caller="+819011112222")
    store.store(parse_json(leg), "http")
    row = stored(session_factory, uid(2))
    assert (row.call_class, row.direction, row.number, row.caller) == (
        "inbound",
        "in",
        "0312345678",
        "+819011112222",
    )
    with session_factory() as session:
        acme = session.scalar(select(models.Tenant.id).where(models.Tenant.domain == "acme.example"))
    assert row.tenant_id == acme


def test_forward_to_external_is_charged_on_the_carrier_leg(store, session_factory, engine):
    # An inbound call to the DID forwarded to a mobile: the B leg to the carrier gateway is the cost.
    leg = synthetic_leg(
        uid(3),
        "+81312345678",
        billsec=61,
        context="public",
        caller="+819011112222",
        b_leg_of=uid(30),
        variables={"sip_gateway_name": "carrier", "sip_req_user": "+819033334444"},
    )
    store.store(parse_json(leg), "http")
    # A phone dialling a mobile itself: its B leg to the carrier is not charged again.
    direct = synthetic_leg(
        uid(4),
        "09033334444",
        billsec=61,
        b_leg_of=uid(40),
        variables={
            "sip_gateway_name": "carrier",
            "sip_req_user": "+819033334444",
            "domain_name": "acme.example",
        },
    )
    store.store(parse_json(direct), "http")
    rate_unrated(engine, default_prices())
    forward, b_of_direct = stored(session_factory, uid(3)), stored(session_factory, uid(4))
    assert (forward.call_class, forward.direction, forward.remote, forward.charge_yen) == (
        "mobile",
        "out",
        "09033334444",
        32,
    )
    assert forward.tenant_id is not None
    assert (b_of_direct.call_class, b_of_direct.charge_yen) == ("leg", 0)


def test_customer_gateway_calls_rate_zero(store, session_factory, engine):
    leg = synthetic_leg(uid(5), "09012345678", billsec=600, variables={"kumo_gateway": "acme-pbx"})
    store.store(parse_json(leg), "http")
    rate_unrated(engine, default_prices())
    row = stored(session_factory, uid(5))
    assert (row.call_class, row.gateway, row.charge_yen) == ("mobile", "acme-pbx", 0)


CASES = [
    # (dialled, billsec, yen): fixed 8 yen per started 3 minutes, mobile 16 per started minute
    ("0612345679", 0, 0),
    ("0612345679", 1, 8),
    ("0612345679", 180, 8),
    ("0612345679", 181, 16),
    ("0612345679", 3600, 160),
    ("09012345678", 1, 16),
    ("09012345678", 60, 16),
    ("09012345678", 61, 32),
    ("05012345678", 181, 16),  # 050 at the fixed rate
    ("01044207123456", 61, 60),  # UK: 30 yen per started minute
    ("01012125551234", 60, 20),  # US/Canada
    ("0108862212345678", 30, 30),  # Taiwan (886) before any shorter code
    ("01020212345678", 120, 120),  # Egypt: not listed -> default 60 yen per minute
    (BETA_NUMBER, 3600, 0),  # on-net
    ("1002", 3600, 0),
    ("0120123456", 600, 0),
    ("110", 600, 0),
]


def test_rating_is_exact_integer_yen_in_sql_and_python(store, session_factory, engine):
    unrated = CdrStore(engine, session_factory, rate_on_intake=False)
    for n, (dialled, billsec, _yen) in enumerate(CASES):
        unrated.store(parse_json(synthetic_leg(uid(100 + n), dialled, billsec=billsec)), "http")
        # The same legs rated on intake (the service's path) must cost the same.
        store.store(parse_json(synthetic_leg(uid(300 + n), dialled, billsec=billsec)), "http")
        assert stored(session_factory, uid(300 + n)).charge_yen == CASES[n][2], dialled
    assert rate_unrated(engine, default_prices()) == len(CASES)
    assert rate_unrated(engine, default_prices()) == 0  # rated once
    for n, (dialled, billsec, yen) in enumerate(CASES):
        row = stored(session_factory, uid(100 + n))
        assert row.charge_yen == yen, (dialled, billsec)
        assert isinstance(row.charge_yen, int)
        python = rate_call(
            default_prices(),
            row.call_class,
            row.remote,
            row.billsec,
            row.started_at.replace(tzinfo=dt.UTC),
            row.gateway,
        )
        assert python == yen


def test_a_price_change_applies_from_its_day(store, session_factory, engine):
    raw = {"periods": [dict(p) for p in _raw_periods()]}
    later = dict(raw["periods"][0])
    later["from"] = dt.date(2026, 12, 1)
    later["calls"] = {**later["calls"], "fixed": {"unit_seconds": 180, "yen": 10}}
    raw["periods"].append(later)
    prices = parse_prices(raw)
    # 2026-11-30 23:59 JST = 14:59 UTC (old price); 2026-12-01 00:00:30 JST = 2026-11-30 15:00:30 UTC.
    store.store(
        parse_json(synthetic_leg(uid(200), "0612345679", billsec=10, start="2026-11-30 14:59:00")), "http"
    )
    store.store(
        parse_json(synthetic_leg(uid(201), "0612345679", billsec=10, start="2026-11-30 15:00:30")), "http"
    )
    assert rate_unrated(engine, prices) == 0  # rated on intake with the default prices
    with engine.begin() as conn:
        conn.execute(models.CallRecord.__table__.update().values(charge_yen=None))
    rate_unrated(engine, prices)
    assert stored(session_factory, uid(200)).charge_yen == 8
    assert stored(session_factory, uid(201)).charge_yen == 10


def _raw_periods():
    import yaml

    from fsctl.billing.prices import DEFAULT_PRICES

    return yaml.safe_load(DEFAULT_PRICES.read_text(encoding="utf-8"))["periods"]


def test_price_file_is_validated(tmp_path):
    bad = tmp_path / "prices.yaml"
    bad.write_text("periods:\n  - from: 2026-01-01\n    calls: {fixed: {unit_seconds: 180, yen: 8.5}}\n")
    with pytest.raises(ValueError, match="yen"):
        load_prices(bad)


def test_internal_call_forwarded_to_a_mobile_is_charged_on_its_carrier_leg(store, session_factory, engine):
    # 1001 dials 1002, whose "always" forward goes to a mobile: the B leg to the carrier is the cost.
    leg = synthetic_leg(
        uid(6),
        "1002",
        billsec=125,
        b_leg_of=uid(60),
        variables={"sip_gateway_name": "carrier", "sip_req_user": "+819055556666"},
    )
    store.store(parse_json(leg), "http")
    row = stored(session_factory, uid(6))
    assert (row.call_class, row.direction, row.remote, row.charge_yen) == ("mobile", "out", "09055556666", 48)
    assert row.number == "0312345678"  # shown with the tenant's representative number


def test_batched_rating_covers_every_unrated_leg(store, session_factory, engine, monkeypatch):
    from fsctl.billing import rating

    monkeypatch.setattr(rating, "BATCH", 3)  # several id ranges (in parallel on PostgreSQL)
    unrated = CdrStore(engine, session_factory, rate_on_intake=False)
    for n, (dialled, billsec, _yen) in enumerate(CASES):
        unrated.store(parse_json(synthetic_leg(uid(400 + n), dialled, billsec=billsec)), "http")
    assert rating.rate_unrated(engine, default_prices()) == len(CASES)
    assert [stored(session_factory, uid(400 + n)).charge_yen for n in range(len(CASES))] == [
        c[2] for c in CASES
    ]


def test_forward_after_a_carrier_calls_continuation_is_charged_to_the_contexts_tenant(
    store, session_factory, engine
):
    # A carrier call that rang 1001, then went on (no answer) in public_<domain> to a mobile: the
    # continuation's context names the tenant that forwarded it.
    leg = synthetic_leg(
        uid(5),
        "kumo-after-1001-NO_ANSWER",
        billsec=61,
        context="public_acme.example",
        caller="+819011112222",
        b_leg_of=uid(50),
        variables={"sip_gateway_name": "carrier", "sip_req_user": "+819033334444", "domain_name": ""},
    )
    store.store(parse_json(leg), "http")
    rate_unrated(engine, default_prices())
    forward = stored(session_factory, uid(5))
    assert (forward.call_class, forward.direction, forward.remote, forward.charge_yen) == (
        "mobile",
        "out",
        "09033334444",
        32,
    )
