"""A user saved in the panel is flushed from the switch's directory cache, exactly that tenant's
users (fsctl.esl.cache_flush watches what the panel commits, like any other writer)."""

from __future__ import annotations

from panel_helpers import tenant_of
from test_tenant_pages import EMAIL, add_user, user_id

from fsctl.esl.cache_flush import DirectoryCacheFlusher, flush_user_command
from fsctl.xmlcurl.store import LookupStore


def test_saving_a_user_in_the_panel_flushes_that_tenants_users(app, admin, engine):
    add_user(admin, "101")
    add_user(admin, "102", name="佐藤 花子")
    domain = tenant_of(app, EMAIL).domain
    sent: list[str] = []
    flusher = DirectoryCacheFlusher(LookupStore(engine=engine), sent.append)
    flusher.start()
    flusher.stop()
    assert flusher.check_once() == []
    response = admin.post(
        f"/users/{user_id(app, '101')}",
        {"name": "山田 太郎", "direction": "outbound_only", "ring_seconds": "25", "voicemail.enabled": "on"},
    )
    assert response.status_code == 302
    assert sorted(flusher.check_once()) == sorted(
        [flush_user_command("101", domain), flush_user_command("102", domain)]
    )
    assert flusher.check_once() == []
