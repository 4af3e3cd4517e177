"""CSV files that a spreadsheet opens as data, never as formulas.

A caller ID such as `=HYPERLINK("http://evil.example","call back")` or a company name starting with
`@` or `+` becomes a live formula when the CSV is opened in Excel or LibreOffice. Every CSV kumo writes
goes through these writers: a text cell starting with = + - @ (or a tab or carriage return, which
spreadsheets skip before looking for one) is prefixed with `'`, the OWASP advice. Numbers stay numbers.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """`value`, with a leading `'` if it is text a spreadsheet would read as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


class SafeWriter:
    """csv.writer whose rows are neutralised cell by cell."""

    def __init__(self, handle: Any, **kwargs: Any) -> None:
        self._writer = csv.writer(handle, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([neutralise(value) for value in row])


class SafeDictWriter(csv.DictWriter):
    """csv.DictWriter whose rows are neutralised cell by cell."""

    def writerow(self, rowdict: Mapping[str, Any]) -> Any:
        return super().writerow({key: neutralise(value) for key, value in rowdict.items()})
