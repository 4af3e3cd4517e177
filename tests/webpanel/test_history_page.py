"""The call history page: filters, pages, charges in yen, the CSV export; per tenant and per user."""

from __future__ import annotations

import csv
import datetime as dt
import io

from panel_helpers import PASSWORD, PanelClient, set_status, signup, tenant_of
from sqlalchemy import select

from fsctl import models
from webpanel.extensions import db

DAY = dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC)  # 10:00 JST


def add_call(app, tenant_id: int, uuid: str, extension: str, direction: str, remote: str, **extra) -> None:
    """A call record as fsctl.cdr stores it (rated: charge_yen set)."""
    started = extra.pop("started_at", DAY)
    with app.app_context():
        db.session.add(
            models.CallRecord(
                uuid=uuid, leg="a", tenant_id=tenant_id, extension=extension,
                call_class="mobile" if direction == "out" else "inbound", direction=direction,
                caller=extension if direction == "out" else remote,
                destination=remote if direction == "out" else extension, remote=remote,
                started_at=started, answered_at=extra.pop("answered_at", started),
                ended_at=started + dt.timedelta(seconds=65), duration=65, billsec=extra.pop("billsec", 60),
                charge_yen=extra.pop("charge_yen", 1234), **extra,
            )
        )  # fmt: skip
        db.session.commit()


def test_history_filters_pages_charges_and_csv(app, admin):
    tenant = tenant_of(app, "admin@acme.example")
    add_call(app, tenant.id, "out-101", "101", "out", "09011112222", charge_yen=1234)
    add_call(app, tenant.id, "in-102", "102", "in", "0311112222", charge_yen=0)
    add_call(app, tenant.id, "old-101", "101", "out", "09033334444", started_at=DAY - dt.timedelta(days=30))

    page = admin.get("/history/").get_data(as_text=True)
    assert "cdr-out-101" in page and "cdr-in-102" in page and "cdr-old-101" in page
    assert "1,234円" in page and "通話料" in page
    dated = admin.get("/history/?from=2026-11-20&to=2026-11-20").get_data(as_text=True)
    assert "cdr-out-101" in dated and "cdr-old-101" not in dated
    assert "cdr-in-102" not in admin.get("/history/?direction=out").get_data(as_text=True)
    assert "cdr-out-101" not in admin.get("/history/?user=102").get_data(as_text=True)
    only = admin.get("/history/?number=09011112222").get_data(as_text=True)
    assert "cdr-out-101" in only and "cdr-old-101" not in only

    for n in range(55):  # more than one page (50 a page)
        add_call(app, tenant.id, f"bulk-{n}", "103", "internal", "101", started_at=DAY - dt.timedelta(days=1))
    first = admin.get("/history/").get_data(as_text=True)
    assert "1 / 2 ページ" in first and "cdr-out-101" in first and "cdr-old-101" not in first
    assert "cdr-old-101" in admin.get("/history/?page=2").get_data(as_text=True)

    response = admin.get("/history/calls.csv?direction=out")
    assert response.mimetype == "text/csv"
    rows = csv_rows(response)
    assert [r["宛先"] for r in rows] == ["09011112222", "09033334444"]
    assert rows[0]["通話料 (円)"] == "1234"
    everything = csv_rows(admin.get("/history/calls.csv"))
    assert len(everything) == 58  # every page, streamed in batches


def csv_rows(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def test_csv_opens_in_japanese_excel_with_local_times(app, admin):
    """A BOM, Japanese headers in the Japanese panel, times on the tenant's clock."""
    tenant = tenant_of(app, "admin@acme.example")
    add_call(app, tenant.id, "out-101", "101", "out", "09011112222")
    data = admin.get("/history/calls.csv").get_data()
    assert data.startswith("\ufeff".encode())  # UTF-8 byte-order mark
    text = data.decode("utf-8-sig")
    header = text.splitlines()[0]
    assert header == "開始日時 (Asia/Tokyo),発着信,内線番号,番号,発信者,宛先,結果,課金秒数,通話料 (円)"
    assert "2026/11/20 10:00:00,発信,101" in text  # 01:00 UTC is 10:00 in Tokyo
    admin.get("/lang/en")
    english = csv_rows(admin.get("/history/calls.csv"))
    assert english[0]["Started (Asia/Tokyo)"] == "2026/11/20 10:00:00"
    assert english[0]["Direction"] == "Outgoing"


def test_csv_says_each_calls_outcome_as_the_page_does(app, admin):
    tenant = tenant_of(app, "admin@acme.example")
    add_call(app, tenant.id, "in-answered", "102", "in", "0311112222", charge_yen=0)
    add_call(
        app, tenant.id, "in-missed", "102", "in", "0322223333", charge_yen=0, answered_at=None, billsec=0
    )
    add_call(app, tenant.id, "in-blocked", "102", "in", "0344445555", charge_yen=0, answered_at=None,
             billsec=0, screened="blocked")  # fmt: skip
    outcomes = {r["発信者"]: r["結果"] for r in csv_rows(admin.get("/history/calls.csv"))}
    assert outcomes == {"0311112222": "応答", "0322223333": "不応答", "0344445555": "着信拒否"}
    admin.get("/lang/en")
    outcomes = {r["Caller"]: r["Outcome"] for r in csv_rows(admin.get("/history/calls.csv"))}
    assert outcomes == {"0311112222": "Answered", "0322223333": "Not answered", "0344445555": "Blocked"}


def test_history_is_scoped_to_the_tenant_and_the_user(app, admin):
    tenant = tenant_of(app, "admin@acme.example")
    admin.post("/users/new", {"extension": "101", "name": "一郎"})
    with app.app_context():
        user_id = db.session.scalar(
            select(models.User.id).where(models.User.tenant_id == tenant.id, models.User.extension == "101")
        )
    admin.post(f"/users/{user_id}/login", {"email": "ichiro@acme.example", "password": PASSWORD})
    add_call(app, tenant.id, "out-101", "101", "out", "09011112222")
    add_call(app, tenant.id, "out-102", "102", "out", "09055556666")

    user = PanelClient(app.test_client())
    user.login("ichiro@acme.example")
    own = user.get("/history/?user=102").get_data(as_text=True)  # the user filter cannot widen it
    assert "cdr-out-101" in own and "cdr-out-102" not in own
    assert "09055556666" not in user.get("/history/calls.csv?user=102").get_data(as_text=True)

    other = PanelClient(app.test_client())
    signup(other, company="Beta Ltd", email="admin@beta.example")
    set_status(app, tenant_of(app, "admin@beta.example").domain, "active")
    theirs = other.get("/history/").get_data(as_text=True)
    assert "cdr-out-101" not in theirs and "cdr-out-102" not in theirs
    assert "09011112222" not in other.get("/history/calls.csv").get_data(as_text=True)
