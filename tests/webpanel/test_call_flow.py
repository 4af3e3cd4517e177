"""Call-flow diagrams: every way a call can go from a number or a menu, each branch named, loops
named instead of drawn again, in the panel's words."""

from __future__ import annotations

import re

from test_ivr_page import claim, menu_form, with_users

from webpanel.call_flow import FlowBuilder, FlowNode

DOC = {
    "users": [
        {"extension": "101", "name": "山田 太郎", "forward": {"busy": {"voicemail": "101"}, "no_answer": {"user": "102"}, "no_answer_seconds": 15}},
        {"extension": "102", "name": "佐藤 花子", "forward": {"always": {"external": "09012345678"}}},
    ],
    "ring_groups": [{"name": "reception", "members": ["101", "102"], "strategy": "sequential", "ring_seconds": 25, "no_answer": {"ivr": "main"}}],
    "schedules": [{"name": "business", "open_destination": {"ivr": "main"}, "closed_destination": None}],
    "ivr_menus": [{"name": "main", "options": {"0": {"hangup": None}, "1": {"ring_group": "reception"}, "9": {"ivr": "main"}}}],
}  # fmt: skip


def _walk(node: FlowNode, words: str = "", depth: int = 0) -> list[str]:
    lines = [f"{'  ' * depth}{words + ': ' if words else ''}{node.label}{' (repeat)' if node.repeat else ''}"]
    for edge, child in node.branches:
        lines += _walk(child, edge, depth + 1)
    return lines


def test_every_branch_is_drawn_and_a_loop_only_named(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        from flask import session

        session["lang"] = "en"
        tree = _walk(FlowBuilder(DOC).number("0312345678", {"schedule": "business"}))
    assert tree == [
        "Call to 0312345678",
        "  Schedule business",
        "    open hours: IVR menu main",
        "      key 1: Ring group reception",
        "        no answer in 25 s: IVR menu main (repeat)",
        "      key 9: IVR menu main (repeat)",
        "      key 0: Hang up",
        "      no key pressed: Nobody: the call ends",
        "    closed (outside hours, holidays, closures): After-hours announcement",
        "      then: Nobody: the call ends",
    ]
    with app.test_request_context():
        from flask import session

        session["lang"] = "en"
        user = _walk(FlowBuilder(DOC).destination({"user": "101"}, (), 0))
        forwarded = _walk(FlowBuilder(DOC).destination({"user": "102"}, (), 0))
    assert user == [
        "Extension 101",
        "  busy: Voicemail of 101",
        "  no answer in 15 s: Extension 102",
        "    always forwarded: Outside number 09012345678",
    ]
    assert forwarded == ["Extension 102", "  always forwarded: Outside number 09012345678"]


def test_the_number_and_menu_pages_draw_the_flow(app, admin, session_factory):
    with_users(admin, "101", "102")
    admin.post("/ivr-menus/new", menu_form("main"))
    admin.post(
        "/schedules/new",
        {
            "name": "business", "open-count": "1", "open-0-days": ["mon", "tue", "wed", "thu", "fri"],
            "open-0-from": "09:00", "open-0-to": "18:00", "open_destination": "ivr",
            "open_destination.target": "main", "closed_destination": "voicemail", "closed_destination.target": "101",
        },
    )  # fmt: skip
    number_id = claim(app, admin, session_factory)
    admin.post(f"/numbers/{number_id}", {"destination": "schedule", "destination.target": "business"})
    page = admin.get(f"/numbers/{number_id}").get_data(as_text=True)
    flow = page.split('id="call-flow"')[1].split("</section>")[0]
    text = re.sub(r"<[^>]+>", " ", flow)
    text = re.sub(r"\s+", " ", text)
    for words in ("スケジュール business", "営業時間内", "IVR main", "1 を押す", "内線 101", "入力なし", "着信の流れ",
                  "時間外（営業時間外・祝日・休業日）", "時間外アナウンス", "101 の留守番電話"):  # fmt: skip
        assert words in text, words
    menu_page = admin.get("/ivr-menus/").get_data(as_text=True)
    menu_url = re.search(r'href="(/ivr-menus/\d+)"', menu_page).group(1)
    assert 'id="menu-flow"' in admin.get(menu_url).get_data(as_text=True)
