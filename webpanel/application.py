"""The formal application, as the brochure describes it (steps 2 and 3), and the mails of each step.

1. The customer enters the contract holder's details in the panel and downloads the application
   form (a PDF filled with them), signs and seals it, and posts it with a copy of an identity
   document (state WAITING_DOCUMENTS).
2. The operator ticks each document as it arrives; with all of them the state is DOCUMENTS_RECEIVED.
3. The operator posts a 転送不要の簡易書留 (registered mail that is not forwarded) to the address on the
   form and records its tracking number (MAIL_SENT): its delivery proves the address.
4. Delivered: the application is VERIFIED and the tenant becomes active (outside calls, numbers).
At any step before 4 the operator can send it back with a reason (RETURNED, e.g. a document
missing, or the registered mail came back); the customer corrects the details and sends it again.

Each step mails the contact (Japanese first, then English), through FSCTL_SMTP_* like every mail.
Only legal transitions happen: `advance` refuses anything else with ApplicationRefused.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
import unicodedata
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from xml.sax.saxutils import escape

from flask import current_app

from fsctl import models
from fsctl.mail import SmtpSettings, send, smtp_settings_from_env
from webpanel.i18n import N_

log = logging.getLogger(__name__)
State = models.ApplicationState

# What the customer posts; the operator ticks each as it arrives. (key, Japanese, English)
DOCUMENTS: tuple[tuple[str, str, str], ...] = (
    ("form", "申込書（記名・押印したもの）", "the application form, signed and sealed"),
    (
        "identity",
        "本人確認書類の写し（法人: 履歴事項全部証明書 / 個人事業主: 運転免許証など）",
        "a copy of an identity document (a company: its certificate of registered matters; a sole "
        "proprietor: a driving licence or similar)",
    ),
)
DOCUMENT_KEYS = tuple(key for key, _, _ in DOCUMENTS)
OPEN_STATES = (State.WAITING_DOCUMENTS, State.DOCUMENTS_RECEIVED, State.MAIL_SENT)
POSTAL_CODE = re.compile(r"^[0-9]{3}-?[0-9]{4}$")
TRACKING = re.compile(r"^[0-9A-Za-z-]{6,40}$")


class ApplicationRefused(ValueError):
    """A step that does not follow from the application's state, or a field that is wrong."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Details:
    legal_name: str
    representative: str
    postal_code: str
    address: str
    phone: str


# What people type for the hyphen in 100-0001 or 03-1234-5678 with a Japanese IME: the long vowel
# mark, minus signs and dashes. NFKC leaves these as they are.
_DASHES = str.maketrans({c: "-" for c in "ー－−‐‑–—―"})


def _clean(value: str, numeric: bool = False) -> str:
    # NFKC: full-width digits and letters become ASCII ones.
    text = unicodedata.normalize("NFKC", value or "")
    if numeric:
        text = text.translate(_DASHES)
    return " ".join(text.split())


def details_errors(form: dict) -> tuple[Details | None, dict[str, str]]:
    """The contract holder's details from a form, or every field's problem at once (English keys of
    the panel's messages: the view translates them)."""
    values = {key: _clean(form.get(key, "")) for key in ("legal_name", "representative", "address")}
    values.update({key: _clean(form.get(key, ""), numeric=True) for key in ("postal_code", "phone")})
    errors: dict[str, str] = {}
    limits = {"legal_name": 200, "representative": 100, "address": 300}
    for key, limit in limits.items():
        if not values[key]:
            errors[key] = N_("Please fill this in.")
        elif len(values[key]) > limit:
            errors[key] = N_("This is too long.")
    if not POSTAL_CODE.match(values["postal_code"]):
        errors["postal_code"] = N_("Enter the 7-digit postal code (e.g. 100-0001).")
    digits = re.sub(r"[^0-9]", "", values["phone"])
    if not 10 <= len(digits) <= 11 or not digits.startswith("0"):
        errors["phone"] = N_("Enter a Japanese phone number of 10 or 11 digits.")
    if errors:
        return None, errors
    code = values["postal_code"].replace("-", "")
    return Details(
        legal_name=values["legal_name"],
        representative=values["representative"],
        postal_code=f"{code[:3]}-{code[3:]}",
        address=values["address"],
        phone=values["phone"],
    ), {}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def submit(profile: models.TenantProfile, details: Details) -> None:
    """The customer sends (or, after a return, sends again) the application; the caller commits."""
    if profile.application_state not in (State.NONE, State.RETURNED):
        raise ApplicationRefused("application", N_("The application was already sent."))
    profile.legal_name, profile.representative = details.legal_name, details.representative
    profile.postal_code, profile.address, profile.phone = details.postal_code, details.address, details.phone
    profile.applied_at = _now()
    profile.application_state = State.WAITING_DOCUMENTS
    profile.returned_reason = ""
    profile.documents = ""


def receive_documents(profile: models.TenantProfile, received: list[str]) -> None:
    """The operator ticks what arrived; all of them moves the application on. The caller commits."""
    if profile.application_state not in (State.WAITING_DOCUMENTS, State.DOCUMENTS_RECEIVED):
        raise ApplicationRefused(
            "documents", N_("Documents are checked while the application waits for them.")
        )
    unknown = [key for key in received if key not in DOCUMENT_KEYS]
    if unknown:
        raise ApplicationRefused("documents", N_("Unknown document."))
    profile.documents = " ".join(key for key in DOCUMENT_KEYS if key in received)
    if all(key in received for key in DOCUMENT_KEYS):
        profile.application_state = State.DOCUMENTS_RECEIVED
        profile.documents_received_at = profile.documents_received_at or _now()
    else:
        profile.application_state = State.WAITING_DOCUMENTS
        profile.documents_received_at = None


def mail_sent(profile: models.TenantProfile, tracking: str) -> None:
    """The registered mail to the address on the form is on its way. The caller commits."""
    if profile.application_state != State.DOCUMENTS_RECEIVED:
        raise ApplicationRefused(
            "mail_tracking", N_("The registered mail is sent once every document arrived.")
        )
    tracking = _clean(tracking, numeric=True).replace(" ", "")
    if not TRACKING.match(tracking):
        raise ApplicationRefused("mail_tracking", N_("Enter the tracking number of the registered mail."))
    profile.mail_tracking = tracking
    profile.mail_sent_at = _now()
    profile.application_state = State.MAIL_SENT


def verify(profile: models.TenantProfile, by: str) -> None:
    """The registered mail was delivered: the address is proven. The caller activates the tenant."""
    if profile.application_state != State.MAIL_SENT:
        raise ApplicationRefused(
            "application", N_("Only a delivered registered mail completes the application.")
        )
    profile.application_state = State.VERIFIED
    profile.verified_at = _now()
    profile.verified_by = by


def send_back(profile: models.TenantProfile, reason: str) -> None:
    """Return the application to the customer with a reason they can act on. The caller commits."""
    if profile.application_state not in OPEN_STATES:
        raise ApplicationRefused("reason", N_("Only an application in progress can be sent back."))
    reason = (reason or "").strip()
    if not 1 <= len(reason) <= 1000:
        raise ApplicationRefused("reason", N_("Say why, so the customer knows what to do."))
    profile.application_state = State.RETURNED
    profile.returned_reason = reason
    profile.mail_tracking = ""
    profile.mail_sent_at = None


# -- mails ----------------------------------------------------------------------------------------

_MAILS = {
    State.WAITING_DOCUMENTS: (
        "【kumo】正式申し込みを受け付けました / Application received",
        "{company} 様\n\n正式申し込みを受け付けました。コントロール画面から申込書をダウンロードし、記名・押印のうえ、"
        "次の書類と合わせてご郵送ください。\n{documents_ja}\n送付先: {mail_to}\n\n"
        "書類の到着を確認次第、ご住所の確認のため「転送不要の簡易書留」をお送りします。\n\n"
        "We received your formal application. Download the application form from the control panel, "
        "sign and seal it, and post it with:\n{documents_en}\nto: {mail_to}\n"
        "Once they arrive we send a registered mail to your address to verify it.\n",
    ),
    State.DOCUMENTS_RECEIVED: (
        "【kumo】書類が到着しました / Your documents arrived",
        "{company} 様\n\nお送りいただいた書類を確認しました。近日中に、ご住所あてに「転送不要の簡易書留」をお送りします。\n\n"
        "Your documents arrived and were checked. We will shortly send a registered mail to your address.\n",
    ),
    State.MAIL_SENT: (
        "【kumo】簡易書留を発送しました / Registered mail sent",
        "{company} 様\n\nご住所確認のための「転送不要の簡易書留」を発送しました（追跡番号 {tracking}）。"
        "お受け取りが確認でき次第、正式にご利用を開始いただけます。\n\n"
        "We sent a registered mail to your address (tracking number {tracking}); it is not forwarded. "
        "As soon as it is delivered, your account becomes active.\n",
    ),
    State.VERIFIED: (
        "【kumo】ご利用を開始いただけます / Your account is active",
        "{company} 様\n\nご住所の確認ができました。本日から外線を含めすべての機能をご利用いただけます。"
        "コントロール画面で番号の選択、内線ユーザーの追加、着信設定を行ってください。\n\n"
        "Your address was verified and your account is active: outside calls work from now on. "
        "Choose your numbers, add users and set up incoming calls in the control panel.\n",
    ),
    State.RETURNED: (
        "【kumo】正式申し込みについてのお願い / About your application",
        "{company} 様\n\n正式申し込みを進めることができませんでした。理由:\n{reason}\n\n"
        "コントロール画面で内容をご確認のうえ、もう一度お申し込みください。\n\n"
        "We could not go on with your application. The reason:\n{reason}\n"
        "Please check it in the control panel and apply again.\n",
    ),
}


def smtp_settings() -> SmtpSettings:
    return current_app.config.get("SMTP_SETTINGS") or smtp_settings_from_env()


def message_for(
    profile: models.TenantProfile, company: str, mail_to: str, smtp: SmtpSettings
) -> EmailMessage:
    subject, body = _MAILS[profile.application_state]
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = smtp.sender
    message["To"] = profile.email
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=smtp.sender.rpartition("@")[2] or "kumo.invalid")
    message.set_content(
        body.format(
            company=profile.legal_name or company,
            documents_ja="\n".join(f"・{ja}" for _, ja, _ in DOCUMENTS),
            documents_en="\n".join(f"- {en}" for _, _, en in DOCUMENTS),
            mail_to=mail_to or "(コントロール画面をご覧ください / see the control panel)",
            tracking=profile.mail_tracking,
            reason=profile.returned_reason,
        )
    )
    return message


def notify(profile: models.TenantProfile, company: str, mail_to: str) -> bool:
    """Mail the contact about the step just taken; whether it was sent (a failure is logged: the
    step stands, and the panel shows the same news)."""
    smtp = smtp_settings()
    if not smtp.enabled:
        log.error(
            "application mail (%s) to %s not sent: FSCTL_SMTP_HOST is not set",
            profile.application_state,
            profile.email,
        )
        return False
    try:
        send(message_for(profile, company, mail_to, smtp), smtp)
    except OSError as exc:  # smtplib's errors are OSErrors
        log.error("application mail to %s failed: %s", profile.email, exc)
        return False
    return True


# -- the application form ------------------------------------------------------------------------


def form_pdf(profile: models.TenantProfile, tenant: models.Tenant, font_path: str, mail_to: str) -> bytes:
    """The application form, A4, filled with the details given in the panel, with room to sign and seal."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    from fsctl.billing.pdf import register_font

    font = register_font(font_path)
    style = ParagraphStyle("ja", fontName=font, fontSize=10, leading=15)
    title = ParagraphStyle("title", parent=style, fontSize=18, leading=24, alignment=1)

    def text(value: object) -> Paragraph:
        # Customer-typed values are text, never reportlab markup (see fsctl.billing.pdf).
        return Paragraph(escape(str(value or "")), style)

    applied = (
        profile.applied_at.astimezone(dt.timezone(dt.timedelta(hours=9))) if profile.applied_at else None
    )
    rows = [
        [text("契約者名（法人名・屋号）"), text(profile.legal_name)],
        [text("代表者名"), text(profile.representative)],
        [text("郵便番号"), text(f"〒{profile.postal_code}")],
        [text("住所"), text(profile.address)],
        [text("電話番号"), text(profile.phone)],
        [text("担当者 / メール"), text(f"{profile.contact_name} / {profile.email}")],
        [text("SIPドメイン"), text(tenant.domain)],
        [text("申込日"), text(f"{applied:%Y年%m月%d日}" if applied else "")],
        [text("記名・押印"), Spacer(1, 28 * mm)],
    ]
    table = Table(rows, colWidths=[45 * mm, 125 * mm])
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, "#444444"),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("BACKGROUND", (0, 0), (0, -1), "#eeeeee"),
            ]
        )
    )
    documents = "".join(f"・{escape(ja)}<br/>" for _, ja, _ in DOCUMENTS)
    story = [
        Paragraph("kumo クラウドPBX 利用申込書", title),
        Spacer(1, 8 * mm),
        table,
        Spacer(1, 8 * mm),
        Paragraph(f"同封いただく書類:<br/>{documents}", style),
        Spacer(1, 4 * mm),
        Paragraph(f"送付先: {escape(mail_to or '')}", style),
        Spacer(1, 4 * mm),
        Paragraph(
            "書類の到着を確認次第、上記住所あてに所在地確認のための「転送不要の簡易書留」を郵送します。"
            "書留の到着を確認次第、正式にご利用を開始いただけます。",
            style,
        ),
    ]
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4, title="kumo 利用申込書", invariant=True).build(story)
    return buffer.getvalue()
