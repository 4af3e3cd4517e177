"""Call history: fsctl.cdr.history.call_history with the page's filters, and the same as CSV.

A tenant admin sees the whole tenant (and may filter by user); a tenant user only their own calls."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, g, render_template, request, stream_with_context
from flask_babel import gettext

from fsctl.cdr.history import DIRECTIONS, HistoryFilter, call_history, iter_history
from fsctl.csv_safe import SafeWriter
from webpanel.extensions import db
from webpanel.security import tenant_required
from webpanel.views.media import own_extension

bp = Blueprint("history", __name__, url_prefix="/history")

FILTER_KEYS = ("from", "to", "user", "number", "direction", "outcome")
CSV_BATCH = 2000


def _day(value: str, zone: ZoneInfo) -> dt.datetime | None:
    try:
        return dt.datetime.combine(dt.date.fromisoformat(value.strip()), dt.time(), zone)
    except ValueError:
        return None


def history_filter(page: int = 1, per_page: int = 50) -> HistoryFilter:
    """The filter the query string asks for, scoped to the signed-in tenant (and user)."""
    args = request.args
    zone = ZoneInfo(g.tenant.timezone or "Asia/Tokyo")
    since = _day(args.get("from", ""), zone)
    until = _day(args.get("to", ""), zone)
    mine = own_extension()
    direction = args.get("direction", "")
    return HistoryFilter(
        tenant_id=g.tenant.id,
        since=since,
        until=until + dt.timedelta(days=1) if until else None,  # "to" includes that day
        extension=mine if mine is not None else (args.get("user", "").strip() or None),
        number=args.get("number", "").strip() or None,
        direction=direction if direction in DIRECTIONS else None,
        screened=args.get("outcome") == "screened",  # refused by caller screening only
        page=page,
        per_page=per_page,
    )


def _page_number() -> int:
    try:
        return max(int(request.args.get("page", "1")), 1)
    except ValueError:
        return 1


def screening_words() -> dict[str, str]:
    """Why caller screening refused a call, in the panel's language: the page's and the CSV's words."""
    return {
        "blocked": gettext("Blocked"),
        "withheld": gettext("Refused: number withheld"),
        "payphone": gettext("Refused: payphone"),
        "unavailable": gettext("Refused: number unavailable"),
    }


@bp.get("/")
@tenant_required
def index():
    result = call_history(db.session, history_filter(_page_number()))
    filters = {key: request.args.get(key, "") for key in FILTER_KEYS if request.args.get(key)}
    return render_template(
        "history/index.html",
        result=result,
        filters=filters,
        directions=DIRECTIONS,
        admin=own_extension() is None,
        screened_words=screening_words(),
    )


def _local(started: dt.datetime, zone: ZoneInfo) -> str:
    """2026/11/20 10:00:00 on the tenant's clock (stored UTC); a form Excel reads as a date and time."""
    if started.tzinfo is None:
        started = started.replace(tzinfo=dt.UTC)
    local = started.astimezone(zone)
    # Field by field: strftime was a fifth of exporting a day of calls (one call per row).
    return (
        f"{local.year:04d}/{local.month:02d}/{local.day:02d}"
        f" {local.hour:02d}:{local.minute:02d}:{local.second:02d}"
    )


@bp.get("/calls.csv")
@tenant_required
def export_csv():
    base = history_filter(per_page=CSV_BATCH)

    zone = ZoneInfo(g.tenant.timezone or "Asia/Tokyo")
    # Words for the spreadsheet, in the panel's language (read before streaming starts).
    header = [
        gettext("Started (%(zone)s)", zone=g.tenant.timezone or "Asia/Tokyo"),
        gettext("Direction"),
        gettext("Extension"),
        gettext("Number"),
        gettext("Caller"),
        gettext("Destination"),
        gettext("Outcome"),
        gettext("Billed seconds"),
        gettext("Charge (yen)"),
    ]
    directions = {"in": gettext("Incoming"), "out": gettext("Outgoing"), "internal": gettext("Internal")}
    screened = screening_words()  # the page's own column's words
    answered, not_answered = gettext("Answered"), gettext("Not answered")

    def outcome(item) -> str:
        if item.screened:
            return screened.get(item.screened, item.screened)
        return answered if item.answered else not_answered

    def rows() -> Iterator[str]:
        # A byte-order mark: Japanese Excel otherwise reads UTF-8 as Shift_JIS and garbles the text.
        buffer = io.StringIO("\ufeff")
        buffer.seek(0, io.SEEK_END)
        writer = SafeWriter(buffer)
        writer.writerow(header)
        for items in iter_history(db.session, base, batch=CSV_BATCH):
            for item in items:
                writer.writerow(
                    [
                        _local(item.started_at, zone),
                        directions.get(item.direction, item.direction),
                        item.extension or "",
                        item.number or "",
                        item.caller,
                        item.destination,
                        outcome(item),
                        item.billsec,
                        item.charge_yen,
                    ]
                )
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()

    return Response(
        stream_with_context(rows()),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": "attachment; filename=calls.csv"},
    )
