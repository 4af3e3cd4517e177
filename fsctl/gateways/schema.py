"""The `gateways:` section of a tenant file, and the `outbound_via` choices (validated here only)."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from fsctl.numbers import NumberError, to_national
from fsctl.tenant_file.section import SchemaPart

CHANNEL_PLANS = (4, 8, 16, 32)
CARRIER = "carrier"
# Starts with a letter: the name is also the SIP username of a registering gateway, so it can never
# equal an extension (digits only) in the tenant's domain.
GATEWAY_NAME = validate.Regexp(
    r"^[a-z][a-z0-9-]{1,31}$", error="2 to 32 lower-case letters, digits or -, starting with a letter"
)
OUTBOUND_VIA = validate.Regexp(
    r"^[a-z][a-z0-9-]{1,31}$", error="carrier or the name of one of this tenant's gateways"
)


class _Number(fields.String):
    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return to_national(text)
        except NumberError as exc:
            raise ValidationError(str(exc)) from exc


class CarriedNumberSchema(Schema):
    class Meta:
        unknown = RAISE

    number = _Number(required=True)
    # Resolved by name in marshmallow's registry (fsctl.schemas.DestinationSchema): no import cycle.
    destination = fields.Nested("DestinationSchema", load_default=None)


class GatewaySchema(Schema):
    """One gateway: SIP credentials (password) or a static address (address + cidr), never both."""

    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=GATEWAY_NAME)
    password = fields.String(validate=validate.Length(10, 128, error="must be 10 to 128 characters"))
    address = fields.String(load_default=None)
    port = fields.Integer(validate=validate.Range(1, 65535), load_default=5060)
    cidr = fields.List(fields.String(), load_default=list)
    channels = fields.Integer(
        required=True, validate=validate.OneOf(CHANNEL_PLANS, error="a channel plan: 4, 8, 16 or 32")
    )
    numbers = fields.List(fields.Nested(CarriedNumberSchema), load_default=list)

    @validates_schema
    def _one_way_in(self, data: dict[str, Any], **_kwargs: Any) -> None:
        password, address = data.get("password"), data.get("address")
        if password and password.isdigit():
            raise ValidationError("must not be all digits", "password")
        if address is None and not data.get("cidr"):
            return  # credentials (or an existing gateway keeping its credentials)
        if address is None:
            raise ValidationError("a static gateway needs the address calls are sent to", "address")
        if password is not None:
            raise ValidationError(
                "give either password (registering gateway) or address, not both", "password"
            )
        try:
            host = ipaddress.ip_address(address)
        except ValueError as exc:
            raise ValidationError("must be an IP address (IPv4 or IPv6)", "address") from exc
        if host.is_loopback or host.is_unspecified or host.is_multicast:
            raise ValidationError("must be the gateway's own unicast address", "address")
        networks = []
        for index, text in enumerate(data.get("cidr") or [f"{host}/{host.max_prefixlen}"]):
            try:
                network = ipaddress.ip_network(text, strict=True)
            except ValueError as exc:
                raise ValidationError(
                    {index: [f"{text!r} is not a network such as 203.0.113.8/29"]}, "cidr"
                ) from exc
            if network.prefixlen < (24 if network.version == 4 else 48):
                raise ValidationError(
                    {index: [f"{text} is wider than a /24 (/48): too open for an ACL"]}, "cidr"
                )
            networks.append(network)
        if not any(host in n for n in networks):
            raise ValidationError("the address must lie inside one of the cidr networks", "cidr")
        data["cidr"] = [str(n) for n in networks]


def schema_part() -> SchemaPart:
    """The fields the gateway section adds to the tenant file."""
    return SchemaPart(
        top={
            "gateways": fields.List(fields.Nested(GatewaySchema), load_default=list),
            # Which way external calls leave: the platform's carrier or one of the tenant's gateways.
            "outbound_via": fields.String(validate=OUTBOUND_VIA, load_default=CARRIER),
        },
        # A user's own choice, over the tenant's outbound_via.
        user={"outbound_via": fields.String(validate=OUTBOUND_VIA, load_default=None)},
    )
