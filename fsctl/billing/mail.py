"""E-mailing an invoice PDF to the tenant's billing address over SMTP."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from fsctl.billing.pdf import yen
from fsctl.billing.settings import BillingSettings


def invoice_message(doc: dict, pdf: bytes, to: str, settings: BillingSettings) -> EmailMessage:
    year, month = doc["month"].split("-")
    message = EmailMessage()
    message["Subject"] = (
        f"【{settings.issuer_name}】{int(year)}年{int(month)}月分 ご請求書 ({doc['invoice_number']})"
    )
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=settings.smtp_from.rpartition("@")[2] or "kumo.invalid")
    message.set_content(
        f"{doc['tenant']['name']} 御中\n\n"
        f"{int(year)}年{int(month)}月分のご利用料金のご請求書をお送りします。\n"
        f"ご請求金額: {yen(doc['total_yen'])} (税込、うち消費税 {yen(doc['tax_yen'])})\n"
        f"請求書番号: {doc['invoice_number']}\n\n{settings.issuer_name}\n"
        f"登録番号: {doc['issuer']['registration_number']}\n"
    )
    message.add_attachment(
        pdf, maintype="application", subtype="pdf", filename=f"{doc['invoice_number']}.pdf"
    )
    return message


def send(messages: list[EmailMessage], settings: BillingSettings) -> list[tuple[int, str]]:
    """Send on one SMTP connection; (index, reason) of each message the server refused.

    A refused recipient or message is that statement's failure alone: the others are still sent. The
    connection itself failing raises OSError/SMTPException (nothing more can be sent then).
    """
    if not messages:
        return []
    if not settings.smtp_host:
        raise RuntimeError("FSCTL_SMTP_HOST is not set: invoices cannot be e-mailed")
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
        refused: list[tuple[int, str]] = []
        for index, message in enumerate(messages):
            try:
                smtp.send_message(message)
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as exc:
                refused.append((index, str(exc)))
        return refused
