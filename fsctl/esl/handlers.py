"""Feature handlers: small classes, one per kind of live state; wired together in fsctl.esl.wiring.

Each takes a batch of typed events off its own queue and applies it in one transaction. Snapshots
(the switch's answers to the resync commands) replace that handler's whole table at their place in
the stream, so the state after a reconnect matches the switch.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import xml.etree.ElementTree as ET

from sqlalchemy import Connection, Engine, and_, delete, insert, or_, select, update

from fsctl.esl.dispatch import Handler
from fsctl.esl.events import SNAPSHOT, ChannelEvent, Event, RegistrationEvent, Snapshot, ValetEvent
from fsctl.esl.state import CALL, PARK, REG, RING, Tenants, from_us, lot_domain

log = logging.getLogger(__name__)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _epoch(value: str | None) -> dt.datetime:
    try:
        return dt.datetime.fromtimestamp(int(value or 0), dt.UTC) if value and int(value) > 0 else _now()
    except ValueError:
        return _now()


def _user_domain(presence_id: str) -> tuple[str, str]:
    user, _, domain = (presence_id or "").partition("@")
    return user, domain.lower()


class StateHandler(Handler):
    """A handler that writes one batch per transaction."""

    def __init__(self, engine: Engine, tenants: Tenants):
        self.engine = engine
        self.tenants = tenants

    def handle_batch(self, events: list[Event]) -> None:
        with self.engine.begin() as conn:
            for event in events:
                self.apply(conn, event)

    def handle(self, event: Event) -> None:
        self.handle_batch([event])

    def apply(self, conn: Connection, event: Event) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


class Registrations(StateHandler):
    """Devices online per user: sofia::register / unregister / expire."""

    events = ("sofia::register", "sofia::unregister", "sofia::expire", SNAPSHOT)

    def apply(self, conn: Connection, event: Event) -> None:
        if isinstance(event, Snapshot):
            if event.kind == "registrations":
                self._replace(conn, event.body)
            return
        if not isinstance(event, RegistrationEvent):
            return
        tenant_id = self.tenants.id_of(event.realm, conn)
        if tenant_id is None or not event.user:
            return
        mine = and_(REG.c.tenant_id == tenant_id, REG.c.extension == event.user)
        if event.action == "register":
            conn.execute(delete(REG).where(mine, REG.c.call_id == event.call_id))
            at = from_us(event.timestamp_us)
            conn.execute(
                insert(REG).values(
                    tenant_id=tenant_id,
                    extension=event.user,
                    call_id=event.call_id,
                    contact=event.contact[:500],
                    network_address=event.network_address[:64],
                    user_agent=event.user_agent[:255],
                    expires_at=at + dt.timedelta(seconds=max(event.expires, 1)),
                    updated_at=at,
                )
            )
        else:
            gone = [REG.c.call_id == event.call_id]
            if event.contact:
                gone.append(REG.c.contact == event.contact[:500])
            conn.execute(delete(REG).where(mine, or_(*gone)))

    def _replace(self, conn: Connection, output: str) -> None:
        try:
            rows = json.loads(output).get("rows") or []
        except (ValueError, AttributeError):
            log.info("resync: registrations answer not understood; kept what we had")
            return
        conn.execute(delete(REG))
        for row in rows:
            tenant_id = self.tenants.id_of(row.get("realm", ""), conn)
            if tenant_id is None or not row.get("reg_user"):
                continue
            conn.execute(
                delete(REG).where(
                    REG.c.tenant_id == tenant_id,
                    REG.c.extension == row["reg_user"],
                    REG.c.call_id == row.get("token", ""),
                )
            )
            address = ":".join(x for x in (row.get("network_ip", ""), row.get("network_port", "")) if x)
            conn.execute(
                insert(REG).values(
                    tenant_id=tenant_id,
                    extension=row["reg_user"],
                    call_id=row.get("token", ""),
                    contact=(row.get("url") or "")[:500],
                    network_address=address[:64],
                    user_agent="",
                    expires_at=_epoch(row.get("expires")),
                    updated_at=_now(),
                )
            )


class Calls(StateHandler):
    """Legs in progress and calls ringing per extension (for pickup)."""

    events = (
        "CHANNEL_CREATE",
        "CHANNEL_ANSWER",
        "CHANNEL_BRIDGE",
        "CHANNEL_UNBRIDGE",
        "CHANNEL_HANGUP_COMPLETE",
        "CALL_UPDATE",
        SNAPSHOT,
    )

    def apply(self, conn: Connection, event: Event) -> None:
        if isinstance(event, Snapshot):
            if event.kind == "channels":
                self._replace(conn, event.body)
            return
        if not isinstance(event, ChannelEvent) or not event.unique_id:
            return
        uuid = event.unique_id
        name = event.name
        if name == "CHANNEL_CREATE":
            self._create(conn, event)
        elif name == "CHANNEL_ANSWER":
            conn.execute(
                update(CALL)
                .where(CALL.c.uuid == uuid, CALL.c.state != "bridged")
                .values(state="answered", answered_at=from_us(event.timestamp_us))
            )
            conn.execute(delete(RING).where(RING.c.uuid == uuid))
        elif name == "CHANNEL_BRIDGE":
            other = event.other_leg
            for me, them in ((uuid, other), (other, uuid)):
                if not me:
                    continue
                conn.execute(update(CALL).where(CALL.c.uuid == me).values(state="bridged", other_uuid=them))
                # A carrier leg learns its tenant from the leg it is bridged to.
                conn.execute(
                    update(CALL)
                    .where(CALL.c.uuid == me, CALL.c.tenant_id.is_(None))
                    .values(tenant_id=select(CALL.c.tenant_id).where(CALL.c.uuid == them).scalar_subquery())
                )
            conn.execute(delete(RING).where(RING.c.uuid.in_([uuid, other])))
        elif name == "CHANNEL_UNBRIDGE":
            conn.execute(
                update(CALL)
                .where(CALL.c.uuid.in_([uuid, event.other_leg]), CALL.c.state == "bridged")
                .values(state="answered", other_uuid="")
            )
        elif name == "CHANNEL_HANGUP_COMPLETE":
            conn.execute(delete(CALL).where(CALL.c.uuid == uuid))
            conn.execute(delete(RING).where(RING.c.uuid == uuid))
        elif name == "CALL_UPDATE":
            # After a transfer or pickup the far end changed: keep the shown party right.
            number = event.callee_number
            if number:
                conn.execute(update(CALL).where(CALL.c.uuid == uuid).values(destination=number[:128]))

    def _create(self, conn: Connection, event: ChannelEvent) -> None:
        tenant_id = self.tenants.id_of(event.domain, conn)
        outbound = event.direction == "outbound"
        extension = (event.dialed_user if outbound else event.user) or ""
        conn.execute(delete(CALL).where(CALL.c.uuid == event.unique_id))
        conn.execute(
            insert(CALL).values(
                uuid=event.unique_id,
                tenant_id=tenant_id,
                call_uuid=event.get("Channel-Call-UUID") or event.get("variable_call_uuid"),
                direction=event.direction[:16],
                extension=extension[:64],
                caller_number=event.caller_number[:64],
                caller_name=event.caller_name[:128],
                destination=(event.dialed_user or event.destination)[:128],
                state="ringing" if outbound else "routing",
                started_at=from_us(event.timestamp_us),
            )
        )
        if outbound and event.dialed_user and tenant_id is not None:
            conn.execute(delete(RING).where(RING.c.uuid == event.unique_id))
            conn.execute(
                insert(RING).values(
                    uuid=event.unique_id,
                    tenant_id=tenant_id,
                    extension=event.dialed_user[:64],
                    caller_uuid=event.other_leg or event.get("variable_originator"),
                    caller_number=event.caller_number[:64],
                    caller_name=event.caller_name[:128],
                    since=from_us(event.timestamp_us),
                )
            )

    def _replace(self, conn: Connection, output: str) -> None:
        try:
            rows = json.loads(output).get("rows") or []
        except (ValueError, AttributeError):
            log.info("resync: channels answer not understood; kept what we had")
            return
        conn.execute(delete(RING))
        conn.execute(delete(CALL))
        for row in rows:
            user, domain = _user_domain(row.get("presence_id", ""))
            tenant_id = self.tenants.id_of(domain, conn)
            callstate = row.get("callstate", "")
            state = {"ACTIVE": "answered", "HELD": "answered", "RINGING": "ringing", "EARLY": "ringing"}.get(
                callstate, "routing"
            )
            outbound = row.get("direction") == "outbound"
            started = _epoch(row.get("created_epoch"))
            conn.execute(
                insert(CALL).values(
                    uuid=row["uuid"],
                    tenant_id=tenant_id,
                    call_uuid=row.get("call_uuid", ""),
                    direction=row.get("direction", "")[:16],
                    extension=user[:64],
                    caller_number=row.get("cid_num", "")[:64],
                    caller_name=row.get("cid_name", "")[:128],
                    destination=row.get("dest", "")[:128],
                    state=state,
                    started_at=started,
                )
            )
            if outbound and state == "ringing" and tenant_id is not None and user:
                conn.execute(
                    insert(RING).values(
                        uuid=row["uuid"],
                        tenant_id=tenant_id,
                        extension=user[:64],
                        caller_uuid=row.get("call_uuid", ""),
                        caller_number=row.get("cid_num", "")[:64],
                        caller_name=row.get("cid_name", "")[:128],
                        since=started,
                    )
                )


class Parking(StateHandler):
    """Parked calls per tenant from valet_parking::info (hold, bridge, exit) and `valet_info`."""

    events = ("valet_parking::info", SNAPSHOT)

    def apply(self, conn: Connection, event: Event) -> None:
        if isinstance(event, Snapshot):
            if event.kind == "valet":
                self._replace(conn, event.body)
            return
        if not isinstance(event, ValetEvent) or not event.slot:
            return
        tenant_id = self.tenants.id_of(lot_domain(event.lot), conn)
        if tenant_id is None:
            return
        where = and_(PARK.c.tenant_id == tenant_id, PARK.c.slot == event.slot)
        if event.action == "hold":
            conn.execute(delete(PARK).where(where))
            conn.execute(
                insert(PARK).values(
                    tenant_id=tenant_id,
                    slot=event.slot[:16],
                    lot=event.lot[:300],
                    uuid=event.unique_id,
                    caller_number=event.caller_number[:64],
                    caller_name=event.caller_name[:128],
                    parked_by=event.parked_by[:64],
                    since=from_us(event.timestamp_us),
                )
            )
        elif event.action in ("bridge", "exit"):
            conn.execute(delete(PARK).where(where, PARK.c.uuid == event.unique_id))

    def _replace(self, conn: Connection, output: str) -> None:
        try:
            root = ET.fromstring(output)
        except ET.ParseError:
            log.info("resync: valet_info answer not understood; kept what we had")
            return
        known = {r.uuid: r for r in conn.execute(select(PARK)).all()}
        conn.execute(delete(PARK))
        for lot in root.iter("lot"):
            lot_name = lot.get("name", "")
            tenant_id = self.tenants.id_of(lot_domain(lot_name), conn)
            if tenant_id is None:
                continue
            for ext in lot.iter("extension"):
                uuid, slot = ext.get("uuid", ""), (ext.text or "").strip()
                if not uuid or not slot:
                    continue
                before = known.get(uuid)
                caller = conn.execute(
                    select(CALL.c.caller_number, CALL.c.caller_name).where(CALL.c.uuid == uuid)
                ).first()
                conn.execute(
                    insert(PARK).values(
                        tenant_id=tenant_id,
                        slot=slot[:16],
                        lot=lot_name[:300],
                        uuid=uuid,
                        caller_number=(before.caller_number if before else caller[0] if caller else "")[:64],
                        caller_name=(before.caller_name if before else caller[1] if caller else "")[:128],
                        parked_by=before.parked_by if before else "",
                        since=before.since if before else _now(),
                        rang_back_at=before.rang_back_at if before else None,
                    )
                )
