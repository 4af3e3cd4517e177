"""Registration through the switch, and kumo's live_registrations."""

from __future__ import annotations

from e2e.esl import event_is
from e2e.tenants import ACME, BETA

# The refused registrations below come from an address of their own: they are failed digests, and
# 4 from one source ban it (fsctl.security), which must not hit the other tests' phones.
WRONG = "127.0.0.4"


def _live(e2e, domain: str, extension: str) -> list:
    return e2e.kumo.rows(
        "SELECT r.call_id, r.contact FROM live_registrations r JOIN tenants t ON t.id = r.tenant_id "
        "WHERE t.domain = :d AND r.extension = :e",
        d=domain,
        e=extension,
    )


def test_right_credentials_register_and_live_registrations_follow(e2e) -> None:
    phone = e2e.phone(ACME.domain, "104")
    mark = e2e.events.mark()
    phone.register()
    e2e.events.wait_for(
        event_is("CUSTOM", "sofia::register", from_user="104", from_host=ACME.domain),
        since=mark,
        what="register",
    )
    rows = e2e.wait_until(lambda: _live(e2e, ACME.domain, "104"), what="live registration row")
    assert [r.call_id for r in rows] == [phone.call_id]
    assert f":{phone.port}" in rows[0].contact
    # The switch reaches the phone at the address it registered.
    assert e2e.switch.api(f"sofia_contact */104@{ACME.domain}").endswith(f"@127.0.0.1:{phone.port}")

    mark = e2e.events.mark()
    phone.unregister()
    e2e.events.wait_for(
        event_is("CUSTOM", "sofia::unregister", from_user="104"), since=mark, what="unregister"
    )
    e2e.wait_until(lambda: not _live(e2e, ACME.domain, "104"), what="live registration gone")
    assert "error/user_not_registered" in e2e.switch.api(f"sofia_contact */104@{ACME.domain}")


def test_wrong_password_is_refused(e2e) -> None:
    phone = e2e.phone(ACME.domain, "102", password="not-the-password-1", source=WRONG)
    run = phone.register_refused()
    assert run.ok, run.responses("REGISTER")
    assert run.responses("REGISTER") == [401, 403]
    assert not _live(e2e, ACME.domain, "102")


def test_unknown_user_is_refused(e2e) -> None:
    run = e2e.phone(ACME.domain, "199", password="Some-long-pass-199", source=WRONG).register_refused()
    assert run.ok and run.responses("REGISTER") == [401, 403]


def test_user_of_another_tenant_is_refused_in_this_domain(e2e) -> None:
    # beta's 102 with beta's password, presented in acme's domain (acme has no 102 with that password).
    phone = e2e.phone(ACME.domain, "102", password=BETA.password("102"), source=WRONG)
    run = phone.register_refused()
    assert run.ok and run.responses("REGISTER") == [401, 403]
    assert not _live(e2e, ACME.domain, "102")
