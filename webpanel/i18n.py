"""Japanese by default, English selectable; Japanese conventions for dates, times and yen.

Message ids are English; webpanel/translations/ja/LC_MESSAGES/messages.po is the Japanese catalogue.
It is compiled to a .mo under the instance folder when the app starts (and whenever the .po is
newer), so a fresh checkout needs no build step and no binary file lives in git.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import tempfile
from pathlib import Path
from urllib.parse import urlencode

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, g, session
from flask_babel import format_date, format_datetime, get_locale, gettext

log = logging.getLogger(__name__)

CATALOGUES = Path(__file__).resolve().parent / "translations"
LANGUAGES = {"ja": "日本語", "en": "English"}
DEFAULT_LANGUAGE = "ja"
WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def compile_catalogues(target: Path) -> Path:
    """Compile every .po under webpanel/translations into `target` (atomically); returns `target`."""
    for po_path in CATALOGUES.glob("*/LC_MESSAGES/*.po"):
        relative = po_path.relative_to(CATALOGUES).with_suffix(".mo")
        mo_path = target / relative
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        with po_path.open("rb") as handle:
            catalogue = read_po(handle, locale=relative.parts[0])
        # Several panel processes may start at once: write aside, then rename into place.
        fd, tmp = tempfile.mkstemp(dir=mo_path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            write_mo(handle, catalogue)
        os.replace(tmp, mo_path)
        log.info("compiled %s", mo_path)
    return target


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
    """Compile the catalogues, point Flask-Babel at them, register the Jinja helpers."""
    from webpanel.extensions import babel

    target = compile_catalogues(Path(app.instance_path) / "translations")
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Asia/Tokyo")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(target)
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.filters.update(
        yen=yen,
        long_date=long_date,
        date_time=date_time,
        weekday=weekday_name,
        number_kind=number_kind_label,
        status_label=status_label,
        audit_detail=audit_detail,
        dict_without_page=lambda args: urlencode({k: v for k, v in args.items() if k != "page"}),
    )
    app.jinja_env.globals.update(LANGUAGES=LANGUAGES, current_lang=lang, tr=translate_message)
