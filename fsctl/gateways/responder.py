"""The dialplan lookup of a call from a customer gateway (context gw_<id>.<domain>): hot path, raw SQL."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Mapping
from typing import Any

from fsctl.gateways.inbound import plan_from_gateway
from fsctl.numbers import NumberError, to_national
from fsctl.routing.plan import Plan

log = logging.getLogger(__name__)

# One indexed lookup (gateways.id) gives the tenant's id and config version for the cached snapshot.
TENANT_BY_GATEWAY = "SELECT t.id, t.config_version, t.domain FROM gateways g JOIN tenants t ON t.id = g.tenant_id WHERE g.id = ?"


def plan_gateway_call(
    responder: Any, fields: Mapping[str, str], gateway: tuple[int, str], destination: str, now: dt.datetime
) -> Plan | None:
    """The plan for a call in a gateway's context; `responder` is fsctl.xmlcurl.dialplan.DialplanResponder."""
    gateway_id, domain = gateway
    row = responder.store.fetch_one(TENANT_BY_GATEWAY, (gateway_id,))
    tenant = responder.snapshot(row)
    if tenant is None:
        return None
    caller = re.sub(r"[^0-9+]", "", fields.get("Caller-Caller-ID-Number") or "")[:20]
    # kumo_gateway_id comes from the directory entry the switch authenticated (digest or ACL token);
    # a call that merely names a gateway context it did not authenticate as is refused.
    claimed = fields.get("variable_kumo_gateway_id") or ""
    if tenant.domain != domain or claimed != str(gateway_id):
        log.warning(
            "call in gateway context gw_%s.%s claims gateway %r", gateway_id, domain[:60], claimed[:20]
        )
        plan = Plan(
            context=f"gw_{gateway_id}.{domain}",
            caller=caller,
            dialled=destination,
            at=now.isoformat(),
            tenant=tenant.domain,
            kind="refused",
        )
        return plan.refuse(
            "context_mismatch", "CALL_REJECTED", f"the call did not authenticate as gateway {gateway_id}"
        )
    try:
        national = to_national(destination)
    except NumberError:
        national = None
    return plan_from_gateway(
        tenant,
        gateway_id,
        destination,
        caller,
        now,
        national=national,
        numbering=responder.numbering,
        steps=responder.steps,
    )
