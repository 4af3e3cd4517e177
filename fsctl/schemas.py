"""marshmallow schemas: the one place where input crossing a boundary is validated."""

from __future__ import annotations

import unicodedata
import zoneinfo
from collections.abc import Mapping
from typing import Any

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, post_load, validate, validates_schema

from fsctl.models import Direction, RingStrategy, TenantStatus
from fsctl.numbers import NumberError, to_national

EXTENSION = validate.Regexp(r"^[1-9][0-9]{1,5}$", error="must be 2 to 6 digits, not starting with 0")
NAME_KEY = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", error="letters, digits, _ . - (up to 64)")
DOMAIN = validate.Regexp(
    r"^(?=.{3,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$",
    error="must be a lower-case DNS name such as acme.kumo.test",
)
DIALLED = validate.Regexp(r"^\+?[0-9]{2,20}$", error="digits only (an optional leading +)")
PIN = validate.Regexp(r"^[0-9]{4,12}$", error="4 to 12 digits")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HHMM = validate.Regexp(r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$", error="HH:MM, 00:00 to 24:00")


class JapaneseNumber(fields.String):
    """A Japanese number in any written form, loaded as its national form."""

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return to_national(text)
        except NumberError as exc:
            raise ValidationError(str(exc)) from exc


class Timezone(fields.String):
    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            zoneinfo.ZoneInfo(text)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValidationError(f"unknown timezone {text!r}") from exc
        return text


# The name an upload is stored under (fsctl.media.audio.audio_name), without ".wav".
AUDIO_NAME = validate.Regexp(
    r"^[a-z0-9][a-z0-9_-]{0,63}$",
    error="the name of an uploaded audio file (lower-case letters, digits, - or _)",
)
LANGUAGES = ("ja", "en")
CONTROL_CHARACTERS = "must not contain control characters (tab, line break, ...)"


def no_control_characters(value: str) -> None:
    """Refuse C0/C1 controls and the Unicode line separators in a name that reaches the switch or SIP.

    A display name becomes the directory's `effective_caller_id_name` and a From header: with a control
    character in it the phone never registers (and sofia logs a traceback on every REGISTER).
    """
    if any(unicodedata.category(char) in ("Cc", "Cs") or char in "\u2028\u2029" for char in value):
        raise ValidationError(CONTROL_CHARACTERS)


def text(minimum: int, maximum: int) -> list:
    """Validators of a free-text name: its length, and no control characters."""
    return [validate.Length(minimum, maximum), no_control_characters]


class DestinationSchema(Schema):
    """Exactly one of: user, ring_group, ivr, schedule, voicemail, external, announcement, hangup."""

    class Meta:
        unknown = RAISE

    user = fields.String(validate=EXTENSION)
    voicemail = fields.String(validate=EXTENSION)
    ring_group = fields.String(validate=NAME_KEY)
    ivr = fields.String(validate=NAME_KEY)
    schedule = fields.String(validate=NAME_KEY)
    external = fields.String(validate=DIALLED)
    announcement = fields.String(validate=AUDIO_NAME)
    hangup = fields.Boolean(validate=validate.Equal(True, error="write hangup: true"))

    @validates_schema
    def _exactly_one(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if len(data) != 1:
            raise ValidationError(
                "give exactly one of user, voicemail, ring_group, ivr, schedule, external, announcement, hangup"
            )

    @post_load
    def _as_pair(self, data: dict[str, Any], **_kwargs: Any) -> tuple[str, str | None]:
        ((kind, target),) = data.items()
        return (kind, None if kind == "hangup" else target)


def _destination(**kwargs: Any) -> fields.Nested:
    return fields.Nested(DestinationSchema, **kwargs)


class VoicemailSchema(Schema):
    class Meta:
        unknown = RAISE

    enabled = fields.Boolean(load_default=True)
    pin = fields.String(validate=PIN, load_default=None)
    email = fields.Email(load_default=None)
    attach_audio = fields.Boolean(load_default=False)


class ForwardSchema(Schema):
    class Meta:
        unknown = RAISE

    always = _destination(load_default=None)
    busy = _destination(load_default=None)
    no_answer = _destination(load_default=None)
    no_answer_seconds = fields.Integer(validate=validate.Range(5, 300), load_default=20)
    unregistered = _destination(load_default=None)


class UserSchema(Schema):
    class Meta:
        unknown = RAISE

    extension = fields.String(required=True, validate=EXTENSION)
    name = fields.String(required=True, validate=text(1, 100))
    password = fields.String(validate=validate.Length(10, 128, error="must be 10 to 128 characters"))
    direction = fields.Enum(Direction, by_value=True, load_default=Direction.BOTH)
    caller_id = JapaneseNumber(load_default=None)
    did = JapaneseNumber(load_default=None)
    ring_seconds = fields.Integer(validate=validate.Range(5, 300), load_default=20)
    voicemail = fields.Nested(VoicemailSchema, load_default=lambda: VoicemailSchema().load({}))
    recording = fields.Boolean(load_default=False)
    # Absent: left as it is (an employee's own switch, set from the phone or the panel, is not
    # undone by applying a file that predates it); a new user starts without it.
    do_not_disturb = fields.Boolean(load_default=None)
    schedule = fields.String(validate=NAME_KEY, load_default=None)
    forward = fields.Nested(ForwardSchema, load_default=lambda: ForwardSchema().load({}))

    @validates_schema
    def _password_not_trivial(self, data: dict[str, Any], **_kwargs: Any) -> None:
        password = data.get("password")
        # Scanners try digit-only and extension-like passwords first.
        if password and password.isdigit():
            raise ValidationError("must not be all digits", "password")


class NumberSchema(Schema):
    class Meta:
        unknown = RAISE

    number = JapaneseNumber(required=True)
    destination = _destination(load_default=None)
    ivr_option = fields.Boolean(load_default=False)


class RingGroupSchema(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=NAME_KEY)
    members = fields.List(fields.String(validate=EXTENSION), required=True)
    strategy = fields.Enum(RingStrategy, by_value=True, load_default=RingStrategy.SIMULTANEOUS)
    ring_seconds = fields.Integer(validate=validate.Range(5, 600), load_default=20)
    no_answer = _destination(load_default=None)


class OpenPeriodSchema(Schema):
    class Meta:
        unknown = RAISE

    days = fields.List(
        fields.String(validate=validate.OneOf(WEEKDAYS)), required=True, validate=validate.Length(1)
    )
    from_ = fields.String(data_key="from", required=True, validate=HHMM)
    to = fields.String(required=True, validate=HHMM)


class ClosureSchema(Schema):
    class Meta:
        unknown = RAISE

    from_ = fields.Date(data_key="from", required=True)
    to = fields.Date(required=True)
    name = fields.String(load_default="", validate=text(0, 100))

    @validates_schema
    def _ordered(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if "from_" in data and "to" in data and data["to"] < data["from_"]:
            raise ValidationError("ends before it starts", "to")


class OverrideSchema(Schema):
    """A schedule's day/night override: forced open (臨時営業) or closed (臨時休業) until a moment.

    `until` is an ISO date and time with its UTC offset (checked, with codes, by the tenant file's
    checks); without it the override holds until it is cleared."""

    class Meta:
        unknown = RAISE

    mode = fields.String(required=True, validate=validate.OneOf(["open", "closed"], error="open or closed"))
    until = fields.String(load_default=None, validate=validate.Length(1, 64))


class ScheduleSchema(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=NAME_KEY)
    open = fields.List(fields.Nested(OpenPeriodSchema), load_default=list)
    holidays_closed = fields.Boolean(load_default=True)
    # Refuse the file when the open periods leave part of the week uncovered.
    full_coverage = fields.Boolean(load_default=False)
    closures = fields.List(fields.Nested(ClosureSchema), load_default=list)
    open_destination = _destination(load_default=None)
    closed_announcement = fields.String(load_default=None, validate=text(1, 255))
    closed_destination = _destination(load_default=None)
    override = fields.Nested(OverrideSchema, load_default=None)


class IvrMenuSchema(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=NAME_KEY)
    greeting = fields.String(load_default=None, validate=text(1, 255))
    timeout_seconds = fields.Integer(validate=validate.Range(1, 60), load_default=5)
    max_attempts = fields.Integer(validate=validate.Range(1, 10), load_default=3)
    options = fields.Dict(
        keys=fields.String(validate=validate.OneOf(list("0123456789*#"))),
        values=_destination(),
        load_default=dict,
    )
    timeout_destination = _destination(load_default=None)


class ParkSchema(Schema):
    class Meta:
        unknown = RAISE

    slots = fields.String(
        required=True, validate=validate.Regexp(r"^\d{2,6}-\d{2,6}$", error="a range such as 700-719")
    )


class TenantConfigSchema(Schema):
    """The core of one tenant's file; the tenant file's sections add their fields (fsctl.tenant_file)."""

    class Meta:
        unknown = RAISE

    domain = fields.String(required=True, validate=DOMAIN)
    name = fields.String(required=True, validate=text(1, 200))
    timezone = Timezone(load_default="Asia/Tokyo")
    language = fields.String(validate=validate.OneOf(LANGUAGES), load_default="ja")
    status = fields.Enum(TenantStatus, by_value=True, load_default=TenantStatus.TRIAL)
    trial_started_on = fields.Date(load_default=None)
    international_calls = fields.Boolean(load_default=False)
    max_external_channels = fields.Integer(validate=validate.Range(0, 10_000), load_default=2)
    allowed_prefixes = fields.List(
        fields.String(validate=validate.Regexp(r"^[0-9]{2,6}$", error="a digit prefix")), load_default=list
    )
    users = fields.List(fields.Nested(UserSchema), load_default=list)
    numbers = fields.List(fields.Nested(NumberSchema), load_default=list)
    ring_groups = fields.List(fields.Nested(RingGroupSchema), load_default=list)
    schedules = fields.List(fields.Nested(ScheduleSchema), load_default=list)
    ivr_menus = fields.List(fields.Nested(IvrMenuSchema), load_default=list)
    park = fields.Nested(ParkSchema, load_default=None)


__all__ = ["TenantConfigSchema", "UserSchema", "ValidationError", "EXCLUDE"]
