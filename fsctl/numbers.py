"""Japanese number forms for the platform's inventory: national <-> E.164, kind, ranges."""

from __future__ import annotations

import re

from fsctl.models import NumberKind

_DIGITS = re.compile(r"^\d+$")


class NumberError(ValueError):
    """A number that is not a valid Japanese subscriber number for the inventory."""


def to_national(number: str) -> str:
    """Any form a carrier or a person writes (0312345678, +81312345678, 81312345678, 03-1234-5678) -> national."""
    cleaned = re.sub(r"[\s\-()]", "", number)
    if cleaned.startswith("+81"):
        cleaned = "0" + cleaned[3:]
    elif cleaned.startswith("81") and len(cleaned) in (11, 12):
        cleaned = "0" + cleaned[2:]
    if not _DIGITS.match(cleaned) or not cleaned.startswith("0") or cleaned.startswith("00"):
        raise NumberError(f"not a Japanese number: {number!r}")
    return cleaned


def to_e164(national: str) -> str:
    """0312345678 -> +81312345678."""
    return "+81" + national[1:]


def inventory_kind(national: str) -> NumberKind:
    """The kind of a number the platform can own: geographic, 050 IP, or 0120/0800 toll-free."""
    if national.startswith("0120") and len(national) == 10:
        return NumberKind.TOLL_FREE
    if national.startswith("0800") and len(national) == 11:
        return NumberKind.TOLL_FREE
    if national.startswith("050") and len(national) == 11:
        return NumberKind.IP
    # A 050 or 0800 number of another length is a typo, never a geographic 05x/08x number.
    if national.startswith("050"):
        raise NumberError(f"{national}: 050 numbers have 11 digits")
    if national.startswith("0800"):
        raise NumberError(f"{national}: 0800 numbers have 11 digits")
    if (
        national[1] in "123456789"
        and len(national) == 10
        and not national.startswith(("070", "080", "090", "020"))
    ):
        # 0570/0990/0180 are 10-digit service numbers, not subscriber lines the platform sells.
        if national.startswith(("0570", "0990", "0180")):
            raise NumberError(f"{national}: service numbers cannot be held in the inventory")
        return NumberKind.GEOGRAPHIC
    raise NumberError(f"{national}: not a geographic, 050 or 0120/0800 number")


def parse_inventory_number(number: str) -> tuple[str, str, NumberKind]:
    """Normalise one inventory number: (national, e164, kind)."""
    national = to_national(number)
    return national, to_e164(national), inventory_kind(national)


def expand_range(spec: str, limit: int = 10_000) -> list[str]:
    """`0362800000-0362800099` (or a single number) -> the national numbers in it."""
    first, sep, last = (
        spec.partition("-") if spec.count("-") == 1 and not spec.startswith("+") else (spec, "", "")
    )
    first_n = to_national(first)
    if not sep:
        return [first_n]
    last_n = to_national(last)
    if len(first_n) != len(last_n):
        raise NumberError(f"{spec}: both ends must have the same length")
    start, end = int(first_n), int(last_n)
    if end < start:
        raise NumberError(f"{spec}: the range ends before it starts")
    if end - start + 1 > limit:
        raise NumberError(f"{spec}: more than {limit} numbers at once")
    return [str(n).zfill(len(first_n)) for n in range(start, end + 1)]
