"""Users in bulk: CSV export, and CSV import with a preview that shows each row's problems first.

The import is the same validation as every other save (the tenant document through the tenant file's apply):
the preview applies the rows and rolls back, mapping fsctl's `users[i]` errors back to CSV rows; the
import applies them for real and shows a printable sheet of the new phones' credentials, once.
Headers are read in either language (内線番号 / extension ...); Excel's Shift_JIS CSV is read too.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from flask import Blueprint, Response, g, render_template, request
from flask_babel import gettext

from fsctl.csv_safe import SafeWriter
from webpanel.csv_import import MAX_BYTES, decode, preview_rows
from webpanel.provisioning import generate_sip_password, phone_settings
from webpanel.security import admin_required
from webpanel.tenantdoc import SaveRefused, current_document, save_tenant
from webpanel.views.common import actor, confirmed

bp = Blueprint("users_csv", __name__, url_prefix="/users")
MAX_ROWS = 1000
DIRECTIONS = {"both": "both", "inbound_only": "inbound_only", "outbound_only": "outbound_only"}


def _headers() -> dict[str, str]:
    """Column -> document key; both languages' headers are accepted whatever the panel's language."""
    return {
        "extension": "extension",
        "内線番号": "extension",
        "name": "name",
        "名前": "name",
        "direction": "direction",
        "通話": "direction",
        gettext("Extension").lower(): "extension",
        gettext("Name").lower(): "name",
        gettext("Calls").lower(): "direction",
    }


def _direction_words() -> dict[str, str]:
    return {
        "": "both",
        "発着信": "both",
        "着信のみ": "inbound_only",
        "発信のみ": "outbound_only",
        gettext("In and out").lower(): "both",
        gettext("Incoming only").lower(): "inbound_only",
        gettext("Outgoing only").lower(): "outbound_only",
        **DIRECTIONS,
    }


@dataclass
class Row:
    line: int  # the CSV line, as a spreadsheet numbers it (the header is line 1)
    extension: str
    name: str
    direction: str
    errors: list[str] = field(default_factory=list)


def parse(text: str) -> tuple[list[Row], str | None]:
    """Rows of the CSV, or a problem with the file as a whole."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        return [], gettext("The file is empty.")
    known = _headers()
    columns = [known.get(h.strip().lower(), "") for h in header]
    if "extension" not in columns or "name" not in columns:
        return [], gettext(
            "The first line must name the columns: 内線番号 (or extension) and 名前 (or name)."
        )
    words = _direction_words()
    rows = []
    for number, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        cells = {key: (values[i].strip() if i < len(values) else "") for i, key in enumerate(columns) if key}
        row = Row(number, cells.get("extension", ""), cells.get("name", ""), "both")
        direction = words.get(cells.get("direction", "").lower())
        if direction is None:
            row.errors.append(
                gettext("Calls: use 発着信, 着信のみ or 発信のみ (both, inbound_only, outbound_only).")
            )
        else:
            row.direction = direction
        rows.append(row)
        if len(rows) > MAX_ROWS:
            return [], gettext("At most %(n)d users per file.", n=MAX_ROWS)
    if not rows:
        return [], gettext("The file has no users after the header line.")
    return rows, None


def _add(rows: list[Row], passwords: list[str]):
    def change(document: dict) -> None:
        for row, password in zip(rows, passwords, strict=True):
            document["users"].append(
                {
                    "extension": row.extension,
                    "name": row.name,
                    "direction": row.direction,
                    "password": password,
                }
            )

    return change


def preview(rows: list[Row]) -> list[str]:
    """Apply the rows and roll back: every row's problems, nothing saved (webpanel.csv_import)."""
    doc = current_document(g.tenant)

    def with_rows(remaining: list[Row]) -> dict:
        document = dict(doc, users=list(doc["users"]))
        _add(remaining, ["preview-only-password-1"] * len(remaining))(document)
        return document

    return preview_rows(rows, "users", doc, with_rows)


@bp.get("/export.csv")
@admin_required
def export():
    doc = current_document(g.tenant)
    buffer = io.StringIO("\ufeff")  # a BOM: Japanese Excel reads UTF-8
    buffer.seek(0, io.SEEK_END)
    writer = SafeWriter(buffer)
    writer.writerow([gettext("Extension"), gettext("Name"), gettext("Calls")])
    for user in doc["users"]:
        writer.writerow([user["extension"], user["name"], user["direction"]])
    return Response(
        buffer.getvalue(),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": "attachment; filename=users.csv"},
    )


@bp.route("/import", methods=["GET", "POST"])
@admin_required
def import_users():
    if request.method == "GET":
        return render_template("users/import.html", rows=None, problem=None, other=[], text="")
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        raw = upload.read(MAX_BYTES + 1)
        text = "" if len(raw) > MAX_BYTES else decode(raw)
        if len(raw) > MAX_BYTES:
            return render_template(
                "users/import.html", rows=None, problem=gettext("The file is too large."), other=[], text=""
            ), 422
    else:
        text = request.form.get("csv_text", "")  # the previewed file, posted back to import it
    rows, problem = parse(text)
    if problem:
        return render_template("users/import.html", rows=None, problem=problem, other=[], text=""), 422
    other = preview(rows)
    failed = other or any(r.errors for r in rows)
    if failed or not confirmed(request.form):
        status = 422 if failed else 200
        return render_template("users/import.html", rows=rows, problem=None, other=other, text=text), status
    passwords = [generate_sip_password() for _ in rows]
    try:
        save_tenant(
            g.tenant.id,
            _add(rows, passwords),
            actor=actor(),
            action="user.import",
            summary=f"{len(rows)} users",
        )
    except SaveRefused as refused:  # changed since the preview
        other = [str(p) for p in refused.problems()]
        return render_template("users/import.html", rows=rows, problem=None, other=other, text=text), 422
    sheet = [
        (row, phone_settings(g.tenant.domain, row.extension, pw))
        for row, pw in zip(rows, passwords, strict=True)
    ]
    return render_template("users/sheet.html", sheet=sheet)
