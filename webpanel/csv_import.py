"""What the panel's CSV imports share (users, phonebook): decoding the file Japanese Excel writes,
and a preview that applies the rows to the tenant file and rolls back, putting each error on the row
it concerns."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from fsctl.tenant_file import ConfigError, FieldError
from fsctl.wiring import tenant_file
from webpanel.error_words import field_words, message_words
from webpanel.extensions import db
from webpanel.views.common import actor

MAX_BYTES = 1_000_000


class ImportRow(Protocol):
    errors: list[str]


def decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp932")  # Japanese Excel's "CSV" is Shift_JIS


def attach_errors(
    rows: Sequence[ImportRow], section: str, first: int, errors: list[FieldError], doc: dict
) -> list[str]:
    """fsctl's errors onto the CSV rows they concern (`section`[first + i] is rows[i]); the rest
    (another object broke) as lines."""
    other = []
    for error in errors:
        path = error.path
        words = message_words(error, doc)
        if len(path) >= 2 and path[0] == section and isinstance(path[1], int) and path[1] >= first:
            label = field_words(path[2:])
            rows[path[1] - first].errors.append(f"{label}: {words}" if label else words)
        else:
            other.append(words)
    return other


def preview_rows(
    rows: Sequence[ImportRow], section: str, doc: dict, with_rows: Callable[[list], dict]
) -> list[str]:
    """Apply the rows and roll back: every row's problems, nothing saved; lines for other problems.

    `with_rows(rows)` is the tenant document with those rows appended to `section`. fsctl validates
    in stages (fields, then references such as duplicates), so a file with a bad field would hide the
    next stage's problems: rows found wrong are set aside and the rest is tried again, a few rounds,
    so the preview lists as much as it can at once."""
    first = len(doc.get(section, []))
    other: list[str] = []
    remaining = [r for r in rows if not r.errors]
    for _round in range(3):
        if not remaining:
            break
        document = with_rows(remaining)
        try:
            tenant_file().apply(db.session, document, actor=actor())
            errors: list[FieldError] = []
        except ConfigError as exc:
            errors = exc.errors
        finally:
            db.session.rollback()
        other = attach_errors(remaining, section, first, errors, document)
        still = [r for r in remaining if not r.errors]
        if other or len(still) == len(remaining):
            break
        remaining = still
    return other
