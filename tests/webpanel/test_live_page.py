"""The live view: rows written to the live tables, shown per tenant and per extension."""

from __future__ import annotations

import datetime as dt
import re

from panel_helpers import PASSWORD, PanelClient, set_status, signup, tenant_of
from sqlalchemy import insert, select

from fsctl import models
from fsctl.esl.state import CALL, PARK, REG, RING
from webpanel.extensions import db


def add_live(app, tenant_id: int, extension: str, tag: str) -> None:
    """One call, parked call, ringing call and registration of `extension`, as the ESL handlers write them."""
    now = dt.datetime.now(dt.UTC)
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(
            insert(CALL).values(
                uuid=f"call-{tag}", tenant_id=tenant_id, extension=extension, caller_number=f"03{tag}",
                destination="0312345678", state="answered", direction="outbound", started_at=now,
            )
        )  # fmt: skip
        conn.execute(
            insert(PARK).values(
                tenant_id=tenant_id, slot=f"7{tag[-2:]}", lot="park@x", uuid=f"park-{tag}",
                caller_number=f"parked-{tag}", parked_by=extension, since=now,
            )
        )  # fmt: skip
        conn.execute(
            insert(RING).values(uuid=f"ring-{tag}", tenant_id=tenant_id, extension=extension, since=now)
        )
        conn.execute(
            insert(REG).values(
                tenant_id=tenant_id, extension=extension, call_id=f"reg-{tag}",
                user_agent=f"phone-{tag}", expires_at=now + dt.timedelta(minutes=5),
            )
        )  # fmt: skip


def test_live_view_per_tenant_and_per_extension(app, admin):
    admin.post("/users/new", {"extension": "101", "name": "一郎"})
    admin.post("/users/new", {"extension": "102", "name": "二郎"})
    tenant = tenant_of(app, "admin@acme.example")
    with app.app_context():
        user_id = db.session.scalar(
            select(models.User.id).where(models.User.tenant_id == tenant.id, models.User.extension == "101")
        )
    admin.post(f"/users/{user_id}/login", {"email": "ichiro@acme.example", "password": PASSWORD})
    add_live(app, tenant.id, "101", "a01")
    add_live(app, tenant.id, "102", "a02")

    page = admin.get("/live/").get_data(as_text=True)
    for tag in ("a01", "a02"):
        assert f"call-call-{tag}" in page and f"ringing-ring-{tag}" in page
        assert f"parked-{tag}" in page and f"phone-{tag}" in page
    assert "通話中" in page and "パーク" in page

    user = PanelClient(app.test_client())
    assert user.login("ichiro@acme.example").status_code == 302
    own = user.get("/live/").get_data(as_text=True)
    assert "call-call-a01" in own and "phone-a01" in own and "parked-a01" in own
    assert "call-a02" not in own and "phone-a02" not in own and "parked-a02" not in own

    other = PanelClient(app.test_client())
    signup(other, company="Beta Ltd", email="admin@beta.example")
    set_status(app, tenant_of(app, "admin@beta.example").domain, "active")
    theirs = other.get("/live/").get_data(as_text=True)
    assert other.get("/live/").status_code == 200
    assert "a01" not in theirs and "a02" not in theirs


def test_presence_grid_and_durations(app, admin):
    """One tile per extension from the live tables, busiest state first; durations since the start."""
    for extension in ("101", "102", "103", "104", "105"):
        admin.post("/users/new", {"extension": extension, "name": f"内線{extension}"})
    tenant_id = tenant_of(app, "admin@acme.example").id
    now = dt.datetime.now(dt.UTC)
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(
            insert(CALL).values(
                uuid="talk", tenant_id=tenant_id, extension="101", destination="0312345678",
                state="answered", direction="outbound", started_at=now - dt.timedelta(seconds=65),
            )
        )  # fmt: skip
        conn.execute(insert(RING).values(uuid="ring", tenant_id=tenant_id, extension="102", since=now))
        conn.execute(
            insert(PARK).values(
                tenant_id=tenant_id, slot="701", lot="l", uuid="p", parked_by="103", since=now
            )
        )
        for extension in ("101", "104"):
            conn.execute(
                insert(REG).values(
                    tenant_id=tenant_id, extension=extension, call_id=f"reg-{extension}",
                    expires_at=now + dt.timedelta(minutes=5),
                )
            )  # fmt: skip
    page = admin.get("/live/").get_data(as_text=True)
    states = dict(re.findall(r'id="presence-(\d+)"[^>]*>.*?<span class="state">([^<]+)</span>', page))
    assert states == {"101": "通話中", "102": "呼出中", "103": "パーク中", "104": "待機中", "105": "未接続"}
    assert re.search(r'class="duration" data-since="[^"]+">1:0[56]<', page)  # 65 s, give or take one
    # The refresh fetches the same rows without the frame; the page itself loads the script.
    fragment = admin.get("/live/?fragment=1").get_data(as_text=True)
    assert 'id="presence-101"' in fragment and "<html" not in fragment
    assert 'src="/static/live.js"' in page and 'http-equiv="refresh"' in page


def test_a_user_sees_only_their_own_tile(app, admin):
    admin.post("/users/new", {"extension": "101", "name": "一郎"})
    admin.post("/users/new", {"extension": "102", "name": "二郎"})
    tenant = tenant_of(app, "admin@acme.example")
    with app.app_context():
        user_id = db.session.scalar(
            select(models.User.id).where(models.User.tenant_id == tenant.id, models.User.extension == "101")
        )
    admin.post(f"/users/{user_id}/login", {"email": "ichiro@acme.example", "password": PASSWORD})
    user = PanelClient(app.test_client())
    user.login("ichiro@acme.example")
    page = user.get("/live/?fragment=1").get_data(as_text=True)
    assert 'id="presence-101"' in page and 'id="presence-102"' not in page
