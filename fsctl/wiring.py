"""The composition root: the one place that names every feature and plugs it into the core's seams.

The core (models, numbering, routing, snapshots, renderers, the tenant file) names no feature; each
feature offers small typed pieces (a routing step, a snapshot part, an ESL handler, a tenant-file
section, a billable item, a periodic job) and this module hands them to the core, one function per
seam, explicitly (no registry, no entry points).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Protocol

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from fsctl.billing.ivr_option import IvrOptionSection
from fsctl.billing.subscriptions import Billable, SubscriptionsSection
from fsctl.cdr.parse import Leg
from fsctl.conference.billing import room_items
from fsctl.conference.config import RoomSection
from fsctl.conference.snapshot import rooms_snapshot_part
from fsctl.esl.dispatch import Handler
from fsctl.esl.dnd import DoNotDisturbEvents, DoNotDisturbLamps
from fsctl.esl.handlers import Calls, Parking, Registrations
from fsctl.esl.override import ScheduleOverrides
from fsctl.esl.park import ParkTimeouts
from fsctl.esl.state import Tenants
from fsctl.fax.billing import fax_items
from fsctl.fax.config import FaxSection
from fsctl.fax.intake import FaxFollower, fax_settings_from_env
from fsctl.fax.snapshot import fax_snapshot_part
from fsctl.gateways.acl_reload import GatewayAclReloader
from fsctl.gateways.billing import gateway_items
from fsctl.gateways.config import GatewaySection
from fsctl.gateways.events import GatewayEvents
from fsctl.gateways.routing import route_emergency, route_external
from fsctl.gateways.snapshot import gateway_snap_fields
from fsctl.mail_retry import mail_retry
from fsctl.media.esl_handlers import media_handlers
from fsctl.media.snapshot import hold_music_snapshot_part
from fsctl.numbering import default_plan
from fsctl.phonebook.billing import phonebook_items
from fsctl.phonebook.config import PhonebookSection
from fsctl.phonebook.snapshot import phonebook_snapshot_part
from fsctl.queues.billing import queue_items
from fsctl.queues.config import QueueSection
from fsctl.queues.events import QueueAgentEvents, QueueCallers
from fsctl.queues.snapshot import queues_snapshot_part
from fsctl.queues.switch import QueueSync
from fsctl.routing.seams import RoutingSteps
from fsctl.screening.billing import screening_items
from fsctl.screening.section import ScreeningSection
from fsctl.screening.snapshot import screening_snapshot_part
from fsctl.security.auth_events import security_handlers
from fsctl.security.bans import BanListener
from fsctl.security.jobs import SecurityJobs
from fsctl.security.limits import call_caps_step, limits_snapshot_part
from fsctl.security.settings import security_settings_from_env
from fsctl.snapshots import Cache, SnapshotPart, Snapshots
from fsctl.tenant_file import Section, TenantFile
from fsctl.xmlcurl.store import LookupStore


class BackgroundJob(Protocol):
    """A job the service starts once it runs and stops on shutdown (fsctl.periodic.PeriodicJob inside)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


def routing_steps() -> RoutingSteps:
    """What features add to call routing, in order: the caps (rate, per user, spend suspension) come
    before a customer gateway, so a suspended tenant's calls stop whichever way they would leave; an
    emergency call tries the tenant's own gateway, then the platform's carrier."""
    return RoutingSteps(outbound=(call_caps_step, route_external), emergency=(route_emergency,))


def snapshot_parts() -> tuple[SnapshotPart, ...]:
    """Each feature's fields of a tenant's routing snapshot: gateways, security caps, hold music,
    conference rooms, the phonebook's names, caller screening, fax numbers."""
    return (
        gateway_snap_fields,
        limits_snapshot_part,
        hold_music_snapshot_part,
        rooms_snapshot_part,
        queues_snapshot_part,
        phonebook_snapshot_part,
        screening_snapshot_part,
        fax_snapshot_part,
    )


def snapshots(cache: Cache | None = None) -> Snapshots:
    """The snapshot loader with every feature's part (lookups, `fsctl trace`, CDR classification)."""
    return Snapshots(snapshot_parts(), cache)


def state_handlers(engine: Engine, tenants: Tenants | None = None) -> list[Handler]:
    """The live-state handlers (registrations, calls + ringing, parked calls)."""
    tenants = tenants or Tenants(engine)
    return [Registrations(engine, tenants), Calls(engine, tenants), Parking(engine, tenants)]


def esl_handlers(
    engine: Engine,
    send_event: Callable[[str, dict[str, str], str], object] | None = None,
    on_ban: BanListener | None = None,
    send_api: Callable[[str, str], object] | None = None,
) -> list[Handler]:
    """Every ESL handler: live state; voicemail index, e-mail and call recordings; brute-force
    counting and trusted sources (`on_ban` told each new ban); customer gateways' channels in use
    and refusals by their plan; schedule overrides dialled from phones (*21 / *22 / *23); do not
    disturb set from a phone's feature code, and its busy lamp's state when a key subscribes (with
    `send_event(name, headers, node)`, fsctl.esl.nodes); `send_api(command, node)` (the event
    sockets' command sender) removes a registration made in another tenant's name; queue agents' login codes and the callers in each queue."""
    lamps = [DoNotDisturbLamps(engine, send_event)] if send_event is not None else []
    return [
        *state_handlers(engine),
        ScheduleOverrides(engine),
        DoNotDisturbEvents(engine),
        *lamps,
        QueueAgentEvents(engine),
        QueueCallers(engine),
        *media_handlers(engine),
        *security_handlers(engine, on_ban=on_ban, send_api=send_api),
        GatewayEvents(engine),
    ]


def billable_items() -> tuple[Billable, ...]:
    """Features whose holdings are billed monthly besides users, numbers and options: gateways' plans,
    conference rooms, call queues, the phonebook, caller screening and fax numbers (options at 0 yen
    until the operator prices them)."""
    return (gateway_items, room_items, queue_items, phonebook_items, screening_items, fax_items)


def tenant_file_sections() -> tuple[Section, ...]:
    """The tenant file's sections after the core's, in the order they are checked, applied and exported."""
    return (
        GatewaySection(),
        RoomSection(),
        QueueSection(),
        PhonebookSection(),
        ScreeningSection(),
        FaxSection(),
        IvrOptionSection(),
        SubscriptionsSection(billable_items()),
    )


def cdr_followers(
    session_factory: sessionmaker[Session], spawn: Callable[..., object] | None = None
) -> tuple[Callable[[Leg, int], None], ...]:
    """Features told of each CDR leg of a tenant before it is stored: the fax receiver's results
    (recorded, made a PDF, mailed; `spawn` runs the mailing, inline when None)."""
    return (FaxFollower(session_factory, fax_settings_from_env(), spawn),)


@functools.cache
def tenant_file() -> TenantFile:
    """The tenant file with every section: what `fsctl apply`/`export`, the panel and the API use."""
    return TenantFile(default_plan(), tenant_file_sections())


def switch_jobs(engine: Engine, send_api: Callable[[str, str], object]) -> list[BackgroundJob]:
    """Periodic jobs that act on the switch over the event socket (`send_api(command, node)`, to the
    node that holds the call): parked calls ring back on timeout."""
    return [ParkTimeouts(engine, send_api)]


def database_jobs(engine: Engine) -> list[BackgroundJob]:
    """Periodic jobs on the database alone: spend anomaly alerts every 15 s (suspending external calls
    where the tenant asked for it), purge of old auth failures and expired bans every hour, voicemail
    and fax mails the SMTP server did not take sent again every 5 minutes."""
    return [SecurityJobs(engine, security_settings_from_env()), mail_retry(engine)]


class SwitchWatcher(BackgroundJob, Protocol):
    """A job that brings committed configuration to the switch over the event socket, and catches up
    on every (re)connection."""

    def on_connect(self, connection: object = None) -> None: ...


def configuration_watchers(store: LookupStore, send_api: Callable[[str], object]) -> list[SwitchWatcher]:
    """What a saved change needs besides the lookups it decides: static customer gateways' addresses
    reach the switch only through an ACL load, so their list is watched and reloaded when it changes; call
    queues, their agents and the agents' login state reach mod_callcenter through its API. One set per
    node (`send_api`: that node's connection), each catching up when its node reconnects."""
    return [GatewayAclReloader(store, send_api), QueueSync(store, send_api)]
