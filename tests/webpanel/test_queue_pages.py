"""The call queues page, its API and the simulator's words: what is saved is what routing reads, errors
name their field in both languages, agents log in and out from the page and the API, the callers
waiting show on the queues page and the live view, another tenant's queue answers 404."""

from __future__ import annotations

import datetime as dt
import html
import re

from panel_helpers import tenant_of
from sqlalchemy import insert
from test_api import api, make_token
from test_ivr_page import NUMBER, claim
from test_tenant_pages import EMAIL, add_user, document
from test_trace_words import steps_text

from fsctl import models
from fsctl.esl.state import CALL
from webpanel.extensions import db


def _text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def _queue(admin, number="600", **fields):
    data = {
        "number": number,
        "name": "サポート",
        "agents": "101, 102",
        "strategy": "ring_all",
        "max_wait_seconds": "60",
        "agent_ring_seconds": "15",
        "announce_position": "on",
        "overflow": "voicemail",
        "overflow.target": "101",
        **fields,
    }
    return admin.post("/call-queues/new", data)


def _agents(admin):
    add_user(admin, "101")
    add_user(admin, "102", name="佐藤 花子")


def test_a_queue_is_added_edited_and_removed(app, admin):
    _agents(admin)
    assert "着信キューはまだありません。" in admin.get("/call-queues/").get_data(as_text=True)
    assert _queue(admin).status_code == 302
    assert document(app)["call_queues"] == [
        {
            "number": "600",
            "name": "サポート",
            "agents": ["101", "102"],
            "strategy": "ring_all",
            "max_wait_seconds": 60,
            "agent_ring_seconds": 15,
            "announce_position": True,
            "overflow": {"voicemail": "101"},
        }
    ]
    listing = _text(admin.get("/call-queues/").get_data(as_text=True))
    assert "600 サポート 全担当者を同時に 101, 102 60 秒 0" in listing
    assert "101 山田 太郎 600 ログアウト" in listing
    edited = admin.post(
        "/call-queues/600",
        {
            "number": "601",
            "agents": "102",
            "strategy": "longest_idle",
            "max_wait_seconds": "30",
            "overflow": "",
        },
    )
    assert edited.status_code == 302
    queue = document(app)["call_queues"][0]
    assert queue["number"] == "601" and queue["agents"] == ["102"] and queue["overflow"] is None
    assert queue["announce_position"] is False  # the box was not ticked
    assert admin.post("/call-queues/601/delete").status_code == 302
    assert document(app)["call_queues"] == []
    assert admin.get("/call-queues/601").status_code == 404


def test_a_bad_queue_is_refused_on_its_field_in_both_languages(app, admin):
    _agents(admin)
    clash = _queue(admin, number="101")
    page = clash.get_data(as_text=True)
    assert clash.status_code == 422 and 'id="error-number"' in page
    assert "101 はすでにユーザーの内線番号です" in _text(page)
    unknown = _queue(admin, agents="101, 109")
    assert unknown.status_code == 422 and "内線 109 のユーザーはいません" in _text(
        unknown.get_data(as_text=True)
    )
    short = _queue(admin, max_wait_seconds="5")
    assert short.status_code == 422 and 'id="error-max_wait_seconds"' in short.get_data(as_text=True)
    admin.get("/lang/en")
    english = _text(_queue(admin, number="101").get_data(as_text=True))
    assert "101 is already a user's extension" in english
    assert document(app)["call_queues"] == []


def test_agents_log_in_and_out_from_the_page(app, admin):
    _agents(admin)
    _queue(admin)
    assert admin.post("/call-queues/agents/101", {"logged_in": "on"}).status_code == 302
    listing = _text(admin.get("/call-queues/").get_data(as_text=True))
    assert "101 山田 太郎 600 ログイン中" in listing and "102 佐藤 花子 600 ログアウト" in listing
    assert admin.post("/call-queues/agents/101", {"logged_in": "off"}).status_code == 302
    assert "101 山田 太郎 600 ログアウト" in _text(admin.get("/call-queues/").get_data(as_text=True))
    add_user(admin, "103")
    assert admin.post("/call-queues/agents/103", {"logged_in": "on"}).status_code == 404  # no agent


def test_the_simulator_explains_a_queue_and_the_agent_codes(app, admin, session_factory):
    _agents(admin)
    _queue(admin)
    ja = steps_text(admin, "102", "600", "10:00")
    assert "着信キュー 600 (サポート)" in ja
    assert "全担当者を同時に、担当者 101, 102、保留音を聞きながら最大 60 秒お待ちいただきます" in ja
    assert "お客様に待ち順をお知らせします" in ja
    assert "60 秒以内に誰も応答しない場合" in ja and "101 の留守番電話へ回します" in ja
    assert "queue" not in ja
    number_id = claim(app, admin, session_factory)
    admin.post(f"/numbers/{number_id}", {"destination": "external", "destination.target": "600"})
    assert "着信キュー 600 (サポート)" in steps_text(admin, "0398765432", NUMBER, "10:00")
    login = steps_text(admin, "101", "*51", "10:00")
    assert "101 が着信キュー 600 の担当者としてログイン" in login
    assert "キューの着信がこの電話機に鳴ります" in login
    admin.get("/lang/en")
    en = steps_text(admin, "102", "600", "10:00")
    assert "Call queue 600 (サポート)" in en and "all agents at once; agents 101, 102" in en
    assert "the caller goes on to the voicemail of 101" in en


def test_the_api_serves_queues_agents_and_callers_and_names_bad_fields(app, admin):
    _agents(admin)
    token = make_token(admin)
    raw = app.test_client()
    body = {"number": "600", "agents": ["101"], "overflow": {"user": "102"}}
    created = api(raw, "POST", "/api/v1/call-queues", token, body)
    assert created.status_code == 201 and created.json["strategy"] == "longest_idle"
    bad = api(raw, "POST", "/api/v1/call-queues", token, {"number": "601", "strategy": "random"})
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "strategy"
    unknown = api(raw, "POST", "/api/v1/call-queues", token, {"number": "601", "agents": ["109"]})
    assert unknown.json["errors"][0]["field"] == "agents[0]"
    assert unknown.json["errors"][0]["code"] == "queue_agent_unknown"
    login = api(raw, "PUT", "/api/v1/queue-agents/101", token, {"logged_in": True})
    assert login.status_code == 200 and login.json == {
        "extension": "101",
        "name": "山田 太郎",
        "queues": ["600"],
        "logged_in": True,
    }
    assert api(raw, "PUT", "/api/v1/queue-agents/101", token, {"logged_in": "yes"}).status_code == 422
    assert api(raw, "PUT", "/api/v1/queue-agents/102", token, {"logged_in": True}).status_code == 404
    assert [a["logged_in"] for a in api(raw, "GET", "/api/v1/queue-agents", token).json] == [True]
    tenant_id = tenant_of(app, EMAIL).id
    now = dt.datetime.now(dt.UTC)
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(insert(CALL).values(uuid="caller-1", tenant_id=None, state="answered", started_at=now))
        conn.execute(
            insert(models.QueueCaller).values(
                tenant_id=tenant_id, queue_number="600", uuid="caller-1", caller_number="0355551234",
                caller_name="", agent="", since=now - dt.timedelta(seconds=42),
            )
        )  # fmt: skip
        # A row whose call is no longer live (the caller left while the event socket was down).
        conn.execute(
            insert(models.QueueCaller).values(
                tenant_id=tenant_id, queue_number="600", uuid="gone", caller_number="0355550000",
                caller_name="", agent="", since=now,
            )
        )  # fmt: skip
    callers = api(raw, "GET", "/api/v1/call-queues/600/callers", token).json
    assert [c["caller"] for c in callers] == ["0355551234"] and callers[0]["waiting_seconds"] >= 42
    assert api(raw, "GET", "/api/v1/call-queues/699/callers", token).status_code == 404
    page = _text(admin.get("/call-queues/").get_data(as_text=True))
    assert "600 0355551234" in page
    live = _text(admin.get("/live/").get_data(as_text=True))
    assert "待っているお客様" in live and "0355551234" in live and "101 山田 太郎 ログイン中" in live
    spec = api(raw, "GET", "/api/openapi.json", token).json
    assert {
        "/api/v1/call-queues",
        "/api/v1/queue-agents/{extension}",
        "/api/v1/call-queues/{value}/callers",
    } <= set(spec["paths"])
