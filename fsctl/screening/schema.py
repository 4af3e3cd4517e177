"""The tenant file's `screening:` section (validated here only).

screening:
  anonymous:                       # 非通知拒否: callers without a number each one refuses
    numbers: {"0312345678": [withheld]}
    users: {"101": [withheld, payphone]}
  blocklist:                       # exact numbers, or prefixes ending in *
    - {caller: "0312345678"}                  # announce (default): a short announcement, then the end
    - {caller: "03123*", action: reject}      # ended at once
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from fsctl.models import ANONYMOUS_KINDS, BLOCK_ACTIONS
from fsctl.tenant_file.section import SchemaPart

# A caller as the blocklist holds it: national digits (0...) or +<international>, 3 to 20 digits; a
# trailing * makes it a prefix.
CALLER_PATTERN = re.compile(r"^(\+?[0-9]{2,20})(\*?)$")


def parse_caller(text: str) -> tuple[str, bool]:
    """`"03123*"` -> ("03123", True); an E.164 +81 number in national form; ValueError when not a caller."""
    cleaned = re.sub(r"[\s()-]", "", text)
    match = CALLER_PATTERN.match(cleaned)
    if match is None:
        raise ValueError("a number (digits, or + and digits), with * at the end for a prefix")
    pattern, star = match.group(1), bool(match.group(2))
    if pattern.startswith("+81") and len(pattern) > 4:
        pattern = "0" + pattern[3:]
    return pattern, star


def caller_text(pattern: str, prefix: bool) -> str:
    """How the file and the panel write an entry: the number, with * for a prefix."""
    return pattern + ("*" if prefix else "")


class _Caller(fields.String):
    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return caller_text(*parse_caller(text))
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc


_KINDS = fields.List(
    fields.String(validate=validate.OneOf(ANONYMOUS_KINDS, error="withheld, payphone or unavailable")),
)


class AnonymousSchema(Schema):
    class Meta:
        unknown = RAISE

    numbers = fields.Dict(keys=fields.String(), values=_KINDS, load_default=dict)
    users = fields.Dict(keys=fields.String(), values=_KINDS, load_default=dict)


class BlockedCallerSchema(Schema):
    class Meta:
        unknown = RAISE

    caller = _Caller(required=True)
    action = fields.String(
        load_default="announce",
        validate=validate.OneOf(BLOCK_ACTIONS, error="announce or reject"),
    )
    note = fields.String(load_default="", validate=validate.Length(max=80))


class ScreeningSchema(Schema):
    class Meta:
        unknown = RAISE

    anonymous = fields.Nested(AnonymousSchema, load_default=lambda: {"numbers": {}, "users": {}})
    blocklist = fields.List(fields.Nested(BlockedCallerSchema), load_default=list)


def schema_part() -> SchemaPart:
    """The `screening:` key at the top of the file."""
    return SchemaPart(
        top={
            "screening": fields.Nested(
                ScreeningSchema,
                load_default=lambda: {"anonymous": {"numbers": {}, "users": {}}, "blocklist": []},
            )
        }
    )
