"""The phonebook in bulk: CSV export, and CSV import with a preview that shows each line's problems
first (the users import's approach: the rows are applied and rolled back, fsctl's `phonebook[i]`
errors mapped back to CSV lines; nothing is saved until the preview is clean and confirmed).
Imported contacts are added to the ones already there. Headers are read in either language
(名前 / name, 電話番号 / numbers, 会社 / company, メモ / note); Excel's Shift_JIS CSV is read too."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext

from fsctl.csv_safe import SafeWriter
from webpanel.csv_import import MAX_BYTES, decode, preview_rows
from webpanel.document_edits import split_numbers
from webpanel.security import admin_required
from webpanel.tenantdoc import SaveRefused, current_document, save_tenant
from webpanel.views.common import actor, confirmed
from webpanel.views.phonebook import KEY

bp = Blueprint("phonebook_csv", __name__, url_prefix="/phonebook")
MAX_ROWS = 5000


def _headers() -> dict[str, str]:
    """Column -> entry key, in both languages whatever the panel's language."""
    return {
        "name": "name",
        "名前": "name",
        "numbers": "numbers",
        "number": "numbers",
        "電話番号": "numbers",
        "company": "company",
        "会社": "company",
        "note": "note",
        "メモ": "note",
        gettext("Name").lower(): "name",
        gettext("Numbers").lower(): "numbers",
        gettext("Company").lower(): "company",
        gettext("Note").lower(): "note",
    }


@dataclass
class Row:
    line: int  # the CSV line as a spreadsheet numbers it (the header is line 1)
    name: str
    numbers: list[str]
    company: str
    note: str
    errors: list[str] = field(default_factory=list)

    def entry(self) -> dict:
        return {"name": self.name, "numbers": self.numbers, "company": self.company, "note": self.note}


def parse(text: str) -> tuple[list[Row], str | None]:
    """Rows of the CSV, or a problem with the file as a whole."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        return [], gettext("The file is empty.")
    known = _headers()
    columns = [known.get(h.strip().lower(), "") for h in header]
    if "name" not in columns or "numbers" not in columns:
        return [], gettext("The first line must name the columns: 名前 (or name) and 電話番号 (or numbers).")
    rows = []
    for number, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        cells = {key: (values[i].strip() if i < len(values) else "") for i, key in enumerate(columns) if key}
        rows.append(
            Row(
                number,
                cells.get("name", ""),
                split_numbers(cells.get("numbers", "")),
                cells.get("company", ""),
                cells.get("note", ""),
            )
        )
        if len(rows) > MAX_ROWS:
            return [], gettext("At most %(n)d contacts per file.", n=MAX_ROWS)
    if not rows:
        return [], gettext("The file has no contacts after the header line.")
    return rows, None


def preview(rows: list[Row]) -> list[str]:
    """Apply the rows and roll back: every row's problems, nothing saved (webpanel.csv_import)."""
    doc = current_document(g.tenant)
    return preview_rows(
        rows,
        KEY,
        doc,
        lambda remaining: dict(doc, **{KEY: [*doc.get(KEY, []), *(r.entry() for r in remaining)]}),
    )


@bp.get("/export.csv")
@admin_required
def export():
    doc = current_document(g.tenant)
    buffer = io.StringIO("\ufeff")  # a BOM: Japanese Excel reads UTF-8
    buffer.seek(0, io.SEEK_END)
    writer = SafeWriter(buffer)
    writer.writerow([gettext("Name"), gettext("Numbers"), gettext("Company"), gettext("Note")])
    for entry in doc.get(KEY, []):
        writer.writerow([entry["name"], " ".join(entry["numbers"]), entry["company"], entry["note"]])
    return Response(
        buffer.getvalue(),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": "attachment; filename=phonebook.csv"},
    )


def _page(rows, problem, other, text, status=200):
    return render_template(
        "phonebook/import.html", rows=rows, problem=problem, other=other, text=text
    ), status


@bp.route("/import", methods=["GET", "POST"])
@admin_required
def import_entries():
    if request.method == "GET":
        return _page(None, None, [], "")
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        raw = upload.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            return _page(None, gettext("The file is too large."), [], "", 422)
        text = decode(raw)
    else:
        text = request.form.get("csv_text", "")  # the previewed file, posted back to import it
    rows, problem = parse(text)
    if problem:
        return _page(None, problem, [], "", 422)
    other = preview(rows)
    failed = other or any(r.errors for r in rows)
    if failed or not confirmed(request.form):
        return _page(rows, None, other, text, 422 if failed else 200)
    try:
        save_tenant(
            g.tenant.id,
            lambda d: d.setdefault(KEY, []).extend(r.entry() for r in rows),
            actor=actor(),
            action="phonebook.import",
            summary=f"{len(rows)} contacts",
        )
    except SaveRefused as refused:  # changed since the preview
        return _page(rows, None, [str(p) for p in refused.problems()], text, 422)
    flash(gettext("%(n)d contacts added.", n=len(rows)), "ok")
    return redirect(url_for("phonebook.index"))
