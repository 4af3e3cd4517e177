"""Feature handlers: small classes, one per kind of live state; wired together in fsctl.esl.wiring.

Each takes a batch of typed events off its own queue and applies it in one transaction. Snapshots
(the switch's answers to the resync commands) replace that handler's whole table at their place in
the stream, so the state after a reconnect matches the switch.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
import xml.etree.ElementTree as ET

from gevent.lock import Semaphore
from sqlalchemy import Connection, Engine, and_, bindparam, delete, insert, select, tuple_

from fsctl.esl.dispatch import Handler
from fsctl.esl.events import SNAPSHOT, ChannelEvent, Event, RegistrationEvent, Snapshot, ValetEvent
from fsctl.esl.state import CALL, PARK, REG, RING, Tenants, from_us, lot_domain
from fsctl.routing.plan import LIMIT_REALM
from fsctl.routing.transfer import TRANSFER_TENANT_VAR

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


# Statements built once: building one per event (clauses, coercion, cache key) cost more than
# running it. Parameters by column name.
_REG_MINE = and_(
    REG.c.tenant_id == bindparam("tenant_id"),
    REG.c.extension == bindparam("extension"),
)
_REG_INSERT = insert(REG)
# A slot per node: park lots are node-local (models.ParkedCall).
_PARK_SLOT = and_(
    PARK.c.tenant_id == bindparam("tenant_id"),
    PARK.c.node == bindparam("node"),
    PARK.c.slot == bindparam("slot"),
)
_PARK_EMPTY = delete(PARK).where(_PARK_SLOT)
_PARK_LEAVE = delete(PARK).where(_PARK_SLOT, PARK.c.uuid == bindparam("uuid"))
_PARK_INSERT = insert(PARK)


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


# How long registration changes are held and coalesced before they are written (the database holds
# live state, docs/decisions.md, and is true again within this interval). A phone re-registering
# several times within it costs one row write; a busy switch (hundreds of REGISTERs a second) costs
# one transaction a second.
REGISTRATION_FLUSH_SECONDS = 1.0


class _Phone:
    """What one user's (tenant, extension) registrations became since the last flush.

    `clear`: every row the database holds for the user goes, on every node (a REGISTER without
    multiple-registrations: one user is one device, and its newest registration wins wherever it
    is); `clear_nodes`: every row of the user on those nodes (an unregister there); otherwise only
    the rows whose (node, call-id) / (node, contact) is in `drop_call_ids` / `drop_contacts` (node
    None: on any node). Then `rows` (one per contact) are written."""

    __slots__ = ("clear", "clear_nodes", "drop_call_ids", "drop_contacts", "rows")

    def __init__(self) -> None:
        self.clear = False
        self.clear_nodes: set[str] = set()
        self.drop_call_ids: set[tuple[str | None, str]] = set()
        self.drop_contacts: set[tuple[str | None, str]] = set()
        self.rows: dict[str, dict] = {}

    def replace(self, row: dict | None) -> None:
        self.clear = True
        self.clear_nodes.clear()
        self.drop_call_ids.clear()
        self.drop_contacts.clear()
        self.rows = {row["contact"]: row} if row is not None else {}

    def clear_node(self, node: str) -> None:
        self.rows = {key: row for key, row in self.rows.items() if row["node"] != node}
        if not self.clear:
            self.clear_nodes.add(node)

    def upsert(self, row: dict) -> None:
        # The same device (call-id) registered again, on whichever node: its newest row only.
        self.forget(None, call_id=row["call_id"])
        self.rows[row["contact"]] = row

    def forget(self, node: str | None, call_id: str = "", contact: str = "") -> None:
        for key, row in list(self.rows.items()):
            if node is not None and row["node"] != node:
                continue
            if (call_id and row["call_id"] == call_id) or (contact and key == contact):
                del self.rows[key]
        if not self.clear:
            if call_id:
                self.drop_call_ids.add((node, call_id))
            if contact:
                self.drop_contacts.add((node, contact))

    def then(self, newer: _Phone) -> _Phone:
        """This change followed by `newer` (to put back what a failed flush held before newer events)."""
        if newer.clear:
            return newer
        for node in newer.clear_nodes:
            self.clear_node(node)
        for node, call_id in newer.drop_call_ids:
            self.forget(node, call_id=call_id)
        for node, contact in newer.drop_contacts:
            self.forget(node, contact=contact)
        self.rows.update(newer.rows)
        return self


_REG_CALL_ID = delete(REG).where(_REG_MINE, REG.c.call_id == bindparam("call_id"))
_REG_CONTACT = delete(REG).where(_REG_MINE, REG.c.contact == bindparam("contact"))
_REG_ON_NODE = REG.c.node == bindparam("node")
_REG_NODE = delete(REG).where(_REG_MINE, _REG_ON_NODE)
_REG_NODE_CALL_ID = delete(REG).where(_REG_MINE, _REG_ON_NODE, REG.c.call_id == bindparam("call_id"))
_REG_NODE_CONTACT = delete(REG).where(_REG_MINE, _REG_ON_NODE, REG.c.contact == bindparam("contact"))


class Registrations(StateHandler):
    """Devices online per user: sofia::register / unregister / expire, one row per registered contact.

    Mirrors what mod_sofia keeps in its sip_registrations table (sofia_reg.c,
    sofia_reg_handle_register_token). Without `multiple-registrations` on the profile (kumo's
    `internal` profile: one user is one device), every REGISTER, renewals included,
    first deletes all rows of the user (`sip_user`, `sip_host`), and an unregister deletes them all
    too: so a phone that comes back with a new Call-ID (a reboot) replaces its row instead of adding
    one. With `multiple-registrations` (`multiple=True`) rows are kept per contact, and a REGISTER or
    unregister deletes the row of the same Call-ID (call-id mode) or contact (contact mode) first.
    sofia::expire (sofia_reg_del_callback) is sent once per expired row with that row's call-id.

    Each row records its node (the event's FreeSWITCH-Switchname). A REGISTER replaces the user's
    rows on every node: a phone whose tenant moved registers on the new node while the old node still
    holds its registration until it expires, and the row follows the newest. An unregister or expiry
    removes rows of its own node only (the phone usually keeps its Call-ID when it moves, so an
    expiry on the old node must not remove the new node's row).

    Events are applied in memory per user and written once per `flush_seconds` (see
    REGISTRATION_FLUSH_SECONDS), or earlier on `drain`/shutdown: one delete and one insert per user
    that changed, in one transaction for all users, however many events came.
    """

    events = ("sofia::register", "sofia::unregister", "sofia::expire", SNAPSHOT)
    buffered = True

    def __init__(
        self,
        engine: Engine,
        tenants: Tenants,
        *,
        multiple: bool = False,
        flush_seconds: float = REGISTRATION_FLUSH_SECONDS,
        clock=time.monotonic,
    ):
        super().__init__(engine, tenants)
        self.multiple = multiple
        self.flush_seconds = flush_seconds
        self.clock = clock
        self._pending: dict[tuple[int, str], _Phone] = {}
        self._due: float | None = None
        self._lock = Semaphore()

    # -- buffering -----------------------------------------------------------------------------
    def flush_due(self) -> float | None:
        return self._due

    def handle_batch(self, events: list[Event]) -> None:
        for event in events:
            if isinstance(event, Snapshot):
                if event.kind == "registrations":
                    self._snapshot(event.body, event.node)
            elif isinstance(event, RegistrationEvent):
                self._note(event)
        if self._due is not None and self.clock() >= self._due:
            try:
                self.flush()
            except Exception as exc:  # noqa: BLE001 - kept in memory; the batch must not be re-applied
                log.warning("registrations not written (%s); kept and retried", exc)

    def _note(self, event: RegistrationEvent) -> None:
        user = event.user
        if not user:
            return
        tenant_id = self.tenants.id_of(event.realm)
        if tenant_id is None:
            return
        key = (tenant_id, user)
        phone = self._pending.get(key)
        if phone is None:
            phone = self._pending[key] = _Phone()
            if self._due is None:
                self._due = self.clock() + self.flush_seconds
        action = event.action
        node = event.node
        if action == "register":
            at = from_us(event.timestamp_us)
            row = {
                "node": node,
                "tenant_id": tenant_id,
                "extension": user,
                "call_id": event.call_id[:255],
                "contact": event.contact[:500],
                "network_address": event.network_address[:64],
                "user_agent": event.user_agent[:255],
                "expires_at": at + dt.timedelta(seconds=max(event.expires, 1)),
                "updated_at": at,
            }
            if self.multiple:
                phone.upsert(row)
            else:
                phone.replace(row)
        elif action == "unregister" and not self.multiple:
            phone.clear_node(node)
        elif action == "unregister":
            phone.forget(node, call_id=event.call_id, contact=event.contact[:500])
        elif event.call_id:
            # sofia::expire names the expired row by its call-id (a newer row of the same phone,
            # under a new Call-ID, is not it).
            phone.forget(node, call_id=event.call_id)
        else:
            phone.forget(node, contact=event.contact[:500])

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, {}
            self._due = None
            if not pending:
                return
            try:
                with self.engine.begin() as conn:
                    self._write(conn, pending)
            except BaseException:
                # Kept, before whatever came meanwhile, and tried again after one more interval.
                for key, newer in self._pending.items():
                    older = pending.get(key)
                    pending[key] = newer if older is None else older.then(newer)
                self._pending = pending
                self._due = self.clock() + self.flush_seconds
                raise

    @staticmethod
    def _write(conn: Connection, pending: dict[tuple[int, str], _Phone]) -> None:
        whole: list[tuple[int, str]] = []
        on_node: list[dict] = []
        drops: dict[object, list[dict]] = {
            _REG_CALL_ID: [],
            _REG_CONTACT: [],
            _REG_NODE_CALL_ID: [],
            _REG_NODE_CONTACT: [],
        }
        rows = []
        for (tenant_id, user), phone in pending.items():
            mine = {"tenant_id": tenant_id, "extension": user}
            if phone.clear:
                whole.append((tenant_id, user))
            else:
                on_node += [{**mine, "node": node} for node in phone.clear_nodes]
                for node, call_id in phone.drop_call_ids:
                    statement = _REG_CALL_ID if node is None else _REG_NODE_CALL_ID
                    drops[statement].append({**mine, "call_id": call_id, **_node_param(node)})
                for node, contact in phone.drop_contacts:
                    statement = _REG_CONTACT if node is None else _REG_NODE_CONTACT
                    drops[statement].append({**mine, "contact": contact, **_node_param(node)})
                # The contact is unique per user on every node: a row about to be written replaces it.
                drops[_REG_CONTACT] += [{**mine, "contact": contact} for contact in phone.rows]
            rows += phone.rows.values()
        # The users replaced in full: one DELETE per chunk of users (an executemany of one DELETE
        # per user costs a round trip each on PostgreSQL); the new rows in one multi-row INSERT.
        for chunk in _chunks(whole):
            conn.execute(delete(REG).where(tuple_(REG.c.tenant_id, REG.c.extension).in_(chunk)))
        if on_node:
            conn.execute(_REG_NODE, on_node)
        for statement, params in drops.items():
            if params:
                conn.execute(statement, params)
        if rows:
            conn.execute(_REG_INSERT, rows)

    # -- resync --------------------------------------------------------------------------------
    def _snapshot(self, output: str, node: str) -> None:
        """One node's `show registrations as json` replaces that node's rows (all rows when the node
        is not known: a single switch). What was held is written first: it came before the answer
        in the stream, and what it changed on other nodes stays true."""
        try:
            rows = json.loads(output).get("rows") or []
        except (ValueError, AttributeError):
            log.info("resync: registrations answer not understood; kept what we had")
            return
        self.flush()
        with self._lock:
            phones: dict[tuple[int, str], _Phone] = {}
            now = _now()
            for row in rows:
                tenant_id = self.tenants.id_of(row.get("realm", ""))
                user = row.get("reg_user")
                if tenant_id is None or not user:
                    continue
                address = ":".join(x for x in (row.get("network_ip", ""), row.get("network_port", "")) if x)
                record = {
                    "node": node,
                    "tenant_id": tenant_id,
                    "extension": user,
                    "call_id": (row.get("token") or "")[:255],
                    "contact": (row.get("url") or "")[:500],
                    "network_address": address[:64],
                    "user_agent": (row.get("agent") or "")[:255],
                    "expires_at": _epoch(row.get("expires")),
                    "updated_at": now,
                }
                phone = phones.setdefault((tenant_id, user), _Phone())
                # The switch's own table has one row per user (or per contact with
                # multiple-registrations); keep the same even if the answer repeats one.
                if self.multiple:
                    phone.upsert(record)
                else:
                    phone.replace(record)
            with self.engine.begin() as conn:
                conn.execute(delete(REG).where(*_replaced_by(REG, node)))
                rows_out = self._newest_of_nodes(conn, [r for p in phones.values() for r in p.rows.values()])
                if rows_out:
                    conn.execute(_REG_INSERT, rows_out)

    def _newest_of_nodes(self, conn: Connection, rows: list[dict]) -> list[dict]:
        """The rows of a node's answer that are newer than what other nodes hold for the same user
        (the same contact with multiple-registrations), whose rows then go. A node keeps a phone that
        moved to another node until that registration expires: the later expiry is the newer one."""
        if not rows:
            return rows
        users = sorted({(r["tenant_id"], r["extension"]) for r in rows})
        others: dict[tuple[int, str], list] = {}
        for chunk in _chunks(users):
            query = select(REG.c.id, REG.c.tenant_id, REG.c.extension, REG.c.contact, REG.c.expires_at).where(
                tuple_(REG.c.tenant_id, REG.c.extension).in_(chunk)
            )
            for other in conn.execute(query):
                others.setdefault((other.tenant_id, other.extension), []).append(other)
        keep, stale = [], []
        for row in rows:
            rivals = [
                o
                for o in others.get((row["tenant_id"], row["extension"]), ())
                if not self.multiple or o.contact == row["contact"]
            ]
            if any(_aware_utc(o.expires_at) > row["expires_at"] for o in rivals):
                continue
            keep.append(row)
            stale += [o.id for o in rivals]
        for chunk in _chunks(stale):
            conn.execute(delete(REG).where(REG.c.id.in_(chunk)))
        return keep


def _node_param(node: str | None) -> dict[str, str]:
    return {} if node is None else {"node": node}


def _aware_utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)  # SQLite: naive


def _replaced_by(table, node: str) -> tuple:
    """The rows a resync of `node` replaces: its own and those of no known node (written before
    nodes were recorded); every row when the node is unknown (a switch that did not say its name)."""
    return (table.c.node.in_((node, "")),) if node else ()


# Bound on the number of values in one IN (...) list (SQLite's default limit is 32766 variables).
_IN_CHUNK = 500


def _chunks(keys: list) -> list[list]:
    return [keys[i : i + _IN_CHUNK] for i in range(0, len(keys), _IN_CHUNK)]


class _Rows:
    """The live_calls and ringing_calls rows of the legs one batch touches, changed in memory and
    written back once (`write`); None marks a row to delete."""

    def __init__(self, conn: Connection, uuids: list[str]):
        self._calls: dict[str, dict | None] = {}
        self._rings: dict[str, dict | None] = {}
        for chunk in _chunks(uuids):
            for row in conn.execute(select(CALL).where(CALL.c.uuid.in_(chunk))).mappings():
                self._calls[row["uuid"]] = dict(row)
            for row in conn.execute(select(RING).where(RING.c.uuid.in_(chunk))).mappings():
                self._rings[row["uuid"]] = dict(row)
        self._dirty_calls: set[str] = set()
        self._dirty_rings: set[str] = set()

    def call(self, uuid: str) -> dict | None:
        return self._calls.get(uuid)

    def put_call(self, row: dict) -> None:
        self._calls[row["uuid"]] = row
        self._dirty_calls.add(row["uuid"])

    def change_call(self, uuid: str, **values) -> None:
        row = self._calls.get(uuid)
        if row is not None:
            row.update(values)
            self._dirty_calls.add(uuid)

    def drop_call(self, uuid: str) -> None:
        self._calls[uuid] = None
        self._dirty_calls.add(uuid)

    def put_ring(self, row: dict) -> None:
        self._rings[row["uuid"]] = row
        self._dirty_rings.add(row["uuid"])

    def drop_ring(self, uuid: str) -> None:
        if self._rings.get(uuid) is not None:
            self._rings[uuid] = None
            self._dirty_rings.add(uuid)

    def write(self, conn: Connection) -> None:
        for table, rows, dirty in (
            (CALL, self._calls, self._dirty_calls),
            (RING, self._rings, self._dirty_rings),
        ):
            if not dirty:
                continue
            for chunk in _chunks(sorted(dirty)):
                conn.execute(delete(table).where(table.c.uuid.in_(chunk)))
            keep = [rows[uuid] for uuid in sorted(dirty) if rows.get(uuid) is not None]
            if keep:
                conn.execute(insert(table), keep)


class Calls(StateHandler):
    """Legs in progress and calls ringing per extension (for pickup).

    A batch is applied in memory and written once: the rows of every leg the batch touches are read
    in one query, the events change them in order, and what changed is written back with one delete
    and one multi-row insert per table. A leg created and hung up within one batch costs nothing, and
    the number of statements per batch does not grow with the number of events.
    """

    events = (
        "CHANNEL_CREATE",
        "CHANNEL_ANSWER",
        "CHANNEL_BRIDGE",
        "CHANNEL_UNBRIDGE",
        "CHANNEL_HANGUP_COMPLETE",
        "CALL_UPDATE",
        SNAPSHOT,
    )

    def handle_batch(self, events: list[Event]) -> None:
        with self.engine.begin() as conn:
            run: list[ChannelEvent] = []
            for event in events:
                if isinstance(event, Snapshot):
                    # A snapshot replaces the table at its place in the stream.
                    self._apply_run(conn, run)
                    run = []
                    if event.kind == "channels":
                        self._replace(conn, event.body, event.node)
                elif isinstance(event, ChannelEvent) and event.unique_id:
                    run.append(event)
            self._apply_run(conn, run)

    def apply(self, conn: Connection, event: Event) -> None:
        if isinstance(event, Snapshot):
            if event.kind == "channels":
                self._replace(conn, event.body, event.node)
        elif isinstance(event, ChannelEvent) and event.unique_id:
            self._apply_run(conn, [event])

    def _apply_run(self, conn: Connection, events: list[ChannelEvent]) -> None:
        if not events:
            return
        touched: set[str] = set()
        for event in events:
            touched.add(event.unique_id)
            if event.name in ("CHANNEL_BRIDGE", "CHANNEL_UNBRIDGE") and event.other_leg:
                touched.add(event.other_leg)
        rows = _Rows(conn, sorted(touched))
        for event in events:
            self._apply_one(conn, rows, event)
        rows.write(conn)

    def _apply_one(self, conn: Connection, rows: _Rows, event: ChannelEvent) -> None:
        uuid = event.unique_id
        name = event.name
        if name == "CHANNEL_CREATE":
            self._create(conn, rows, event)
        elif name == "CHANNEL_ANSWER":
            call = rows.call(uuid)
            if call is not None and call["state"] != "bridged":
                rows.change_call(uuid, state="answered", answered_at=from_us(event.timestamp_us))
            rows.drop_ring(uuid)
            self._mark_external(rows, event)
        elif name == "CHANNEL_BRIDGE":
            other = event.other_leg
            for me, them in ((uuid, other), (other, uuid)):
                call = rows.call(me) if me else None
                if call is None:
                    continue
                rows.change_call(me, state="bridged", other_uuid=them)
                if call["tenant_id"] is None:
                    # A carrier leg learns its tenant from the leg it is bridged to.
                    peer = rows.call(them) if them else None
                    rows.change_call(me, tenant_id=peer["tenant_id"] if peer is not None else None)
            rows.drop_ring(uuid)
            if other:
                rows.drop_ring(other)
            self._mark_external(rows, event)
        elif name == "CHANNEL_UNBRIDGE":
            for leg in (uuid, event.other_leg):
                call = rows.call(leg) if leg else None
                if call is not None and call["state"] == "bridged":
                    rows.change_call(leg, state="answered", other_uuid="")
        elif name == "CHANNEL_HANGUP_COMPLETE":
            rows.drop_call(uuid)
            rows.drop_ring(uuid)
        elif name == "CALL_UPDATE":
            # After a transfer or pickup the far end changed: keep the shown party right.
            number = event.callee_number
            if number and rows.call(uuid) is not None:
                rows.change_call(uuid, destination=number[:128])

    @staticmethod
    def _mark_external(rows: _Rows, event: ChannelEvent) -> None:
        """A leg that took one of a tenant's outside channels: the routing ran `limit hash kumo_external
        <tenant id>` on it, and FreeSWITCH then carries `limit_usage_<realm>_<id>` in the leg's
        variables (switch_limit.c). The phone's own leg on a call out; the carrier's leg on a call in,
        whose tenant the routing also set (kumo_transfer_tenant), even before it bridges to a phone."""
        call = rows.call(event.unique_id)
        if call is None or call["external"]:
            return
        headers = event.headers
        for tenant_id in (call["tenant_id"], headers.get(f"variable_{TRANSFER_TENANT_VAR}")):
            if (
                tenant_id
                and str(tenant_id).isdigit()
                and headers.get(f"variable_limit_usage_{LIMIT_REALM}_{tenant_id}")
            ):
                rows.change_call(
                    event.unique_id, external=True, tenant_id=call["tenant_id"] or int(tenant_id)
                )
                return

    def _create(self, conn: Connection, rows: _Rows, event: ChannelEvent) -> None:
        tenant_id = self.tenants.id_of(event.domain, conn)
        outbound = event.direction == "outbound"
        extension = (event.dialed_user if outbound else event.user) or ""
        started = from_us(event.timestamp_us)
        rows.put_call(
            {
                "uuid": event.unique_id,
                "node": event.node,
                "tenant_id": tenant_id,
                "call_uuid": event.get("Channel-Call-UUID") or event.get("variable_call_uuid"),
                "direction": event.direction[:16],
                "extension": extension[:64],
                "caller_number": event.caller_number[:64],
                "caller_name": event.caller_name[:128],
                "destination": (event.dialed_user or event.destination)[:128],
                "state": "ringing" if outbound else "routing",
                "external": False,
                "other_uuid": "",
                "started_at": started,
                "answered_at": None,
            }
        )
        if outbound and event.dialed_user and tenant_id is not None:
            rows.put_ring(
                {
                    "uuid": event.unique_id,
                    "node": event.node,
                    "tenant_id": tenant_id,
                    "extension": event.dialed_user[:64],
                    "caller_uuid": event.other_leg or event.get("variable_originator"),
                    "caller_number": event.caller_number[:64],
                    "caller_name": event.caller_name[:128],
                    "since": started,
                }
            )

    def _replace(self, conn: Connection, output: str, node: str) -> None:
        """One node's `show channels as json` replaces that node's legs (see _replaced_by)."""
        try:
            rows = json.loads(output).get("rows") or []
        except (ValueError, AttributeError):
            log.info("resync: channels answer not understood; kept what we had")
            return
        conn.execute(delete(RING).where(*_replaced_by(RING, node)))
        conn.execute(delete(CALL).where(*_replaced_by(CALL, node)))
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
                    node=node,
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
                        node=node,
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
                self._replace(conn, event.body, event.node)
            return
        if not isinstance(event, ValetEvent) or not event.slot:
            return
        tenant_id = self.tenants.id_of(lot_domain(event.lot), conn)
        if tenant_id is None:
            return
        slot = {"tenant_id": tenant_id, "node": event.node, "slot": event.slot}
        if event.action == "hold":
            conn.execute(_PARK_EMPTY, slot)
            conn.execute(
                _PARK_INSERT,
                {
                    **slot,
                    "slot": event.slot[:16],
                    "lot": event.lot[:300],
                    "uuid": event.unique_id,
                    "caller_number": event.caller_number[:64],
                    "caller_name": event.caller_name[:128],
                    "parked_by": event.parked_by[:64],
                    "since": from_us(event.timestamp_us),
                    "rang_back_at": None,
                },
            )
        elif event.action in ("bridge", "exit"):
            conn.execute(_PARK_LEAVE, {**slot, "uuid": event.unique_id})

    def _replace(self, conn: Connection, output: str, node: str) -> None:
        """One node's `valet_info` replaces that node's parked calls (see _replaced_by)."""
        try:
            root = ET.fromstring(output)
        except ET.ParseError:
            log.info("resync: valet_info answer not understood; kept what we had")
            return
        mine = _replaced_by(PARK, node)
        known = {r.uuid: r for r in conn.execute(select(PARK).where(*mine)).all()}
        conn.execute(delete(PARK).where(*mine))
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
                        node=node,
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
