"""Costly or destructive actions ask first, stating consequence and cost; the server holds it (no JS)."""

from __future__ import annotations

import html

import pytest
from panel_helpers import set_status, tenant_of
from sqlalchemy import select
from test_ivr_page import claim
from test_tenant_pages import EMAIL, add_user, user_id

from fsctl import models
from webpanel.extensions import db

TOLL_FREE = "0120123456"


def owned(app, national: str) -> bool:
    with app.app_context():
        return (
            db.session.scalar(select(models.Number.tenant_id).where(models.Number.national == national))
            is not None
        )


def fees(app) -> list[tuple[str, str, int]]:
    with app.app_context():
        rows = db.session.execute(
            select(models.OneOffCharge.kind, models.OneOffCharge.subject, models.OneOffCharge.amount_yen)
        )
        return [tuple(r) for r in rows]


@pytest.mark.parametrize(
    ("lang", "cost"),
    [
        ("ja", "解約手数料 2,000円 が次回のご請求に加算されます。"),
        ("en", "A cancellation fee of ¥2,000 is added to your next statement."),
    ],
)
def test_releasing_a_toll_free_number_states_the_fee_first(app, admin, session_factory, lang, cost):
    number_id = claim(app, admin, session_factory, TOLL_FREE)
    admin.get(f"/lang/{lang}")
    asked = admin.post(f"/numbers/{number_id}/release")
    page = html.unescape(asked.get_data(as_text=True))
    assert asked.status_code == 200 and cost in page
    assert 'name="confirm" value="yes"' in page
    assert owned(app, TOLL_FREE) and fees(app) == []  # nothing happened yet
    done = admin.post(f"/numbers/{number_id}/release", {"confirm": "yes"})
    assert done.status_code == 302
    assert not owned(app, TOLL_FREE)
    assert fees(app) == [("cancel_toll_free", TOLL_FREE, 2000)]  # what the page said


def test_releasing_during_the_trial_says_there_is_no_fee(app, admin, session_factory):
    # The panel claims numbers for active tenants only; the operator's `fsctl apply` may give a trial one.
    number_id = claim(app, admin, session_factory, TOLL_FREE)
    set_status(app, tenant_of(app, EMAIL).domain, "trial")
    panel = admin
    page = panel.post(f"/numbers/{number_id}/release").get_data(as_text=True)
    assert "お試し期間中は解約手数料はかかりません。" in page and "2,000円" not in page
    assert owned(app, TOLL_FREE)


def test_removing_a_user_asks_first(app, admin):
    add_user(admin, "101")
    uid = user_id(app, "101")
    page = html.unescape(admin.post(f"/users/{uid}/delete").get_data(as_text=True))
    assert "ユーザー 101 (山田 太郎) を削除しますか?" in page
    assert "内線 101 として設定した電話機はすぐに使えなくなります" in page
    assert user_id(app, "101") == uid
    admin.post(f"/users/{uid}/delete", {"confirm": "yes"})
    assert user_id(app, "101") is None


def test_new_sip_credentials_ask_first(app, admin):
    add_user(admin, "101")
    uid = user_id(app, "101")
    with app.app_context():
        before = db.session.get(models.User, uid).a1_hash
    admin.get("/lang/en")
    page = html.unescape(admin.post(f"/users/{uid}/credentials").get_data(as_text=True))
    assert "The current password stops working" in page and "There is no charge." in page
    with app.app_context():
        assert db.session.get(models.User, uid).a1_hash == before
    admin.post(f"/users/{uid}/credentials", {"confirm": "yes"})
    with app.app_context():
        assert db.session.get(models.User, uid).a1_hash != before
