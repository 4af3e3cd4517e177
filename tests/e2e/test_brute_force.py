"""Repeated wrong passwords from one address ban it; the right password is then
refused from there until `fsctl bans lift`."""

from __future__ import annotations

from e2e.tenants import ACME

ATTACKER = "127.0.0.3"


def _bans(e2e) -> list:
    return e2e.kumo.rows("SELECT ip FROM security_bans WHERE ip = :ip", ip=ATTACKER)


def test_wrong_passwords_ban_the_source_until_lifted(e2e) -> None:
    guesses = [
        e2e.phone(ACME.domain, "103", password=f"guess-{n}-wrong-pw", source=ATTACKER) for n in range(4)
    ]
    for guess in guesses:
        run = guess.register_refused()
        assert run.ok and run.responses("REGISTER") == [401, 403]
    e2e.wait_until(lambda: _bans(e2e), what="a ban of the attacking address")

    right = e2e.phone(ACME.domain, "103", source=ATTACKER)
    run = right.register_refused()
    assert run.ok and run.responses("REGISTER") == [401, 403], "banned: even the right password is refused"
    # The same user from another address is not affected.
    elsewhere = e2e.registered_phone(ACME.domain, "103")
    assert elsewhere.source != ATTACKER

    e2e.kumo.fsctl("bans", "lift", "--ip", ATTACKER)
    right.register()
    right.unregister()
