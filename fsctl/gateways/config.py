"""The tenant file's `gateways:` section and the `outbound_via` choices (a fsctl.tenant_file Section).

The tenant file stays the whole truth, so gateways and carried numbers not in the file are removed.
Passwords are stored only as md5(name:domain:password) and never exported.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from fsctl import models
from fsctl.gateways.billing import charge_setups
from fsctl.gateways.contexts import ACL_DOMAIN
from fsctl.gateways.schema import CARRIER, schema_part
from fsctl.numbers import NumberError, parse_inventory_number
from fsctl.tenant_file import (
    ApplyContext,
    Document,
    FieldError,
    Known,
    SchemaPart,
    Section,
    a1_hash,
    dest_out,
    destination_error,
    path_text,
)


def carried_numbers(data: dict[str, Any]) -> set[str]:
    """Every number the file's gateways carry (national form)."""
    return {n["number"] for gw in data.get("gateways", ()) for n in gw["numbers"]}


def gateway_errors(data: dict[str, Any], known: Known) -> list[FieldError]:
    """Duplicates and dangling names in the gateway parts of a file; `known` maps destination kinds to names."""
    errors: list[FieldError] = []
    if data["domain"] == ACL_DOMAIN:
        errors.append(FieldError(("domain",), f"{ACL_DOMAIN} is reserved for the switch's gateway ACL"))
    gateways = data.get("gateways", [])
    names = Counter(gw["name"] for gw in gateways)
    listed = {n["number"] for n in data["numbers"]} | {u["did"] for u in data["users"] if u["did"]}
    first_carrier: dict[str, tuple[str | int, ...]] = {}
    for index, gw in enumerate(gateways):
        if gw["name"] == CARRIER:
            errors.append(FieldError(("gateways", index, "name"), "'carrier' names the platform's carrier"))
        elif names[gw["name"]] > 1:
            message = f"{gw['name']} is used by more than one gateway"
            errors.append(FieldError(("gateways", index, "name"), message))
        for position, carried in enumerate(gw["numbers"]):
            path = ("gateways", index, "numbers", position)
            number = carried["number"]
            if number in listed:
                message = f"{number} is also one of the tenant's platform numbers"
                errors.append(FieldError((*path, "number"), message))
            if number in first_carrier and first_carrier[number] != path:
                other = first_carrier[number]
                message = f"{number} is already carried by {path_text(other)}"
                errors.append(FieldError((*path, "number"), message, "carried_twice", {"other": other}))
            first_carrier.setdefault(number, path)
            if (
                error := destination_error((*path, "destination"), carried["destination"], known)
            ) is not None:
                errors.append(error)
    choices = {gw["name"] for gw in gateways} | {CARRIER}
    if data.get("outbound_via", CARRIER) not in choices:
        errors.append(FieldError(("outbound_via",), f"no gateway named {data['outbound_via']!r}"))
    for index, user in enumerate(data["users"]):
        via = user.get("outbound_via")
        if via is not None and via not in choices:
            errors.append(FieldError(("users", index, "outbound_via"), f"no gateway named {via!r}"))
    return errors


def _gateways(session: Session, tenant_id: int) -> list[models.Gateway]:
    query = select(models.Gateway).where(models.Gateway.tenant_id == tenant_id).order_by(models.Gateway.name)
    return list(session.scalars(query))


def apply_gateways(applier: ApplyContext, tenant: models.Tenant) -> None:
    """Make the tenant's gateways, carried numbers and outbound routes what the file says."""
    session: Session = applier.session
    specs = applier.data.get("gateways", [])
    existing = {gw.name: gw for gw in _gateways(session, tenant.id)}
    wanted = {spec["name"] for spec in specs}
    for name, gateway in existing.items():
        if name not in wanted:
            session.delete(gateway)
    session.flush()
    by_name: dict[str, models.Gateway] = {}
    new: set[str] = set()
    for index, spec in enumerate(specs):
        gateway = existing.get(spec["name"])
        static = spec["address"] is not None
        if gateway is None:
            if not static and "password" not in spec:
                applier.error(("gateways", index, "password"), "required for a new registering gateway")
                continue
            gateway = models.Gateway(tenant_id=tenant.id, name=spec["name"])
            session.add(gateway)
            new.add(spec["name"])
        elif not static and "password" not in spec and gateway.a1_hash is None:
            applier.error(("gateways", index, "password"), "required to switch to registration")
            continue
        gateway.auth = models.GatewayAuth.ADDRESS if static else models.GatewayAuth.CREDENTIALS
        if static:
            gateway.a1_hash, gateway.address, gateway.cidr = None, spec["address"], ",".join(spec["cidr"])
        else:
            if "password" in spec:
                gateway.a1_hash = a1_hash(spec["name"], tenant.domain, spec["password"])
            gateway.address = gateway.cidr = None
        gateway.port = spec["port"]
        gateway.channels = spec["channels"]
        by_name[spec["name"]] = gateway
    session.flush()
    for index, spec in enumerate(specs):
        gateway = by_name.get(spec["name"])
        if gateway is not None:
            _apply_carried(applier, tenant, gateway, index, spec["numbers"])
    _apply_routes(applier, tenant, by_name)
    session.flush()
    charge_setups(session, tenant, new)


def _apply_carried(
    applier: ApplyContext,
    tenant: models.Tenant,
    gateway: models.Gateway,
    index: int,
    specs: list[dict[str, Any]],
) -> None:
    session: Session = applier.session
    current = {c.national: c for c in gateway.numbers}
    wanted = {spec["number"] for spec in specs}
    for national, carried in current.items():
        if national not in wanted:
            gateway.numbers.remove(carried)
    session.flush()
    for position, spec in enumerate(specs):
        path = ("gateways", index, "numbers", position, "number")
        national = spec["number"]
        carried = current.get(national)
        if carried is None:
            if session.scalar(select(models.Number.id).where(models.Number.national == national)):
                applier.error(path, f"{national} is a number of the platform's inventory")
                continue
            other = session.scalar(
                select(models.GatewayNumber).where(models.GatewayNumber.national == national)
            )
            if other is not None and other.tenant_id != tenant.id:
                applier.error(path, f"{national} is carried by another tenant's gateway")
                continue
            if other is not None:  # moves from another gateway of this tenant
                session.delete(other)
                session.flush()
            try:
                national, e164, _kind = parse_inventory_number(national)
            except NumberError as exc:
                applier.error(path, str(exc))
                continue
            carried = models.GatewayNumber(tenant_id=tenant.id, national=national, e164=e164)
            gateway.numbers.append(carried)
        applier.set_dest(carried, "destination", spec["destination"])  # the same row while unchanged


def _apply_routes(applier: ApplyContext, tenant: models.Tenant, gateways: dict[str, models.Gateway]) -> None:
    session: Session = applier.session
    users = {u.extension: u for u in tenant.users}
    wanted: dict[int | None, int | None] = {}
    default = applier.data.get("outbound_via", CARRIER)
    if default != CARRIER and default in gateways:
        wanted[None] = gateways[default].id
    for spec in applier.data["users"]:
        via = spec.get("outbound_via")
        user = users.get(spec["extension"])
        if via is None or user is None:
            continue
        if via == CARRIER or via in gateways:
            wanted[user.id] = gateways[via].id if via != CARRIER else None
    rows = session.scalars(select(models.OutboundRoute).where(models.OutboundRoute.tenant_id == tenant.id))
    current = {row.user_id: row for row in rows}
    for user_id, row in current.items():
        if user_id not in wanted:
            session.delete(row)
        elif row.gateway_id != wanted[user_id]:
            row.gateway_id = wanted[user_id]
    for user_id, gateway_id in wanted.items():
        if user_id not in current:
            session.add(models.OutboundRoute(tenant_id=tenant.id, user_id=user_id, gateway_id=gateway_id))


def export_gateways(tenant: models.Tenant) -> dict[str, Any]:
    """`gateways`, `outbound_via` and each user's `outbound_via` override (by extension), for export."""
    session = object_session(tenant)
    if session is None or tenant.id is None:
        return {"gateways": [], "outbound_via": CARRIER, "users": {}}
    gateways = _gateways(session, tenant.id)
    names = {gw.id: gw.name for gw in gateways}
    routes = session.scalars(select(models.OutboundRoute).where(models.OutboundRoute.tenant_id == tenant.id))
    extensions = {u.id: u.extension for u in tenant.users}
    default, per_user = CARRIER, {}
    for route in routes:
        via = names.get(route.gateway_id, CARRIER) if route.gateway_id else CARRIER
        if route.user_id is None:
            default = via
        elif route.user_id in extensions:
            per_user[extensions[route.user_id]] = via
    out = []
    for gw in gateways:
        entry: dict[str, Any] = {"name": gw.name}
        if gw.auth == models.GatewayAuth.ADDRESS:
            entry["address"] = gw.address
            entry["cidr"] = (gw.cidr or "").split(",")
        entry["port"] = gw.port
        entry["channels"] = gw.channels
        entry["numbers"] = [
            {"number": c.national, "destination": dest_out(c.destination)} for c in gw.numbers
        ]
        out.append(entry)
    return {"gateways": out, "outbound_via": default, "users": per_user}


class GatewaySection(Section):
    """Customer gateways, the numbers they carry and which way external calls leave."""

    name = "gateways"

    def schema(self) -> SchemaPart:
        return schema_part()

    def numbers(self, data: Document) -> set[str]:
        return carried_numbers(data)  # a user may present a number its gateway carries

    def check(self, data: Document, known: Known) -> list[FieldError]:
        return gateway_errors(data, known)

    def apply(self, context: ApplyContext, tenant: models.Tenant) -> None:
        apply_gateways(context, tenant)

    def export(self, tenant: models.Tenant, document: Document) -> None:
        gateways = export_gateways(tenant)
        for entry in document["users"]:
            if entry["extension"] in gateways["users"]:
                entry["outbound_via"] = gateways["users"][entry["extension"]]
        document["gateways"] = gateways["gateways"]
        document["outbound_via"] = gateways["outbound_via"]
