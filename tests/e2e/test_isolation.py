"""The same extension in two tenants; busy lamps never cross tenants."""

from __future__ import annotations

from e2e.phones import free_udp_port
from e2e.tenants import ACME, BETA


def _unanswered(run) -> list[str]:
    """Stop a phone that should not have rung; its INVITEs."""
    run.proc.kill()
    run.wait()
    return run.requests("INVITE")


def test_same_extension_in_two_tenants_rings_only_its_own(e2e) -> None:
    acme_101 = e2e.registered_phone(ACME.domain, "101")
    beta_101 = e2e.registered_phone(BETA.domain, "101")

    for caller_domain, callee, other in (
        (ACME.domain, acme_101, beta_101),
        (BETA.domain, beta_101, acme_101),
    ):
        right = callee.answer()
        wrong = other.answer()
        call = e2e.phone(caller_domain, "102").call("101", talk_ms=300)
        assert call.wait().ok, call.responses()
        assert right.wait().ok
        assert _unanswered(wrong) == []
        assert right.requests("INVITE")[0].startswith(f"INVITE sip:101@127.0.0.1:{callee.port}")


def _subscribe(e2e, domain: str, extension: str, to_user: str, to_domain: str):
    keys = {
        "user": extension,
        "domain": domain,
        "to_user": to_user,
        "to_domain": to_domain,
        "display": extension,
    }
    auth = (
        extension,
        ACME.password(extension) if domain == ACME.domain else BETA.password(extension),
        domain,
    )
    return e2e.sipp.start("subscribe", e2e.registrar, free_udp_port(), keys, auth).wait()


def test_busy_lamp_of_another_tenant_learns_nothing(e2e) -> None:
    # Control: a lamp in the subscriber's own tenant is served (202 and a dialog NOTIFY).
    own = _subscribe(e2e, ACME.domain, "101", "102", ACME.domain)
    assert own.ok, own.responses("SUBSCRIBE")
    assert own.final_response("SUBSCRIBE") in (200, 202)
    assert "dialog-info" in own.requests("NOTIFY")[0]

    # The subscriber registered and authenticated moments ago, so the switch holds 101@acme in its
    # user cache (users are cacheable by default) and need not ask kumo about it.
    e2e.registered_phone(ACME.domain, "101")
    for target in ("101", "102"):
        other = _subscribe(e2e, ACME.domain, "101", target, BETA.domain)
        assert other.ok, other.responses("SUBSCRIBE")
        # The switch challenges in the realm of the domain subscribed to (challenge-realm auto_to),
        # so it checks the answer against beta's user 101 (another a1-hash) and refuses it: 403,
        # or 401 when it challenges again.
        answered = [m for m in other.messages("sent") if m.startswith("SUBSCRIBE ")][-1]
        assert f'realm="{BETA.domain}"' in answered
        assert other.responses("SUBSCRIBE")[-1] in (401, 403)
        assert not any(code in (200, 202) for code in other.responses("SUBSCRIBE"))
        assert other.requests("NOTIFY") == []
