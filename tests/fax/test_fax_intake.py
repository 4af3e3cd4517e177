"""What kumo does with a fax call's CDR: the fax recorded once (sender, pages, result), its TIFF made a
private PDF of as many pages and dropped, the PDF mailed to the number's addresses, or the reason it
was not mailed kept; a failed fax recorded with its reason; a file outside the tenant's directory ignored."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from billing_smtp import SmtpSink
from fax_helpers import FAX_NUMBER, fax_leg, fax_tiff
from kumo_support import tenant_doc
from sqlalchemy import select

from fsctl import db, models
from fsctl.fax.intake import NOT_MAILED_NO_ADDRESS, NOT_MAILED_NO_SMTP, FaxFollower, FaxSettings
from fsctl.fax.pdf import FaxImageError, tiff_to_pdf
from fsctl.mail import SmtpSettings
from fsctl.wiring import tenant_file

DOMAIN = "acme.kumo.test"
NUMBERS = [{"number": "0312345678", "destination": {"ring_group": "reception"}}, {"number": FAX_NUMBER}]


@pytest.fixture
def fax_tenant(session_factory) -> int:
    with db.session_scope(session_factory) as session:
        tenant_file().apply(
            session,
            tenant_doc(numbers=NUMBERS, fax=[{"number": FAX_NUMBER, "emails": ["soumu@acme.example"]}]),
        )
        return db.tenant_by_domain(session, DOMAIN).id


@pytest.fixture
def smtp():
    sink = SmtpSink().start()
    yield sink
    sink.stop()


def _messages(session_factory) -> list[models.FaxMessage]:
    with session_factory() as session:
        return list(session.scalars(select(models.FaxMessage).order_by(models.FaxMessage.id)))


def _received(tmp_path: Path, uuid: str = "fax-leg-1", pages: int = 2):
    tiff = fax_tiff(tmp_path / "fax" / DOMAIN / f"{uuid}-1-1796666902858631.tif", pages=pages)
    variables = {
        "fax_success": "1",
        "fax_result_code": "0",
        "fax_result_text": "OK",
        "fax_document_transferred_pages": str(pages),
        "fax_remote_station_id": "0355550101",
        "fax_t38_status": "off",
        "fax_filename": str(tiff),
    }
    return fax_leg(uuid, **variables), tiff


def test_a_received_fax_is_recorded_once_as_a_private_pdf_and_mailed(
    session_factory, fax_tenant, tmp_path, smtp
):
    settings = FaxSettings(
        str(tmp_path / "fax"), SmtpSettings(host="127.0.0.1", port=smtp.port, sender="fax@kumo")
    )
    follower = FaxFollower(session_factory, settings)
    leg, tiff = _received(tmp_path)
    follower(leg, fax_tenant)
    follower(leg, fax_tenant)  # the same CDR posted again (or imported from the spool)
    [fax] = _messages(session_factory)
    assert (fax.number, fax.sender, fax.pages, fax.success, fax.t38) == (
        FAX_NUMBER,
        "0355550101",
        2,
        True,
        False,
    )
    pdf = Path(fax.pdf_path)
    assert pdf.parent == tmp_path / "fax" / DOMAIN and pdf.stat().st_mode & 0o777 == 0o600
    assert pdf.read_bytes().startswith(b"%PDF-") and not tiff.exists() and not fax.tiff_path
    assert fax.mailed_to == "soumu@acme.example" and fax.mailed_at is not None and not fax.mail_error
    [mail] = smtp.messages
    assert mail.recipients == ["soumu@acme.example"]
    [attachment] = [p for p in mail.message.walk() if p.get_content_type() == "application/pdf"]
    assert attachment.get_payload(decode=True) == pdf.read_bytes()
    assert attachment.get_filename() == "fax-20261207-1830-0355550101.pdf"  # the tenant's time (JST)


def test_without_smtp_the_fax_is_kept_and_says_it_was_not_mailed(session_factory, fax_tenant, tmp_path):
    follower = FaxFollower(session_factory, FaxSettings(str(tmp_path / "fax")))
    follower(_received(tmp_path)[0], fax_tenant)
    [fax] = _messages(session_factory)
    assert fax.pdf_path and fax.mailed_at is None and fax.mail_error == NOT_MAILED_NO_SMTP


def test_a_number_without_addresses_keeps_the_fax_unmailed(session_factory, tmp_path, smtp):
    with db.session_scope(session_factory) as session:
        tenant_file().apply(session, tenant_doc(numbers=NUMBERS, fax=[{"number": FAX_NUMBER}]))
        tenant_id = db.tenant_by_domain(session, DOMAIN).id
    settings = FaxSettings(str(tmp_path / "fax"), SmtpSettings(host="127.0.0.1", port=smtp.port))
    FaxFollower(session_factory, settings)(_received(tmp_path)[0], tenant_id)
    [fax] = _messages(session_factory)
    assert fax.mail_error == NOT_MAILED_NO_ADDRESS and not smtp.messages


def test_a_refused_mail_is_the_faxs_note(session_factory, fax_tenant, tmp_path, smtp):
    smtp.refuse.add("soumu@acme.example")
    settings = FaxSettings(str(tmp_path / "fax"), SmtpSettings(host="127.0.0.1", port=smtp.port))
    FaxFollower(session_factory, settings)(_received(tmp_path)[0], fax_tenant)
    [fax] = _messages(session_factory)
    assert fax.mailed_at is None and fax.mail_error.startswith("not mailed:")


def test_a_refused_mail_is_sent_again_later_and_only_once(session_factory, fax_tenant, tmp_path, smtp):
    smtp.refuse.add("soumu@acme.example")
    settings = FaxSettings(str(tmp_path / "fax"), SmtpSettings(host="127.0.0.1", port=smtp.port))
    follower = FaxFollower(session_factory, settings)
    follower(_received(tmp_path)[0], fax_tenant)
    [fax] = _messages(session_factory)
    received = fax.received_at.replace(tzinfo=fax.received_at.tzinfo or dt.UTC)
    # still refused: the note is renewed, nothing mailed
    assert follower.mail_pending(received + dt.timedelta(minutes=5)) == 0
    assert smtp.messages == [] and _messages(session_factory)[0].mail_error.startswith("not mailed:")
    smtp.refuse.clear()
    # a day later it is no longer tried; within the day it goes, once
    assert follower.mail_pending(received + dt.timedelta(days=2)) == 0
    assert follower.mail_pending(received + dt.timedelta(minutes=10)) == 1
    assert follower.mail_pending(received + dt.timedelta(minutes=15)) == 0
    [fax] = _messages(session_factory)
    assert fax.mailed_at is not None and fax.mail_error == "" and fax.mailed_to == "soumu@acme.example"
    assert len(smtp.messages) == 1


def test_a_fax_not_mailed_for_want_of_settings_or_addresses_is_not_retried(
    session_factory, fax_tenant, tmp_path, smtp
):
    follower = FaxFollower(session_factory, FaxSettings(str(tmp_path / "fax")))  # no SMTP settings
    follower(_received(tmp_path)[0], fax_tenant)
    [fax] = _messages(session_factory)
    assert fax.mail_error == NOT_MAILED_NO_SMTP
    received = fax.received_at.replace(tzinfo=fax.received_at.tzinfo or dt.UTC)
    assert follower.mail_pending(received + dt.timedelta(minutes=5)) == 0
    assert _messages(session_factory)[0].mail_error == NOT_MAILED_NO_SMTP


def test_a_failed_fax_is_recorded_with_its_reason(session_factory, fax_tenant, tmp_path):
    leg = fax_leg(
        "fax-leg-2",
        fax_success="0",
        fax_result_code="49",
        fax_result_text="The call dropped prematurely",
        fax_document_transferred_pages="0",
    )
    FaxFollower(session_factory, FaxSettings(str(tmp_path / "fax")))(leg, fax_tenant)
    [fax] = _messages(session_factory)
    assert (fax.success, fax.result_code, fax.result_text, fax.pages) == (
        False,
        49,
        "The call dropped prematurely",
        0,
    )
    assert not fax.pdf_path
    # A caller who hung up before the receiver started: no fax_* variable at all.
    FaxFollower(session_factory, FaxSettings(str(tmp_path / "fax")))(fax_leg("fax-leg-3"), fax_tenant)
    assert _messages(session_factory)[1].result_text == "no fax tone: nothing was received"


def test_a_file_outside_the_tenants_directory_is_never_read(session_factory, fax_tenant, tmp_path):
    elsewhere = fax_tiff(tmp_path / "fax" / "other.kumo.test" / "x.tif")
    leg = fax_leg(
        "fax-leg-4", fax_success="1", fax_document_transferred_pages="2", fax_filename=str(elsewhere)
    )
    FaxFollower(session_factory, FaxSettings(str(tmp_path / "fax")))(leg, fax_tenant)
    [fax] = _messages(session_factory)
    assert not fax.pdf_path and elsewhere.exists()


def test_a_leg_that_is_no_fax_is_left_alone(session_factory, fax_tenant, tmp_path):
    leg = fax_leg("voice-1")
    leg.variables.pop("kumo_fax_number")
    FaxFollower(session_factory, FaxSettings(str(tmp_path / "fax")))(leg, fax_tenant)
    assert _messages(session_factory) == []


def test_the_pdf_keeps_each_pages_true_size(tmp_path):
    tiff = fax_tiff(tmp_path / "standard.tif", pages=3, dpi=(204, 98))
    pdf = tmp_path / "standard.pdf"
    assert tiff_to_pdf(tiff, pdf) == 3
    body = pdf.read_bytes()
    # 1728 px at 204 dpi = 609.9 pt wide (A4 fax width); 2200 rows at 98 dpi = 1616.3 pt high.
    assert b"609.88" in body and b"1616.3" in body
    broken = tmp_path / "broken.tif"
    broken.write_bytes(b"II*\x00garbage")
    with pytest.raises(FaxImageError):
        tiff_to_pdf(broken, tmp_path / "broken.pdf")
    assert not (tmp_path / "broken.pdf").exists()


def test_faxes_are_purged_with_the_tenants_recordings_retention(session_factory, fax_tenant, tmp_path):
    import datetime as dt

    from fsctl.fax.inbox import purge_faxes

    follower = FaxFollower(session_factory, FaxSettings(str(tmp_path / "fax")))
    follower(_received(tmp_path, "old-fax")[0], fax_tenant)
    with db.session_scope(session_factory) as session:
        session.add(models.RecordingRetention(tenant_id=fax_tenant, days=30))
    [fax] = _messages(session_factory)
    pdf = Path(fax.pdf_path)
    received = fax.received_at.replace(tzinfo=dt.UTC) if fax.received_at.tzinfo is None else fax.received_at
    with db.session_scope(session_factory) as session:
        assert purge_faxes(session, 90, received + dt.timedelta(days=29)) == 0
    with db.session_scope(session_factory) as session:
        assert purge_faxes(session, 90, received + dt.timedelta(days=31)) == 1
    assert _messages(session_factory) == [] and not pdf.exists()
