"""The effective-dated price list (dialplans/prices.yaml), validated with marshmallow; integer yen only."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from fsctl.config import PROJECT_ROOT

DEFAULT_PRICES = PROJECT_ROOT / "dialplans" / "prices.yaml"
PRICED_CLASSES = ("fixed", "mobile", "ip", "service")
MONTHLY_KEYS = (
    "base_fee_per_user",
    "base_fee_max_users",
    "number_geographic",
    "number_ip",
    "number_toll_free",
    "option_recording",
    "option_ivr",
    "paper_invoice",
    # caller screening (fsctl.screening.billing)
    "option_anonymous_rejection",
    "option_blocklist",
    # customer gateways by channel plan (fsctl.gateways.billing.plan_item)
    "gateway_4ch",
    "gateway_8ch",
    "gateway_16ch",
    "gateway_32ch",
    # options the brochure does not price: 0 yen until the operator sets a price
    "option_conference_room",
    "option_phonebook",
    "option_fax_number",
    "option_call_queue",
)
ONE_OFF_KEYS = ("porting_toll_free", "cancel_number", "cancel_toll_free", "gateway_setup")
_YEN = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=1_000_000))


class _UnitSchema(Schema):
    class Meta:
        unknown = RAISE

    unit_seconds = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=3600))
    yen = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=100_000))
    name = fields.String(load_default="")


class _InternationalSchema(Schema):
    class Meta:
        unknown = RAISE

    default = fields.Nested(_UnitSchema, required=True)
    countries = fields.Dict(
        keys=fields.String(validate=validate.Regexp(r"^[1-9][0-9]{0,3}$")),
        values=fields.Nested(_UnitSchema),
        load_default=dict,
    )


def _amounts(keys: tuple[str, ...]) -> type[Schema]:
    return Schema.from_dict(
        {key: fields.Integer(required=True, strict=True, validate=validate.Range(min=0)) for key in keys}
    )


class _PeriodSchema(Schema):
    class Meta:
        unknown = RAISE

    from_ = fields.Date(required=True, data_key="from")
    calls = fields.Dict(
        keys=fields.String(validate=validate.OneOf(PRICED_CLASSES)),
        values=fields.Nested(_UnitSchema),
        required=True,
    )
    international = fields.Nested(_InternationalSchema, required=True)
    monthly = fields.Nested(_amounts(MONTHLY_KEYS), required=True)
    one_off = fields.Nested(_amounts(ONE_OFF_KEYS), required=True)
    tax_rate_percent = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=100))


class _PricesSchema(Schema):
    class Meta:
        unknown = RAISE

    periods = fields.List(fields.Nested(_PeriodSchema), required=True, validate=validate.Length(min=1))

    @validates_schema
    def _ordered(self, data: dict[str, Any], **_kw: Any) -> None:
        days = [p["from_"] for p in data["periods"]]
        if days != sorted(days) or len(set(days)) != len(days):
            raise ValidationError("periods must be in order of `from`, each day once", "periods")


@dataclass(frozen=True)
class Unit:
    unit_seconds: int
    yen: int
    name: str = ""

    def charge(self, billsec: int) -> int:
        """Started units count: ceil(billsec / unit) * yen, in integers."""
        if billsec <= 0:
            return 0
        return -(-billsec // self.unit_seconds) * self.yen


@dataclass(frozen=True)
class PricePeriod:
    starts: dt.date
    calls: dict[str, Unit]
    international_default: Unit
    countries: dict[str, Unit]  # calling code -> unit
    monthly: dict[str, int]
    one_off: dict[str, int]
    tax_rate_percent: int

    def international(self, e164: str) -> tuple[str | None, Unit]:
        """(calling code or None for the default, unit) for +<digits>: longest code first."""
        digits = e164.lstrip("+")
        for length in (4, 3, 2, 1):
            code = digits[:length]
            if len(digits) > length and code in self.countries:
                return code, self.countries[code]
        return None, self.international_default


@dataclass(frozen=True)
class PriceList:
    periods: tuple[PricePeriod, ...]

    def at(self, day: dt.date) -> PricePeriod:
        """The prices in effect on `day` (the first period also covers anything earlier)."""
        current = self.periods[0]
        for period in self.periods:
            if period.starts <= day:
                current = period
        return current


class PriceError(ValueError):
    """A price file that does not validate."""


def _unit(data: dict[str, Any]) -> Unit:
    return Unit(data["unit_seconds"], data["yen"], data.get("name", ""))


def parse_prices(raw: Any) -> PriceList:
    """Validate a parsed price document."""
    try:
        data = _PricesSchema().load(raw)
    except ValidationError as exc:
        raise PriceError(str(exc.messages)) from exc
    periods = tuple(
        PricePeriod(
            starts=p["from_"],
            calls={k: _unit(v) for k, v in p["calls"].items()},
            international_default=_unit(p["international"]["default"]),
            countries={k: _unit(v) for k, v in p["international"]["countries"].items()},
            monthly=dict(p["monthly"]),
            one_off=dict(p["one_off"]),
            tax_rate_percent=p["tax_rate_percent"],
        )
        for p in data["periods"]
    )
    return PriceList(periods)


def load_prices(path: Path = DEFAULT_PRICES) -> PriceList:
    """Read and validate a price file."""
    return parse_prices(yaml.safe_load(path.read_text(encoding="utf-8")))


@functools.cache
def default_prices() -> PriceList:
    return load_prices()
