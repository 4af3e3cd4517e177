"""Caller screening in the panel and the API: the blocklist (add, remove, CSV import), 非通知拒否 per
number and per user, errors on their field in Japanese and English, the simulator's words, and the
history's filter; what is stored is what routing reads."""

from __future__ import annotations

import html
import io
import re

from sqlalchemy import select
from test_api import api, make_token
from test_ivr_page import claim, with_users

from fsctl import models
from webpanel.extensions import db


def _text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def _blocked(app) -> list[tuple[str, bool, str]]:
    with app.app_context():
        rows = db.session.scalars(select(models.BlockedCaller).order_by(models.BlockedCaller.pattern)).all()
        return [(r.pattern, r.prefix, r.action) for r in rows]


def test_the_blocklist_page_adds_imports_and_removes(app, admin):
    admin.get("/lang/en")
    page = admin.get("/screening/").get_data(as_text=True)
    assert "No caller is blocked." in _text(page)
    response = admin.post(
        "/screening/blocklist", {"caller": "03-1234-5678", "action": "reject", "note": "営業"}
    )
    assert response.status_code == 302
    csv = "caller,action,note\n+81612345*,announce,迷惑\n0120999888\n".encode("cp932")
    response = admin.post("/screening/blocklist/import", {"file": (io.BytesIO(csv), "list.csv")})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert _blocked(app) == [
        ("0120999888", False, "announce"),
        ("0312345678", False, "reject"),
        ("0612345", True, "announce"),
    ]
    text = _text(admin.get("/screening/").get_data(as_text=True))
    assert "0612345*" in text and "Refused at once" in text and "迷惑" in text
    admin.post("/screening/blocklist/remove", {"caller": "0312345678"})
    assert [p for p, _, _ in _blocked(app)] == ["0120999888", "0612345"]


def test_a_bad_caller_is_refused_on_its_field_in_both_languages(app, admin):
    admin.get("/lang/en")
    response = admin.post("/screening/blocklist", {"caller": "abc"})
    assert response.status_code == 422
    assert 'data-field="blocklist[0].caller"' in response.get_data(as_text=True)
    admin.get("/lang/ja")
    response = admin.post("/screening/blocklist", {"caller": ""})
    assert response.status_code == 422
    assert "番号を入力" in _text(response.get_data(as_text=True))
    assert _blocked(app) == []


def test_the_anonymous_setting_per_number_and_user(app, admin, session_factory):
    with_users(admin, "101")
    number_id = claim(app, admin, session_factory)
    with app.app_context():
        national = db.session.get(models.Number, number_id).national
    page = admin.get("/screening/").get_data(as_text=True)
    assert f'name="numbers.{national}.withheld"' in page and 'name="users.101.payphone"' in page
    response = admin.post(
        "/screening/anonymous",
        {
            f"numbers.{national}.withheld": "on",
            f"numbers.{national}.payphone": "on",
            "users.101.withheld": "on",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        rows = db.session.scalars(select(models.AnonymousRefusal)).all()
        assert sorted(r.refuse for r in rows) == ["withheld", "withheld,payphone"]
    page = admin.get("/screening/").get_data(as_text=True)
    assert re.search(rf'name="numbers\.{national}\.payphone" value="on" aria-label="[^"]*" checked', page)
    # The simulator explains it, in Japanese and in English.
    admin.get("/lang/en")
    text = _text(admin.get(f"/what-if/?from=anonymous&to={national}").get_data(as_text=True))
    assert "The call is refused" in text
    assert f"refused: the caller withheld their number (the setting of {national})" in text
    admin.get("/lang/ja")
    text = _text(admin.get(f"/what-if/?from=anonymous&to={national}").get_data(as_text=True))
    assert "番号を通知せず" in text
    admin.post("/screening/anonymous", {})
    with app.app_context():
        assert db.session.scalars(select(models.AnonymousRefusal)).all() == []


def test_the_simulator_names_the_blocklist_entry(app, admin, session_factory):
    with_users(admin, "101")
    number_id = claim(app, admin, session_factory)
    with app.app_context():
        national = db.session.get(models.Number, number_id).national
    admin.post("/screening/blocklist", {"caller": "03123*"})
    admin.get("/lang/en")
    text = _text(admin.get(f"/what-if/?from=0312345678&to={national}").get_data(as_text=True))
    assert "refused: 0312345678 is on the blocklist (numbers starting 03123)" in text
    admin.get("/lang/ja")
    text = _text(admin.get(f"/what-if/?from=0312345678&to={national}").get_data(as_text=True))
    assert "着信拒否リスト" in text


def test_the_api_reads_adds_removes_and_names_the_field(app, admin):
    with_users(admin, "101")
    token = make_token(admin)
    raw = app.test_client()
    response = api(
        raw, "POST", "/api/v1/screening/blocklist", token, {"caller": "0312345678", "action": "reject"}
    )
    assert response.status_code == 201, response.json
    assert response.json["blocklist"] == [{"caller": "0312345678", "action": "reject"}]
    response = api(raw, "POST", "/api/v1/screening/blocklist", token, {"caller": "03x"})
    assert response.status_code == 422 and response.json["errors"][0]["field"] == "blocklist[1].caller"
    response = api(raw, "POST", "/api/v1/screening/blocklist", token, {"caller": "0312", "action": "drop"})
    assert response.status_code == 422 and response.json["errors"][0]["field"] == "blocklist[1].action"
    response = api(raw, "PUT", "/api/v1/screening", token, {"anonymous": {"users": {"999": ["withheld"]}}})
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "anonymous.users.999"
    assert response.json["errors"][0]["code"] == "screening_unknown_user"
    response = api(raw, "PUT", "/api/v1/screening", token, {"anonymous": {"users": {"101": ["withheld"]}}})
    assert response.status_code == 200 and response.json["anonymous"]["users"] == {"101": ["withheld"]}
    assert response.json["blocklist"] == []  # PUT replaces the whole section
    assert api(raw, "DELETE", "/api/v1/screening/blocklist/0399*", token).status_code == 404
    api(raw, "POST", "/api/v1/screening/blocklist", token, {"caller": "0399*"})
    response = api(raw, "DELETE", "/api/v1/screening/blocklist/0399*", token)
    assert response.status_code == 200 and response.json["blocklist"] == []


def test_the_history_shows_and_filters_refused_calls(app, admin, engine, session_factory):
    from cdr_helpers import synthetic_leg

    from fsctl.cdr.parse import parse_json
    from fsctl.cdr.store import CdrStore

    with_users(admin, "101")
    number_id = claim(app, admin, session_factory)
    with app.app_context():
        number = db.session.get(models.Number, number_id)
        national, domain = number.national, number.tenant.domain
    store = CdrStore(engine, session_factory)
    for n, (caller, screened) in enumerate((("+81312345679", "blocked"), ("+819011112222", None)), 1):
        store.store(
            parse_json(
                synthetic_leg(
                    f"00000000-0000-4000-a000-{n:012d}",
                    "+81" + national[1:],
                    start="2026-12-01 01:00:00",
                    context="public",
                    caller=caller,
                    variables={"kumo_screened": screened} if screened else {},
                )
            ),
            "http",
        )
    with app.app_context():
        assert db.session.scalar(select(models.CallRecord.tenant_id).limit(1)) is not None, domain
    admin.get("/lang/en")
    page = admin.get("/history/").get_data(as_text=True)
    assert 'data-outcome="blocked">Blocked<' in page and "+819011112222" in page
    page = admin.get("/history/?outcome=screened").get_data(as_text=True)
    assert "+81312345679" in page and "+819011112222" not in page
    admin.get("/lang/ja")
    assert "着信拒否" in admin.get("/history/?outcome=screened").get_data(as_text=True)


def test_the_number_and_user_pages_set_their_own_anonymous_setting(app, admin, session_factory):
    with_users(admin, "101")
    number_id = claim(app, admin, session_factory)
    with app.app_context():
        national = db.session.get(models.Number, number_id).national
        user_id = db.session.scalar(select(models.User.id).where(models.User.extension == "101"))
    admin.get("/lang/ja")
    page = admin.get(f"/numbers/{number_id}").get_data(as_text=True)
    assert "非通知を拒否" in page and 'id="anonymous-setting"' in page
    response = admin.post(
        f"/screening/anonymous/numbers/{national}",
        {"withheld": "on", "unavailable": "on", "next": f"/numbers/{number_id}"},
    )
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/numbers/{number_id}")
    response = admin.post("/screening/anonymous/users/101", {"payphone": "on", "next": "//evil.example/"})
    assert response.headers["Location"].endswith("/screening/")  # never another site
    with app.app_context():
        rows = db.session.scalars(select(models.AnonymousRefusal)).all()
        assert sorted(r.refuse for r in rows) == ["payphone", "withheld,unavailable"]
    admin.get("/lang/en")
    page = admin.get(f"/users/{user_id}").get_data(as_text=True)
    assert re.search(r'name="payphone" value="on" checked', page)
    assert "Refuse payphones (公衆電話)" in page
    admin.post("/screening/anonymous/users/101", {})
    with app.app_context():
        assert len(db.session.scalars(select(models.AnonymousRefusal)).all()) == 1
