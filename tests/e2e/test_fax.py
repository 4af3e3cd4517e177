"""FAX to e-mail through the real switch: the switch itself sends a two-page fax (txfax, mod_spandsp)
from the carrier's side to the tenant's fax number, which kumo's plan answers with rxfax; kumo learns
of it from the CDR, records it (sender, pages, result), turns the TIFF into a PDF of as many pages and
mails the PDF. First as G.711 audio (the sender refuses T.38), then with the sender asking for T.38 by
re-INVITE. Another tenant with its own fax number sees none of it."""

from __future__ import annotations

import email
import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from e2e.panel_api import running_panel
from e2e.tenants import TENANTS, Tenant

FAX_NUMBER = "0377770400"
OTHER_FAX = "0377770401"
SENDER = "0355550101"
MAILBOX = "soumu@fax.e2e.test"
PAGES = 2


def _fax_tenant(domain: str, number: str, address: str) -> dict:
    """A tenant whose one outside number receives faxes, mailed to `address`."""
    return {
        "domain": domain,
        "name": f"Fax E2E {domain}",
        "timezone": "Asia/Tokyo",
        "status": "active",
        "max_external_channels": 2,
        "users": [{"extension": "101", "name": "Desk", "password": f"E2e-{domain[:4]}-101-pass"}],
        "numbers": [{"number": number}],
        "fax": [{"number": number, "emails": [address]}],
    }


@pytest.fixture(scope="module")
def office(e2e) -> Tenant:
    documents = (
        _fax_tenant("fax.e2e.test", FAX_NUMBER, MAILBOX),
        _fax_tenant("fax2.e2e.test", OTHER_FAX, "other@fax2.e2e.test"),
    )
    for document in documents:
        e2e.kumo.apply(document)
        TENANTS[document["domain"]] = Tenant(document)
    return TENANTS["fax.e2e.test"]


@pytest.fixture(scope="module")
def fax_page(e2e) -> Path:
    """A two-page A4 fax document as fax machines send it: 1728 pixels wide, fine resolution
    (204 x 196 dpi), bilevel, Group 4 (T.6) compressed: what mod_spandsp's txfax reads."""
    path = e2e.workdir / "fax-fixture.tif"
    pages = []
    for number in range(1, PAGES + 1):
        page = Image.new("1", (1728, 2200), 1)
        draw = ImageDraw.Draw(page)
        draw.rectangle((100, 100, 1628, 2100), outline=0, width=8)
        draw.text((200, 200), f"kumo e2e fax page {number}", fill=0)
        pages.append(page)
    pages[0].save(path, save_all=True, append_images=pages[1:], compression="group4", dpi=(204, 196))
    return path


def _faxes(e2e, domain: str) -> list:
    return e2e.kumo.rows(
        "SELECT f.id, f.call_uuid, f.number, f.sender, f.pages, f.success, f.result_text, f.t38, f.pdf_path, "
        "f.tiff_path, f.mailed_to, f.mailed_at, f.mail_error FROM fax_messages f "
        "JOIN tenants t ON t.id = f.tenant_id WHERE t.domain = :d ORDER BY f.id",
        d=domain,
    )


def _send_fax(e2e, tiff: Path, t38: bool) -> None:
    """The switch dials the fax number from its carrier profile to its carrier profile (the carrier's
    address, which the ACL admits) and sends the document once answered."""
    variables = (
        # rtp_timer_name: see fsctl/routing/fax.py; the sending leg needs it as much as the receiver.
        f"origination_caller_id_number={SENDER},fax_ident={SENDER},fax_header=e2e,rtp_timer_name=soft,"
        f"fax_enable_t38={'true' if t38 else 'false'},fax_enable_t38_request={'true' if t38 else 'false'}"
    )
    target = f"sofia/carrier/{FAX_NUMBER}@{e2e.carrier_profile}"
    answer = e2e.switch.api(f"originate {{{variables}}}{target} &txfax({tiff})")
    assert answer.startswith("+OK"), answer


def _mails_for(e2e, address: str) -> list:
    return [m for m in e2e.smtp.messages if address in m.recipients]


def _check_received(e2e, office: Tenant, before: int, t38: bool):
    rows = e2e.wait_until(lambda: _faxes(e2e, office.domain)[before:], timeout=90, what="the fax recorded")
    fax = rows[0]
    assert fax.success, fax.result_text
    assert fax.number == FAX_NUMBER and fax.sender == SENDER
    assert fax.pages == PAGES
    assert bool(fax.t38) is t38
    # The PDF replaced the TIFF, in the tenant's own fax directory, private.
    pdf = Path(fax.pdf_path)
    assert pdf.is_relative_to(e2e.workdir / "fax" / office.domain)
    assert pdf.stat().st_mode & 0o777 == 0o600
    assert not fax.tiff_path and not list(pdf.parent.glob("*.tif"))
    body = pdf.read_bytes()
    assert body.startswith(b"%PDF-") and body.count(b"/Type /Page\n") + body.count(b"/Type /Page ") >= PAGES
    return fax, body


def test_a_g711_fax_is_recorded_converted_and_mailed(e2e, office: Tenant, fax_page: Path) -> None:
    before = len(_faxes(e2e, office.domain))
    mails = len(_mails_for(e2e, MAILBOX))
    _send_fax(e2e, fax_page, t38=False)
    fax, body = _check_received(e2e, office, before, t38=False)
    mail = e2e.wait_until(lambda: _mails_for(e2e, MAILBOX)[mails:], timeout=20, what="the fax's mail")[0]
    message = email.message_from_bytes(mail.message.as_bytes())
    attachments = [part for part in message.walk() if part.get_content_type() == "application/pdf"]
    assert len(attachments) == 1 and attachments[0].get_payload(decode=True) == body
    assert SENDER in message["Subject"]
    # The fax is marked mailed in the transaction that sent it, which commits just after the
    # SMTP server has the message: wait for the commit rather than race it.
    row = e2e.wait_until(
        lambda: [r for r in _faxes(e2e, office.domain)[before : before + 1] if r.mailed_at is not None],
        timeout=10,
        what="the fax marked mailed",
    )[0]
    assert row.mailed_to == MAILBOX and not row.mail_error
    # The other tenant, with a fax number of its own, received nothing and was mailed nothing.
    assert _faxes(e2e, "fax2.e2e.test") == []
    assert not _mails_for(e2e, "other@fax2.e2e.test")
    assert not (e2e.workdir / "fax" / "fax2.e2e.test").exists()


def test_a_t38_fax_is_received_after_the_senders_reinvite(e2e, office: Tenant, fax_page: Path) -> None:
    before = len(_faxes(e2e, office.domain))
    _send_fax(e2e, fax_page, t38=True)
    _check_received(e2e, office, before, t38=True)


def _get(base: str, token: str, path: str) -> tuple[int, bytes]:
    request = urllib.request.Request(f"{base}{path}", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_the_received_fax_is_served_to_its_tenant_only(e2e, office: Tenant) -> None:
    """Through the panel's API as each tenant's administrator would call it: the PDF is the one made
    from the call; the other tenant's list is empty and the fax's id is unknown to it."""
    fax = _faxes(e2e, office.domain)[0]
    with running_panel(e2e, office.domain, "fax-owner") as (base, token):
        status, body = _get(base, token, "/api/v1/faxes")
        assert status == 200 and fax.id in [f["id"] for f in json.loads(body)]
        status, pdf = _get(base, token, f"/api/v1/faxes/{fax.id}/pdf")
        assert status == 200 and pdf == Path(fax.pdf_path).read_bytes()
    with running_panel(e2e, "fax2.e2e.test", "fax-other") as (base, token):
        status, listed = _get(base, token, "/api/v1/faxes")
        assert status == 200 and json.loads(listed) == []
        assert _get(base, token, f"/api/v1/faxes/{fax.id}")[0] == 404
        assert _get(base, token, f"/api/v1/faxes/{fax.id}/pdf")[0] == 404
