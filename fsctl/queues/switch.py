"""mod_callcenter's view of kumo's queues: the callcenter.conf kumo serves over xml_curl, and the job
that keeps the switch's queues, agents and tiers equal to the database.

Facts from src/mod/applications/mod_callcenter/mod_callcenter.c (v1.11.1):
- load_config (module load) reads callcenter.conf without parameters: every queue, agent and tier
  listed is loaded; `truncate-agents-on-load` / `truncate-tiers-on-load` first empty the module's own
  tables (kept in its SQLite file in the switch's db directory), so a restarted switch starts from
  what kumo serves and nothing stale survives.
- a queue a call names is loaded on first use (get_queue -> load_queue) from callcenter.conf asked
  again with the header `CC-Queue: <name>`; `callcenter_config queue reload <name>` does the same and
  also loads the agents and tiers that answer lists (request_agents / request_tiers). An agent's
  `status` attribute is applied on every such load, so kumo's stored login state is what the switch
  gets back.
- tiers an answer no longer lists are not removed by a reload: `tier del` removes them, `agent del`
  an agent, `queue unload` a queue.
- statuses: `Available` is offered calls, `Logged Out` is not (cc_agent_status2str).

When the event socket is down nothing is sent; every (re)connection re-sends everything (on_connect),
so a switch that restarted meanwhile, or missed changes, catches up. A change is seen through the
tenants' config_version (every committed change bumps it, fsctl.db), like the gateway ACL job.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from gevent.lock import BoundedSemaphore
from lxml import etree

from fsctl.models.queues import QUEUE_STRATEGIES
from fsctl.periodic import PeriodicJob
from fsctl.routing.hold import DEFAULT_HOLD_MUSIC
from fsctl.routing.queues import AVAILABLE, LOGGED_OUT, agent_name, queue_name
from fsctl.xml.document import add_pairs, new_document, to_bytes
from fsctl.xmlcurl.store import LookupStore

log = logging.getLogger(__name__)

CONFIG_NAME = "callcenter.conf"
VERSIONS_SQL = "SELECT id, config_version FROM tenants ORDER BY id"
_QUEUES = (
    "SELECT t.id, t.domain, q.number, q.strategy, q.max_wait_seconds, q.agent_ring_seconds"
    " FROM call_queues q JOIN tenants t ON t.id = q.tenant_id"
)
# Agents are the queues' members that are still users of the tenant.
_TIERS = (
    "SELECT t.id, t.domain, q.number, a.extension, a.position, q.agent_ring_seconds, u.do_not_disturb"
    " FROM call_queue_agents a JOIN call_queues q ON q.id = a.queue_id JOIN tenants t ON t.id = q.tenant_id"
    " JOIN users u ON u.tenant_id = a.tenant_id AND u.extension = a.extension"
)
_LOGGED_IN = "SELECT tenant_id, extension FROM queue_agent_states WHERE logged_in = ?"
# After a caller left, mod_callcenter keeps its row (state Abandoned) this many seconds; the position
# announced to the next caller counts those rows (fsctl.routing.queues), so they go soon.
DISCARD_ABANDONED_AFTER = 5
# After an agent let a call ring out, was busy or refused it, the next call is offered to them only
# after this many seconds (the queue's other agents are tried meanwhile); after a call, this much rest.
AGENT_DELAYS = {
    "no-answer-delay-time": "5",
    "busy-delay-time": "5",
    "reject-delay-time": "5",
    "wrap-up-time": "3",
}


@dataclass(frozen=True)
class Agent:
    """One agent as the switch knows it: how to ring them and whether they take calls."""

    tenant_id: int
    contact: str
    status: str


@dataclass
class QueuesState:
    """Everything kumo wants mod_callcenter to hold (or the part of it one queue needs)."""

    queues: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # name -> params
    queue_tenants: dict[str, int] = field(default_factory=dict)
    agents: dict[str, Agent] = field(default_factory=dict)
    tiers: dict[tuple[str, str], int] = field(default_factory=dict)  # (queue, agent) -> position


def queue_params(strategy: str, max_wait: int) -> list[tuple[str, str]]:
    """A queue's params (names from queue_set_config in mod_callcenter.c)."""
    return [
        ("strategy", QUEUE_STRATEGIES[strategy]),
        # The dialplan sets cc_moh_override to the tenant's own music; this is what plays without it.
        ("moh-sound", DEFAULT_HOLD_MUSIC),
        ("time-base-score", "system"),
        ("max-wait-time", str(max_wait)),
        # 0: no early exit while no agent is logged in: one may log in during the wait.
        ("max-wait-time-with-no-agent", "0"),
        ("tier-rules-apply", "false"),
        ("discard-abandoned-after", str(DISCARD_ABANDONED_AFTER)),
        ("abandoned-resume-allowed", "false"),
        # An agent already on another call is not offered one.
        ("skip-agents-with-external-calls", "true"),
    ]


def read_state(store: LookupStore, only_queue: str | None = None) -> QueuesState:
    """What the database says, for every tenant (or only for the queue named `number@domain`)."""
    state = QueuesState()
    logged_in = {(t, e) for t, e in store.fetch_all(_LOGGED_IN, (True,))}
    for tenant_id, domain, number, strategy, max_wait, _ring in store.fetch_all(_QUEUES):
        name = queue_name(number, domain)
        if only_queue is None or name == only_queue:
            state.queues[name] = queue_params(strategy, max_wait)
            state.queue_tenants[name] = tenant_id
    ring: dict[str, int] = {}
    for tenant_id, domain, number, extension, position, ring_seconds, dnd in store.fetch_all(_TIERS):
        queue = queue_name(number, domain)
        if queue not in state.queues:
            continue
        agent = agent_name(extension, domain)
        state.tiers[(queue, agent)] = position
        # An agent of several queues rings for the longest of their ring times.
        ring[agent] = max(ring.get(agent, 0), ring_seconds)
        # Do not disturb keeps queue calls away too: the agent said they will not answer.
        available = (tenant_id, extension) in logged_in and not dnd
        # leg_timeout: how long this agent's phone rings before the queue tries another (the
        # originate's own timeout, agent-originate-timeout, is longer). `user/` rings the
        # registered phones through kumo's directory, as a ring group does.
        contact = f"[leg_timeout={ring[agent]}]user/{extension}@{domain}"
        state.agents[agent] = Agent(tenant_id, contact, AVAILABLE if available else LOGGED_OUT)
    return state


def render_callcenter_conf(state: QueuesState) -> bytes:
    """The callcenter.conf document for `state`."""
    document, section = new_document("configuration")
    configuration = etree.SubElement(
        section, "configuration", name=CONFIG_NAME, description="kumo call queues"
    )
    add_pairs(
        configuration,
        "settings",
        "param",
        [("truncate-agents-on-load", "true"), ("truncate-tiers-on-load", "true")],
    )
    queues = etree.SubElement(configuration, "queues")
    for name, params in sorted(state.queues.items()):
        queue = etree.SubElement(queues, "queue", name=name)
        for key, value in params:
            etree.SubElement(queue, "param", name=key, value=value)
    agents = etree.SubElement(configuration, "agents")
    for name, agent in sorted(state.agents.items()):
        etree.SubElement(
            agents,
            "agent",
            name=name,
            type="callback",
            contact=agent.contact,
            status=agent.status,
            # 0: an agent who lets calls ring out stays logged in (never put On Break by the module).
            **{"max-no-answer": "0"},
            **AGENT_DELAYS,
        )
    tiers = etree.SubElement(configuration, "tiers")
    for (queue, agent), position in sorted(state.tiers.items()):
        etree.SubElement(tiers, "tier", queue=queue, agent=agent, level="1", position=str(position))
    return to_bytes(document)


class CallcenterConfig:
    """section=configuration, key_value=callcenter.conf: the whole file, or one queue's part when the
    switch names it (header CC-Queue)."""

    def __init__(self, store: LookupStore):
        self.store = store

    def answer(self, fields: Mapping[str, str]) -> tuple[bytes | None, str] | None:
        """The answer, or None when the lookup is not for callcenter.conf."""
        if fields.get("key_name") != "name" or fields.get("key_value") != CONFIG_NAME:
            return None
        only = fields.get("CC-Queue") or None
        state = read_state(self.store, only)
        if only is not None and not state.queues:
            return None, f"callcenter.conf: no queue {only[:80]!r}"
        return render_callcenter_conf(state), CONFIG_NAME


def _listed(reply_text: str, columns: int) -> list[list[str]]:
    """Rows of a `callcenter_config ... list` answer (a header line, `|`-separated rows, `+OK`)."""
    rows = []
    for line in reply_text.splitlines()[1:]:
        if line.startswith("+OK") or not line.strip():
            continue
        cells = line.split("|")
        if len(cells) >= columns:
            rows.append(cells)
    return rows


class QueueSync:
    """Keeps mod_callcenter's queues, agents and tiers equal to the database (see the module text)."""

    def __init__(self, store: LookupStore, send_api: Callable[[str], object], interval: float = 0.5):
        self.store = store
        self.send_api = send_api
        self._versions: dict[int, int] | None = None
        self._applied: QueuesState | None = None  # None: unknown (first check, or after a reconnection)
        self._lock = BoundedSemaphore()
        self._job = PeriodicJob("call queue sync", interval, self.check_once, quiet=True)

    def _api(self, command: str) -> str:
        reply = self.send_api(command)
        if getattr(reply, "ok", True) is False:
            log.warning("%s: %s", command, getattr(reply, "data", "").strip()[:160])
        return getattr(reply, "data", "") or ""

    def check_once(self) -> bool:
        """Bring the switch up to date if some tenant's configuration changed; whether it sent anything."""
        versions = {tenant_id: version for tenant_id, version in self.store.fetch_all(VERSIONS_SQL)}
        if versions == self._versions:
            return False
        changed = {t for t, v in versions.items() if (self._versions or {}).get(t) != v}
        with self._lock:
            # If the switch is unreachable this raises and the versions stay old: tried again next check.
            sent = self._sync(changed)
            self._versions = versions
        return sent

    def on_connect(self, _connection: object = None) -> None:
        """After every (re)connection: everything again, as the switch may have restarted meanwhile."""
        with self._lock:
            self._applied = None
            self._sync(set())

    def _sync(self, changed_tenants: set[int]) -> bool:
        wanted = read_state(self.store)
        before = self._applied
        commands: list[str] = []
        # Queues the switch holds: `reload` of one it does not hold logs an error (destroy_queue finds
        # nothing) before loading it, so those get `load`. Unknown after a change: reload all.
        held: set[str] | None = None
        if before is None:
            commands += self._remove_strays(wanted)
            held = {row[0] for row in _listed(self._api("api callcenter_config queue list"), 2)}
            reload = set(wanted.queues)
            statuses = dict(wanted.agents)
        else:
            for name in before.queues.keys() - wanted.queues.keys():
                commands.append(f"api callcenter_config queue unload {name}")
            for queue, agent in before.tiers.keys() - wanted.tiers.keys():
                commands.append(f"api callcenter_config tier del {queue} {agent}")
            for agent in before.agents.keys() - wanted.agents.keys():
                commands.append(f"api callcenter_config agent del {agent}")
            reload = {
                name
                for name in wanted.queues
                if before.queues.get(name) != wanted.queues[name]
                or {k: v for k, v in before.tiers.items() if k[0] == name}
                != {k: v for k, v in wanted.tiers.items() if k[0] == name}
                or any(
                    before.agents.get(a) is None or before.agents[a].contact != wanted.agents[a].contact
                    for q, a in wanted.tiers
                    if q == name
                )
            }
            # Statuses of the changed tenants' agents are sent again even when kumo sent the same
            # before: a login code sets the switch directly (fsctl.routing.queues), and do not
            # disturb may have to undo that.
            statuses = {
                name: agent
                for name, agent in wanted.agents.items()
                if agent.tenant_id in changed_tenants or before.agents.get(name) != agent
            }
        for name in sorted(reload):
            # In the background: the reload makes the switch ask kumo's lookup workers for the queue.
            verb = "load" if held is not None and name not in held else "reload"
            commands.append(f"bgapi callcenter_config queue {verb} {name}")
        for name, agent in sorted(statuses.items()):
            if not any(q in reload for q, a in wanted.tiers if a == name):
                commands.append(f"api callcenter_config agent set status {name} '{agent.status}'")
        for command in commands:
            self._api(command)
        if commands:
            log.info("call queues: %d command(s) sent to the switch", len(commands))
        self._applied = wanted
        return bool(commands)

    def _remove_strays(self, wanted: QueuesState) -> list[str]:
        """Commands removing the tiers and agents of kumo's kind (`x@domain`) the database no longer
        has: a switch that kept them while kumo was away."""
        commands = []
        for row in _listed(self._api("api callcenter_config tier list"), 2):
            queue, agent = row[0], row[1]
            if "@" in queue and (queue, agent) not in wanted.tiers:
                commands.append(f"api callcenter_config tier del {queue} {agent}")
        for row in _listed(self._api("api callcenter_config agent list"), 1):
            if "@" in row[0] and row[0] not in wanted.agents:
                commands.append(f"api callcenter_config agent del {row[0]}")
        return commands

    def start(self) -> None:
        self._job.start()

    def stop(self) -> None:
        self._job.stop()
