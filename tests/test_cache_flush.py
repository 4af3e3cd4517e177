"""With cacheable directory users, any committed change makes the switch drop its cached users."""

from __future__ import annotations

from kumo_support import tenant_doc

from fsctl import db
from fsctl.esl.cache_flush import DirectoryCacheFlusher
from fsctl.tenant_config import apply_config
from fsctl.xmlcurl.store import LookupStore


def test_flush_is_sent_once_per_change_and_retried_while_the_switch_is_away(
    engine, session_factory, make_tenant
):
    make_tenant()
    sent: list[str] = []
    switch_up = True

    def send_api(command: str) -> None:
        if not switch_up:
            raise ConnectionError("event socket not connected")
        sent.append(command)

    flusher = DirectoryCacheFlusher(LookupStore(engine=engine), send_api)
    assert flusher.check_once() is False  # baseline
    assert flusher.check_once() is False and sent == []
    doc = tenant_doc()
    doc["users"][0]["password"] = "New-password-1"
    with db.session_scope(session_factory) as session:
        apply_config(session, doc)
    switch_up = False
    for _ in range(2):
        try:
            flusher.check_once()
        except ConnectionError:
            pass
    assert sent == []
    switch_up = True
    assert flusher.check_once() is True
    assert sent == ["bgapi xml_flush_cache"]
    assert flusher.check_once() is False
    with db.session_scope(session_factory) as session:
        apply_config(
            session, tenant_doc(domain="beta.kumo.test", users=[], numbers=[], ring_groups=[], park=None)
        )
    assert flusher.check_once() is True and len(sent) == 2
