"""Japanese by default, English selectable; Japanese conventions for dates, times and yen.

Message ids are English; webpanel/translations/ja/LC_MESSAGES/messages.po is the Japanese catalogue and
the translation source: `make translations-update` (pybabel extract + update) adds new message ids
to it, a translator fills in their msgstr, and `make translations` (pybabel compile, run by
`make install`, hence by `make test` and `make run`) writes the messages.mo beside it that
Flask-Babel reads. The .mo is a build product and stays out of git.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path
from urllib.parse import urlencode

from flask import Flask, g, session
from flask_babel import format_date, format_datetime, get_locale, gettext

log = logging.getLogger(__name__)

CATALOGUES = Path(__file__).resolve().parent / "translations"
LANGUAGES = {"ja": "日本語", "en": "English"}
DEFAULT_LANGUAGE = "ja"
WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def N_(message: str) -> str:
    """Mark a message id for pybabel extract whose translation happens later (gettext_noop)."""
    return message


def stale_catalogues() -> list[Path]:
    """Every .po under webpanel/translations whose compiled .mo is missing or older than it."""
    stale = []
    for po_path in sorted(CATALOGUES.glob("*/LC_MESSAGES/*.po")):
        mo_path = po_path.with_suffix(".mo")
        if not mo_path.exists() or mo_path.stat().st_mtime < po_path.stat().st_mtime:
            stale.append(po_path)
    return stale


def select_locale() -> str:
    """The session's choice, else the account's, else Japanese."""
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    account = g.get("account")
    if account is not None and account.locale in LANGUAGES:
        return account.locale
    return DEFAULT_LANGUAGE


def lang() -> str:
    return str(get_locale() or DEFAULT_LANGUAGE)


def yen(amount: int | float | None) -> str:
    """1,000円 in Japanese, ¥1,000 in English."""
    if amount is None:
        return ""
    value = f"{round(amount):,}"
    return f"{value}円" if lang() == "ja" else f"¥{value}"


def long_date(value: dt.date | dt.datetime | None) -> str:
    """2026年11月25日(水) in Japanese, Wed, Nov 25, 2026 in English."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.date()
    if lang() == "ja":
        return format_date(value, "y年M月d日(E)")
    return format_date(value, "EEE, MMM d, y")


def date_time(value: dt.datetime | None) -> str:
    """2026/11/25 15:04 (24-hour clock, the platform's timezone)."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return format_datetime(value, "y/MM/dd HH:mm")


def weekday_name(key: str) -> str:
    names = {
        "mon": gettext("Mon"),
        "tue": gettext("Tue"),
        "wed": gettext("Wed"),
        "thu": gettext("Thu"),
        "fri": gettext("Fri"),
        "sat": gettext("Sat"),
        "sun": gettext("Sun"),
    }
    return names[key]


def number_kind_label(kind: str) -> str:
    labels = {
        "geographic": gettext("Geographic (03, 06, ...)"),
        "ip": gettext("IP phone (050)"),
        "toll_free": gettext("Toll-free (0120, 0800)"),
    }
    return labels.get(kind, kind)


def status_label(status: str) -> str:
    labels = {"trial": gettext("Trial"), "active": gettext("Active"), "suspended": gettext("Suspended")}
    return labels.get(status, status)


def application_state_label(state: str) -> str:
    labels = {
        "none": gettext("not yet"),
        "waiting_documents": gettext("waiting for documents"),
        "documents_received": gettext("documents received: registered mail to send"),
        "mail_sent": gettext("registered mail sent"),
        "verified": gettext("verified"),
        "returned": gettext("sent back to the customer"),
    }
    return labels.get(state, state)


def audit_detail(detail: str) -> str:
    """An audit entry's detail for people: the summary, then which parts of the tenant changed."""
    try:
        data = json.loads(detail)
    except (ValueError, TypeError):
        return detail
    if not isinstance(data, dict):
        return detail
    parts = [str(data.get("summary", ""))] if data.get("summary") else []
    if data.get("changed"):
        parts.append(", ".join(str(p) for p in data["changed"]))
    if not parts:
        parts = [f"{k}: {v}" for k, v in data.items()]
    return " — ".join(parts)


def translate_message(message: str) -> str:
    """A validation message from fsctl in the user's language when the catalogue knows it."""
    return gettext(message) if message else message


def init_i18n(app: Flask) -> None:
    """Point Flask-Babel at the compiled catalogues, register the Jinja helpers."""
    from webpanel.extensions import babel

    for po_path in stale_catalogues():
        log.error("%s is not compiled (or changed since): run `make translations`", po_path)
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Asia/Tokyo")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(CATALOGUES)
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.filters.update(
        yen=yen,
        long_date=long_date,
        date_time=date_time,
        weekday=weekday_name,
        number_kind=number_kind_label,
        status_label=status_label,
        application_state=application_state_label,
        audit_detail=audit_detail,
        dict_without_page=lambda args: urlencode({k: v for k, v in args.items() if k != "page"}),
    )
    app.jinja_env.globals.update(LANGUAGES=LANGUAGES, current_lang=lang, tr=translate_message)
