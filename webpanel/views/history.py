"""Call history: fsctl.cdr.history.call_history with the page's filters, and the same as CSV.

A tenant admin sees the whole tenant (and may filter by user); a tenant user only their own calls."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, g, render_template, request, stream_with_context

from fsctl.cdr.history import DIRECTIONS, HistoryFilter, call_history, iter_history
from fsctl.csv_safe import SafeWriter
from webpanel.extensions import db
from webpanel.security import tenant_required
from webpanel.views.media import own_extension

bp = Blueprint("history", __name__, url_prefix="/history")

FILTER_KEYS = ("from", "to", "user", "number", "direction")
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
        page=page,
        per_page=per_page,
    )


def _page_number() -> int:
    try:
        return max(int(request.args.get("page", "1")), 1)
    except ValueError:
        return 1


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
    )


@bp.get("/calls.csv")
@tenant_required
def export_csv():
    base = history_filter(per_page=CSV_BATCH)

    def rows() -> Iterator[str]:
        buffer = io.StringIO()
        writer = SafeWriter(buffer)
        writer.writerow(
            [
                "started_at",
                "direction",
                "extension",
                "number",
                "caller",
                "destination",
                "billsec",
                "charge_yen",
            ]
        )
        for items in iter_history(db.session, base, batch=CSV_BATCH):
            for item in items:
                writer.writerow(
                    [
                        item.started_at.isoformat(),
                        item.direction,
                        item.extension or "",
                        item.number or "",
                        item.caller,
                        item.destination,
                        item.billsec,
                        item.charge_yen,
                    ]
                )
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()

    return Response(
        stream_with_context(rows()),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=calls.csv"},
    )
