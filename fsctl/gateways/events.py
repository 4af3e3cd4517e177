"""Channel-plan accounting from switch events: channels in use per gateway, and the refused calls.

The dialplan runs `limit hash kumo_gateway <id> <plan> !USER_BUSY` (fsctl.gateways.routing). mod_hash
sets `limit_usage_kumo_gateway_<id>` on the channel only when the call got a channel (limit_incr_hash),
so the CHANNEL_EXECUTE_COMPLETE of that `limit` says which: with the variable the channel holds one of
the plan's channels until its CHANNEL_HANGUP_COMPLETE; without it the call was refused, and
mod_dptools hangs it up with USER_BUSY while `limit` is still the current application (fixture
esl/inbound-plain-limit.log.gz: the third call). mod_hash fires no event for a refusal.

Handlers take event headers as a Mapping[str, str] (values already URL-decoded by the ESL layer;
an encoded Application-Data is decoded here too). Wiring: GatewayEvents(engine) in the ESL dispatcher,
for the event names in `GatewayEvents.events`.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote

from sqlalchemy import Connection, Engine, bindparam, delete, insert, select

from fsctl import models
from fsctl.gateways.contexts import LIMIT_REALM, parse_context

log = logging.getLogger(__name__)

_LIMIT_DATA = re.compile(r"^hash " + LIMIT_REALM + r" ([1-9][0-9]{0,11}) (-?[0-9]+)")
CHANNELS = models.GatewayChannel.__table__
REFUSALS = models.GatewayRefusal.__table__
GATEWAYS = models.Gateway.__table__
_CHANNEL_GONE = delete(CHANNELS).where(CHANNELS.c.uuid == bindparam("gone_uuid"))


def _limit_gateway(headers: Mapping[str, str], app_key: str, data_key: str) -> int | None:
    """The gateway id of a `limit hash kumo_gateway <id> ...` application named by these headers."""
    if headers.get(app_key) != "limit":
        return None
    data = headers.get(data_key) or ""
    if "%20" in data:
        data = unquote(data)
    match = _LIMIT_DATA.match(data)
    return int(match.group(1)) if match else None


def _direction(headers: Mapping[str, str]) -> str:
    return "in" if parse_context(headers.get("Caller-Context") or "") else "out"


class GatewayEvents:
    """Writes gateway_channels (in use now) and gateway_refusals (refused by the plan) from events."""

    name = "gateways"
    events = ("CHANNEL_EXECUTE_COMPLETE", "CHANNEL_HANGUP_COMPLETE")

    def __init__(self, engine: Engine, clock: Any = None):
        self.engine = engine
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))

    # The ESL dispatcher's handler interface (fsctl.esl.dispatch.Handler): typed events carry .headers.
    def handle(self, event: Any) -> None:
        self.handle_headers_batch([event.headers])

    def handle_batch(self, events: list[Any]) -> None:
        self.handle_headers_batch([e.headers for e in events])

    def handle_headers(self, headers: Mapping[str, str]) -> None:
        """Apply one event given as its headers."""
        self.handle_headers_batch([headers])

    def handle_headers_batch(self, batch: Iterable[Mapping[str, str]]) -> None:
        with self.engine.begin() as conn:
            hung_up: list[dict[str, str]] = []
            for headers in batch:
                self._apply(conn, headers, hung_up)
            # Every hang-up frees its channel row, if any: one statement for the batch (a hang-up
            # is a leg's last event, so nothing later in the batch can re-add the row).
            if hung_up:
                conn.execute(_CHANNEL_GONE, hung_up)

    def _apply(self, conn: Connection, headers: Mapping[str, str], hung_up: list[dict[str, str]]) -> None:
        name = headers.get("Event-Name")
        uuid = headers.get("Unique-ID") or ""
        if not uuid:
            return
        if name == "CHANNEL_EXECUTE_COMPLETE":
            gateway_id = _limit_gateway(headers, "Application", "Application-Data")
            if gateway_id is None:
                return
            if f"variable_limit_usage_{LIMIT_REALM}_{gateway_id}" not in headers:
                return  # refused: counted at its hang-up below, with the cause
            tenant_id = conn.execute(select(GATEWAYS.c.tenant_id).where(GATEWAYS.c.id == gateway_id)).scalar()
            exists = conn.execute(select(CHANNELS.c.uuid).where(CHANNELS.c.uuid == uuid)).first()
            if tenant_id is not None and exists is None:
                conn.execute(
                    insert(CHANNELS).values(
                        uuid=uuid[:64],
                        # The node whose `limit` counts it (FreeSWITCH puts its switchname in every event).
                        node=(headers.get("FreeSWITCH-Switchname") or "")[:63],
                        gateway_id=gateway_id,
                        tenant_id=tenant_id,
                        direction=_direction(headers),
                        since=self.clock(),
                    )
                )
        elif name == "CHANNEL_HANGUP_COMPLETE":
            hung_up.append({"gone_uuid": uuid})
            gateway_id = _limit_gateway(
                headers, "variable_current_application", "variable_current_application_data"
            )
            if gateway_id is None or headers.get("Hangup-Cause") != "USER_BUSY":
                return
            if f"variable_limit_usage_{LIMIT_REALM}_{gateway_id}" in headers:
                return  # it had a channel; busy came from elsewhere
            tenant_id = conn.execute(select(GATEWAYS.c.tenant_id).where(GATEWAYS.c.id == gateway_id)).scalar()
            known = conn.execute(select(REFUSALS.c.id).where(REFUSALS.c.call_uuid == uuid)).first()
            if tenant_id is None or known is not None:
                return
            log.info("gateway %s refused a call (channel plan full): %s", gateway_id, uuid)
            conn.execute(
                insert(REFUSALS).values(
                    gateway_id=gateway_id,
                    tenant_id=tenant_id,
                    at=self.clock(),
                    call_uuid=uuid[:64],
                    direction=_direction(headers),
                    caller=(headers.get("Caller-Caller-ID-Number") or "")[:64],
                    destination=(headers.get("Caller-Destination-Number") or "")[:64],
                )
            )
