"""Announcements (a number or an IVR option plays one of the tenant's uploads) and the tenant's prompt
language (what callers hear), through the real dialplan answers to the captured lookups."""

from __future__ import annotations

import datetime as dt
import urllib.parse

import pytest
from lxml import etree
from planners import plan_continuation
from sqlalchemy import select

from fsctl import db, models
from fsctl.routing.snapshot import Dest, IvrSnap, TenantSnap, UserSnap
from fsctl.tenant_file import ConfigError
from fsctl.trace import format_text
from fsctl.wiring import tenant_file
from fsctl.xmlcurl.dialplan import DialplanResponder
from fsctl.xmlcurl.store import LookupStore

TUESDAY_10 = dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)
HOURS = "${kumo_audio_dir}/acme.kumo.test/hours.wav"
MAIN = {
    "name": "main",
    "options": {"1": {"user": "101"}, "3": {"announcement": "hours"}},
    "timeout_destination": {"announcement": "goodbye"},
}


@pytest.fixture
def responder(engine, settings):
    store = LookupStore(engine=engine)
    yield DialplanResponder(store, settings, clock=lambda: TUESDAY_10)
    store.reset()


@pytest.fixture
def uploads(make_tenant, session_factory):
    """The acme tenant with two uploaded announcements (rows as fsctl.media.audio.store_upload writes)."""
    domain = make_tenant()
    with db.session_scope(session_factory) as session:
        tenant_id = session.scalar(select(models.Tenant.id).where(models.Tenant.domain == domain))
        session.add_all([models.AudioFile(tenant_id=tenant_id, name=n) for n in ("hours", "goodbye")])
    return domain


def call(fixtures_dir, destination: str, **variables: str) -> dict[str, str]:
    body = (fixtures_dir / "xml_curl" / "dialplan-loopback-public-9196.txt").read_text()
    fields = dict(urllib.parse.parse_qsl(body, keep_blank_values=True))
    fields["Hunt-Destination-Number"] = fields["Caller-Destination-Number"] = destination
    if destination.startswith("kumo-"):
        # The second hunt of a carrier call is in its tenant's public_<domain> context.
        fields["Hunt-Context"] = "public_acme.kumo.test"
    fields.update({f"variable_{k}": v for k, v in variables.items()})
    return fields


def actions(document: bytes) -> list[tuple[str, str]]:
    return [(a.get("application"), a.get("data") or "") for a in etree.fromstring(document).iter("action")]


def continuation_of(acts: list[tuple[str, str]]) -> str:
    return next(d for a, d in acts if a == "set" and d.startswith("kumo_continuation=")).split("=", 1)[1]


def test_a_number_can_play_an_announcement_then_hang_up(uploads, make_tenant, responder, fixtures_dir):
    make_tenant(numbers=[{"number": "0312345678", "destination": {"announcement": "hours"}}])
    acts = actions(responder.answer(call(fixtures_dir, "0312345678")))
    assert acts[-3:] == [("answer", ""), ("playback", HOURS), ("hangup", "NORMAL_CLEARING")]


def test_an_ivr_option_plays_its_announcement_then_the_menu_again(
    uploads, make_tenant, responder, fixtures_dir
):
    make_tenant(
        ivr_menus=[MAIN],
        numbers=[{"number": "0312345678", "destination": {"ivr": "main"}, "ivr_option": True}],
    )
    menu = actions(responder.answer(call(fixtures_dir, "0312345678")))
    assert menu[-1] == ("transfer", "kumo-ivr-main-${kumo_ivr_digit} XML public_acme.kumo.test")
    visited = continuation_of(menu)
    pressed_3 = actions(
        responder.answer(call(fixtures_dir, "kumo-ivr-main-3", kumo_continuation=visited, kumo_ivr_digit="3"))
    )
    playback = pressed_3.index(("playback", HOURS))
    (again,) = [i for i, (a, _) in enumerate(pressed_3) if a == "play_and_get_digits"]
    assert playback < again  # the announcement, then the same menu (options 1 and 3) once more
    assert pressed_3[again][1].endswith("kumo_ivr_digit ^[13]$")
    assert pressed_3[-1] == ("transfer", "kumo-ivr-main-${kumo_ivr_digit} XML public_acme.kumo.test")
    assert ("hangup", "NORMAL_CLEARING") not in pressed_3
    # no valid choice: the final fallback is an announcement, and that one ends the call
    timeout = actions(
        responder.answer(call(fixtures_dir, "kumo-ivr-main-", kumo_continuation=visited, kumo_ivr_digit=""))
    )
    assert timeout[-2:] == [
        ("playback", "${kumo_audio_dir}/acme.kumo.test/goodbye.wav"),
        ("hangup", "NORMAL_CLEARING"),
    ]


def test_an_announcement_must_name_an_upload_of_this_tenant(uploads, make_tenant, session_factory):
    menu = dict(MAIN, options={"3": {"announcement": "directions"}})
    with pytest.raises(ConfigError) as refused:
        make_tenant(ivr_menus=[menu])
    assert list(map(str, refused.value.errors)) == [
        "ivr_menus[0].options.3.announcement: no uploaded audio named 'directions' (upload it first)"
    ]
    with pytest.raises(
        ConfigError, match=r"numbers\[0\].destination.announcement: the name of an uploaded audio"
    ):
        make_tenant(numbers=[{"number": "0312345678", "destination": {"announcement": "../../etc/passwd"}}])
    # another tenant's upload of the same name does not count
    with pytest.raises(ConfigError, match="no uploaded audio named 'hours'"):
        make_tenant(
            domain="other.kumo.test", users=[], numbers=[], ring_groups=[], park=None, ivr_menus=[MAIN]
        )


def test_announcements_and_language_survive_export(uploads, make_tenant, session_factory):
    make_tenant(ivr_menus=[MAIN], language="en")
    with db.session_scope(session_factory) as session:
        tenant = session.scalar(select(models.Tenant).where(models.Tenant.domain == uploads))
        doc = tenant_file().export(tenant)
    assert doc["language"] == "en"
    assert doc["ivr_menus"][0]["options"]["3"] == {"announcement": "hours"}
    assert doc["ivr_menus"][0]["timeout_destination"] == {"announcement": "goodbye"}
    with pytest.raises(ConfigError, match="language: Must be one of: ja, en"):
        make_tenant(language="fr")


@pytest.mark.parametrize(("language", "sounds"), [("ja", "ja/jp"), ("en", "en/us")])
def test_callers_hear_the_tenants_language(make_tenant, responder, fixtures_dir, language, sounds):
    make_tenant(language=language, timezone="Asia/Tokyo")
    acts = actions(responder.answer(call(fixtures_dir, "0312345678")))
    # set before anything plays: kumo's prompts (sound_prefix), mod_voicemail's phrases
    # (default_language) and the dates mod_say_* speaks (timezone)
    assert acts[:3] == [
        ("set", f"default_language={language}"),
        ("set", f"sound_prefix=${{sounds_dir}}/{sounds}"),
        ("set", "timezone=Asia/Tokyo"),
    ]
    assert any(a == "bridge" for a, _ in acts)


def test_trace_explains_the_announcement():
    snap = TenantSnap(
        id=1,
        domain="acme.kumo.test",
        name="A",
        users={"101": UserSnap("101", "A")},
        ivr_menus={"main": IvrSnap("main", options=(("3", Dest("announcement", "hours")),))},
    )
    plan = plan_continuation(snap, "public", "kumo-ivr-main-3", frozenset({"ivr:main"}), "0901", TUESDAY_10)
    text = format_text(plan)
    assert "'main' option 3: announcement 'hours'" in text
    assert "play it, then back to IVR 'main'" in text
