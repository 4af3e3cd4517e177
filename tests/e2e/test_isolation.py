"""The same extension in two tenants; busy lamps never cross tenants."""

from __future__ import annotations

import hashlib
import re
import socket
import time
import uuid

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
    # user cache (the end-to-end service serves users cacheable: FSCTL_DIRECTORY_CACHE_MS=60000) and need
    # not ask kumo about it.
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


def crafted_register(
    registrar: str,
    user: str,
    own_domain: str,
    password: str,
    to_domain: str,
    source: str = "127.0.0.1",
    replies: list[str] | None = None,
) -> list[int]:
    """A client that registers as `user`@`to_domain` but answers the switch's challenge (issued in
    to_domain's realm) in its own realm with its own password, as no honest phone does; the status
    of each answer (the last is the final one), from address `source`. The final replies themselves
    are added to `replies` when given."""
    host, port = registrar.rsplit(":", 1)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((source, 0))
    sock.settimeout(5)
    local = sock.getsockname()[1]
    call_id, tag, uri = uuid.uuid4().hex, uuid.uuid4().hex[:8], f"sip:{to_domain}"

    def send(cseq: int, authorization: str = "") -> int:
        request = (
            f"REGISTER {uri} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {source}:{local};rport;branch=z9hG4bK{uuid.uuid4().hex}\r\n"
            "Max-Forwards: 70\r\n"
            f"From: <sip:{user}@{to_domain}>;tag={tag}\r\nTo: <sip:{user}@{to_domain}>\r\n"
            f"Call-ID: {call_id}\r\nCSeq: {cseq} REGISTER\r\n"
            f"Contact: <sip:{user}@{source}:{local}>\r\nExpires: 120\r\n{authorization}"
            "Content-Length: 0\r\n\r\n"
        )
        sock.sendto(request.encode(), (host, int(port)))
        while True:
            reply = sock.recv(65535).decode(errors="replace")
            status = int(reply.split(" ", 2)[1])
            if status >= 200:
                send.last = reply  # type: ignore[attr-defined]
                if replies is not None:
                    replies.append(reply)
                return status

    def md5(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - SIP digest is MD5

    try:
        statuses = [send(1)]
        challenge = send.last  # type: ignore[attr-defined]
        nonce = re.search(r'nonce="([^"]+)"', challenge).group(1)
        assert f'realm="{to_domain}"' in challenge  # challenged in the To's realm (auto_to)
        cnonce, nc = uuid.uuid4().hex[:16], "00000001"
        ha1 = md5(f"{user}:{own_domain}:{password}")
        response = md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{md5(f'REGISTER:{uri}')}")
        authorization = (
            f'Authorization: Digest username="{user}", realm="{own_domain}", nonce="{nonce}", '
            f'uri="{uri}", response="{response}", algorithm=MD5, qop=auth, nc={nc}, cnonce="{cnonce}"\r\n'
        )
        statuses.append(send(2, authorization))
        return statuses
    finally:
        sock.close()


def _contacts(e2e, user: str, domain: str) -> str:
    return e2e.switch.api(f"sofia_contact */{user}@{domain}")


def test_a_crafted_client_cannot_register_as_another_tenants_user(e2e) -> None:
    """sofia stores a registration as the To's user@host but checks the digest in the realm the
    client answered in. Answering in its own realm, acme's 101 would become beta's 101 and ring for
    beta's calls; kumo refuses the lookup, and when the switch holds acme's 101 cached (no lookup)
    removes the registration the moment sofia reports it."""
    password = ACME.password("101")
    # Not cached: the switch asks kumo, which refuses a REGISTER for beta authenticated as acme.
    e2e.switch.api(f"xml_flush_cache id 101 {ACME.domain}")
    assert crafted_register(e2e.registrar, "101", ACME.domain, password, BETA.domain)[-1] == 403
    assert "127.0.0.1" not in _contacts(e2e, "101", BETA.domain)

    # Cached: acme's 101 registered honestly a moment ago, so the switch accepts from its cache...
    e2e.registered_phone(ACME.domain, "101")
    crafted_register(e2e.registrar, "101", ACME.domain, password, BETA.domain)
    # ...and kumo removes it at once (sofia::register with realm acme for beta's 101).
    deadline = time.monotonic() + 5
    while "127.0.0.1" in _contacts(e2e, "101", BETA.domain) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "127.0.0.1" not in _contacts(e2e, "101", BETA.domain), _contacts(e2e, "101", BETA.domain)
    # beta's own 101 still registers and is reached.
    beta_101 = e2e.registered_phone(BETA.domain, "101")
    assert f":{beta_101.port}" in _contacts(e2e, "101", BETA.domain)
