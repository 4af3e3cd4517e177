"""section=dialplan answers: the tenant's snapshot (cached by config version) -> plan -> XML."""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from collections.abc import Callable, Mapping

from fsctl.config import Settings
from fsctl.gateways.contexts import parse_context as parse_gateway_context
from fsctl.gateways.responder import plan_gateway_call
from fsctl.numbering import default_plan
from fsctl.numbers import NumberError, to_national
from fsctl.routing.blind_transfer import plan_blind_transfer
from fsctl.routing.calls import plan_continuation, plan_from_carrier, plan_from_phone
from fsctl.routing.plan import CARRIER_CONTINUATION_PREFIX, Plan
from fsctl.routing.screening import presentation
from fsctl.routing.seams import RoutingSteps
from fsctl.routing.snapshot import TenantSnap
from fsctl.routing.transfer import TRANSFER_TENANT_VAR
from fsctl.snapshots import Snapshots
from fsctl.wiring import routing_steps
from fsctl.wiring import snapshots as wired_snapshots
from fsctl.xml.dialplan import RenderError, render
from fsctl.xmlcurl.store import LookupStore, LruCache

log = logging.getLogger(__name__)

PUBLIC_CONTEXT = "public"
_DIALLED = re.compile(r"^[0-9*#+]{1,32}$")
_CONTINUATION_DEST = re.compile(r"^kumo-(after|ivr|parkreturn)-[A-Za-z0-9_.*#-]{1,100}$")
_REFERRED_BY = re.compile(r"sip:([0-9]{2,6})@")
_URI_HOST = re.compile(r"sips?:[^@>;]*@([^>;:]+)")
_CONTINUATION_VAR = re.compile(
    r"^([0-9]{1,12})/((?:(?:user|group|schedule|ivr):[A-Za-z0-9_.-]{1,64},?){0,20})$"
)
_DOMAIN = re.compile(r"^[a-z0-9][a-z0-9.-]{0,252}$")
_CALLER = re.compile(r"^[0-9]{2,6}$")

_TENANT_BY_DOMAIN = "SELECT id, config_version FROM tenants WHERE domain = ?"
_TENANT_BY_NUMBER = (
    "SELECT t.id, t.config_version FROM numbers n JOIN tenants t ON t.id = n.tenant_id WHERE n.national = ?"
)


# Rendered documents kept per worker: one per distinct answer (a tenant's number or extension in
# one schedule state), a few KiB each.
RENDERED_CACHE_ENTRIES = 20_000
# The tenants a worker loads when it starts (DialplanResponder.warm).
_TENANTS_TO_WARM = "SELECT id, config_version FROM tenants ORDER BY id LIMIT ?"


class DialplanResponder:
    """Answers dialplan lookups; snapshots are cached per (tenant id, config_version), rendered
    documents per everything the renderer reads from a plan.

    `snapshots` and `steps` default to the composition root's (fsctl.wiring); the service hands the
    same `snapshots` to CDR classification, so both read one cache."""

    def __init__(
        self,
        store: LookupStore,
        settings: Settings,
        clock: Callable[[], dt.datetime] | None = None,
        *,
        snapshots: Snapshots | None = None,
        steps: RoutingSteps | None = None,
    ):
        self.store = store
        self.settings = settings
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.snapshots = snapshots or wired_snapshots(LruCache(max_entries=settings.dialplan_cache_tenants))
        self.steps = steps or routing_steps()
        self.rendered = LruCache(max_entries=RENDERED_CACHE_ENTRIES)
        self.numbering = default_plan()
        # "cold" until warm() ran, "warming" while it runs, "warm" after (reported by /healthz).
        self.warm_state = "cold"

    def warm(self, pause: Callable[[], object] = lambda: None) -> int:
        """Load every tenant's snapshot, up to the cache's size, oldest tenants first; how many.

        Run in a greenlet of its own when a worker starts: `pause` (gevent.sleep) between tenants lets
        lookups in, so the worker serves while it warms and a restart does not answer its first
        calls to each tenant at miss cost (~0.5 ms of CPU each). A snapshot is keyed by its config
        version like any other: a tenant changed meanwhile is loaded again at its next call.
        """
        self.warm_state = "warming"
        started = time.monotonic()
        limit = getattr(self.snapshots.cache, "max_entries", self.settings.dialplan_cache_tenants)
        loaded = 0
        try:
            for row in self.store.fetch_all(_TENANTS_TO_WARM, (int(limit),)):
                if self.snapshots.snapshot(self.store.fetch_all, row) is not None:
                    loaded += 1
                pause()
        except Exception:  # noqa: BLE001 - a cold cache only costs misses; lookups go on
            log.warning("dialplan snapshots not warmed (loaded %d)", loaded, exc_info=True)
            self.warm_state = "cold"
            return loaded
        self.warm_state = "warm"
        log.info("dialplan snapshots warm: %d tenant(s) in %.1f s", loaded, time.monotonic() - started)
        return loaded

    def answer(self, fields: Mapping[str, str]) -> bytes | None:
        """The dialplan document for this call, or None for FreeSWITCH's "not found"."""
        try:
            plan = self.plan(fields)
            if plan is None:
                return None
            if plan.refused_by:
                log.info(
                    "dialplan %s -> %s in %s refused by %s",
                    plan.caller,
                    plan.dialled,
                    plan.context,
                    plan.refused_by,
                )
            if plan.kind == "emergency":
                bypassed = [d.what for d in plan.decisions if d.what.startswith("bypass ")]
                log.warning(
                    "emergency call %s -> %s in %s: %s",
                    plan.caller,
                    plan.dialled,
                    plan.context,
                    ", ".join(bypassed),
                )
            return self.render(plan)
        except RenderError:
            log.warning("dialplan answer not rendered (unsafe input)", exc_info=True)
            return None
        except Exception:  # noqa: BLE001 - FreeSWITCH gets "not found" (deny-all fallback), never a 500
            log.exception("dialplan lookup failed")
            return None

    def render(self, plan: Plan) -> bytes:
        """The document for a plan, rendered once per distinct answer.

        The key is everything fsctl.xml.dialplan.render reads from a plan, so a cached document is
        byte for byte what rendering would give: the same number of the same tenant in the same
        schedule state gets the same actions, hence one entry; an answer carrying caller data (the
        carrier caller's number shown to the phones) differs by that data and shares nothing.
        """
        # Plain (app, data) tuples: hashed and compared in C, where a tuple of Action dataclasses
        # runs their generated __hash__/__eq__ in Python for every lookup (a third of a hit's cost).
        actions = tuple([(action.app, action.data) for action in plan.actions])
        key = (plan.context, plan.dialled, plan.kind, plan.language, plan.timezone, actions)
        document = self.rendered.get(key)
        if document is None:
            document = render(plan)  # RenderError: nothing cached, the lookup answers "not found"
            self.rendered.put(key, document)
        return document

    # -- lookups ------------------------------------------------------------------------------
    def snapshot(self, row: tuple | None) -> TenantSnap | None:
        """The cached snapshot for a (tenant id, config_version) row, loading it on a miss."""
        return self.snapshots.snapshot(self.store.fetch_all, row)

    def on_net(self, national: str) -> TenantSnap | None:
        return self.snapshot(self.store.fetch_one(_TENANT_BY_NUMBER, (national,)))

    def plan(self, fields: Mapping[str, str]) -> Plan | None:
        """The plan for a request's fields (None = not found)."""
        context = fields.get("Hunt-Context") or fields.get("Caller-Context") or ""
        destination = fields.get("Hunt-Destination-Number") or fields.get("Caller-Destination-Number") or ""
        now = self.clock()
        if len(context) > 253 or len(destination) > 120:
            return None
        continuation = _CONTINUATION_VAR.match(fields.get("variable_kumo_continuation") or "")
        if continuation and _CONTINUATION_DEST.match(destination):
            return self._continuation(context, destination, continuation, fields, now)
        if not _DIALLED.match(destination):
            return None
        if context == PUBLIC_CONTEXT:
            return self._from_carrier(fields, destination, now)
        if (gateway := parse_gateway_context(context)) is not None:  # a customer gateway's call
            return plan_gateway_call(self, fields, gateway, destination, now)
        if not _DOMAIN.match(context):
            return None
        tenant = self.snapshot(self.store.fetch_one(_TENANT_BY_DOMAIN, (context,)))
        if tenant is None:
            return None
        referred = _REFERRED_BY.search(fields.get("variable_sip_h_Referred-By") or "")
        referred_by = referred.group(1) if referred else None
        if blind_transfer_to(fields, destination):
            transferee = transferee_of(fields, tenant)
            if transferee is not None:
                refer_to = _URI_HOST.search(fields.get("variable_sip_refer_to") or "")
                return plan_blind_transfer(
                    tenant,
                    transferee,
                    destination,
                    now,
                    referred_by=referred_by,
                    refer_host=refer_to.group(1) if refer_to else None,
                    numbering=self.numbering,
                    steps=self.steps,
                )
        caller = fields.get("variable_user_name") or fields.get("variable_sip_auth_username") or ""
        domain = fields.get("variable_domain_name") or ""
        if domain != tenant.domain or not _CALLER.match(caller) or caller not in tenant.users:
            plan = Plan(
                context=context,
                caller=caller[:20],
                dialled=destination,
                at=now.isoformat(),
                tenant=tenant.domain,
                kind="refused",
            )
            log.warning(
                "call in context %s from %r@%r does not belong to it", context, caller[:20], domain[:60]
            )
            return plan.refuse(
                "context_mismatch",
                "CALL_REJECTED",
                f"caller {caller[:20]!r}@{domain[:60]!r} is not a user of {tenant.domain}",
            )
        return plan_from_phone(
            tenant,
            caller,
            destination,
            now,
            numbering=self.numbering,
            steps=self.steps,
            on_net=self.on_net,
            blind_transfer=blind_transfer_to(fields, destination),
            referred_by=referred_by,
        )

    def _continuation(
        self, context: str, destination: str, variable: re.Match, fields: Mapping[str, str], now: dt.datetime
    ) -> Plan | None:
        """A second hunt: the tenant is the context's, never a channel variable's (a caller could set
        one); the channel variable only carries what was visited, and its tenant id must agree."""
        owner = continuation_owner(context)
        if owner is None:
            return None
        domain, routed_as = owner
        tenant = self.snapshot(self.store.fetch_one(_TENANT_BY_DOMAIN, (domain,)))
        if tenant is None:
            return None
        if tenant.id != int(variable.group(1)):
            log.warning(
                "continuation %s in context %s carries tenant id %s, not the context's; refused",
                destination,
                context,
                variable.group(1),
            )
            return None
        visited = frozenset(v for v in variable.group(2).split(",") if v)
        caller = fields.get("Caller-Caller-ID-Number") or ""
        return plan_continuation(
            tenant,
            context,
            destination,
            visited,
            caller,
            now,
            numbering=self.numbering,
            steps=self.steps,
            routed_as=routed_as,
        )

    def _from_carrier(self, fields: Mapping[str, str], destination: str, now: dt.datetime) -> Plan:
        caller = re.sub(r"[^0-9+]", "", fields.get("Caller-Caller-ID-Number") or "")[:20]
        try:
            national = to_national(destination)
        except NumberError:
            national = None
        # Only the users this number reaches: a carrier call's first hunt rings nobody else.
        tenant = self.snapshots.reaching(self.store.fetch_all, national) if national else None
        return plan_from_carrier(
            tenant,
            destination,
            caller,
            now,
            numbering=self.numbering,
            steps=self.steps,
            national=national,
            shown=presentation(fields),
        )


def continuation_owner(context: str) -> tuple[str, str] | None:
    """(tenant domain, context the call was routed in) of a continuation's context, or None."""
    if context.startswith(CARRIER_CONTINUATION_PREFIX):
        domain = context[len(CARRIER_CONTINUATION_PREFIX) :]
        return (domain, PUBLIC_CONTEXT) if _DOMAIN.match(domain) else None
    if (gateway := parse_gateway_context(context)) is not None:
        return gateway[1], context
    return (context, context) if _DOMAIN.match(context) else None


def transferee_of(fields: Mapping[str, str], tenant: TenantSnap) -> str | None:
    """Who is being blind-transferred in `tenant`'s context: a phone's own leg (user_name), the leg
    that rang a phone (dialed_user/dialed_domain: sofia moves the REFERring phone's peer), or a
    carrier/gateway leg that our dialplan marked for this tenant (its caller's number); None when
    the leg belongs to none of these."""
    user = fields.get("variable_user_name") or ""
    if user and fields.get("variable_domain_name") == tenant.domain:
        return user if user in tenant.users else None
    dialed = fields.get("variable_dialed_user") or ""
    if dialed and fields.get("variable_dialed_domain") == tenant.domain:
        return dialed if dialed in tenant.users else None
    if fields.get(f"variable_{TRANSFER_TENANT_VAR}") == str(tenant.id):
        return re.sub(r"[^0-9+]", "", fields.get("Caller-Caller-ID-Number") or "")[:20]
    return None


def blind_transfer_to(fields: Mapping[str, str], destination: str) -> bool:
    """Whether this hunt is a blind transfer (SIP REFER) to `destination`: sofia records it as the
    last `transfer_history` entry `<epoch>:<uuid>:bl_xfer:<dest>/<context>/<dialplan>`."""
    history = (fields.get("variable_transfer_history") or "").removeprefix("ARRAY::")
    parts = history.split("|:")[-1].split(":", 3)
    return len(parts) == 4 and parts[2] == "bl_xfer" and parts[3].split("/", 1)[0] == destination
