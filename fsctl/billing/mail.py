"""E-mailing an invoice PDF to the tenant's billing address over SMTP (fsctl.mail)."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from fsctl.billing.pdf import yen
from fsctl.billing.settings import BillingSettings
from fsctl.mail import send_each


def invoice_message(doc: dict, pdf: bytes, to: str, settings: BillingSettings) -> EmailMessage:
    year, month = doc["month"].split("-")
    message = EmailMessage()
    message["Subject"] = (
        f"【{settings.issuer_name}】{int(year)}年{int(month)}月分 ご請求書 ({doc['invoice_number']})"
    )
    message["From"] = settings.smtp.sender
    message["To"] = to
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=settings.smtp.sender.rpartition("@")[2] or "kumo.invalid")
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
    """Send on one SMTP connection (fsctl.mail); (index, reason) of each message the server refused.

    A refused recipient or message is that statement's failure alone: the others are still sent. The
    connection itself failing raises OSError/SMTPException, no server configured RuntimeError.
    """
    if messages and not settings.smtp.enabled:
        raise RuntimeError("FSCTL_SMTP_HOST is not set: invoices cannot be e-mailed")
    return send_each(messages, settings.smtp)
