"""Call queues (ACD) on mod_callcenter: a call to a queue's number waits there for an agent; agents
log in and out with feature codes.

Pure: the tenant snapshot and the plan being built are all it reads. mod_callcenter does the waiting:
the queue `<number>@<domain>` (served to it by kumo as callcenter.conf, fsctl.queues.switch) plays the
tenant's music, offers the call to its logged-in agents by the queue's strategy and lets the caller
go after max-wait-time; the `callcenter` application then returns and the dialplan goes on, which is
where the overflow destination is planned (callcenter_function in mod_callcenter.c sets cc_cause and
cc_cancel_reason and returns; a caller an agent answered is bridged away and never comes back here).
"""

from __future__ import annotations

from fsctl.routing.hold import hold_music
from fsctl.routing.plan import Plan
from fsctl.routing.snapshot import QueueSnap, TenantSnap

# The CUSTOM event the login/logout codes fire (fsctl.queues.events stores it).
AGENT_EVENT = "kumo::queue_agent"
# What the caller hears: "you are caller number" <n> "in the queue" (fsctl/media/phrases.yaml; the
# numbers are the generated digits/<n> files, 1 to 99).
POSITION_BEFORE = "kumo/queue_position_before.wav"
POSITION_AFTER = "kumo/queue_position_after.wav"
# Login: rising; logout: falling; not an agent of any queue: one low tone (TGML, mod_tone_stream).
LOGIN_TONE = "tone_stream://%(250,80,880);%(400,0,1320)"
LOGOUT_TONE = "tone_stream://%(250,80,1320);%(400,0,880)"
NOT_AGENT_TONE = "tone_stream://%(700,0,400)"
# mod_callcenter's agent statuses (cc_agent_status2str).
AVAILABLE, LOGGED_OUT = "Available", "Logged Out"


def queue_name(number: str, domain: str) -> str:
    """The switch-wide name of a tenant's queue: mod_callcenter has one namespace for every tenant."""
    return f"{number}@{domain}"


def agent_name(extension: str, domain: str) -> str:
    """The switch-wide name of a tenant's agent."""
    return f"{extension}@{domain}"


def describe_queue(queue: QueueSnap) -> str:
    """One line for trace and the simulator: strategy, wait, members."""
    agents = ", ".join(queue.agents) or "none"
    return (
        f"{queue.strategy.replace('_', ' ')}, agents {agents}, at most {queue.max_wait_seconds} s of waiting"
    )


def join_queue(plan: Plan, tenant: TenantSnap, queue: QueueSnap) -> None:
    """Answer, say the caller's position, wait in the queue; the overflow comes next (the caller's
    planner adds it: a destination of the tenant)."""
    label = f"queue {queue.number}" + (f" ({queue.name})" if queue.name else "")
    plan.decide(label, describe_queue(queue))
    plan.add("answer")
    name = queue_name(queue.number, tenant.domain)
    if queue.announce_position:
        # Callers already in the queue plus this one. `queue count members` (the only count the API
        # gives) counts every row of the queue's members table: waiting or being offered, but also
        # answered ones until their call ends and abandoned ones for discard-abandoned-after (set short
        # in callcenter.conf), so it can say a higher place than the caller has, never a lower one.
        plan.decide(f"{label}: position announced", "the callers ahead of this one, plus one")
        plan.add(
            "set", f"kumo_queue_position=${{expr(${{callcenter_config(queue count members {name})}}+1)}}"
        )
        plan.add("playback", POSITION_BEFORE)
        plan.add("playback", "digits/${kumo_queue_position}.wav")
        plan.add("playback", POSITION_AFTER)
    # The tenant's own music while waiting (the queue's moh-sound is the same; this keeps a queue the
    # switch loaded before a music change in step with the tenant's choice).
    plan.add("set", f"cc_moh_override={hold_music(tenant)}")
    # An answered caller's call ends with the agent's: nothing after the bridge is for them.
    plan.add("set", "hangup_after_bridge=true")
    plan.add("callcenter", name)
    plan.decide(
        f"{label}: nobody answered within {queue.max_wait_seconds} s",
        f"overflow to {queue.overflow.describe() if queue.overflow else 'hangup'}",
    )


def plan_agent_code(plan: Plan, tenant: TenantSnap, extension: str, login: bool) -> None:
    """`*51` (login) / `*52` (logout) dialled by `extension` of `tenant`: store the state (the
    CUSTOM event, fsctl.queues.events), tell the switch at once, confirm with a tone."""
    queues = sorted(n for n, q in tenant.queues.items() if extension in q.agents)
    if not queues:
        plan.decide(
            f"queue agent {'login' if login else 'logout'} from {extension}", "not an agent of any queue"
        )
        plan.add("answer")
        plan.add("playback", NOT_AGENT_TONE)
        plan.add("hangup", "NORMAL_CLEARING")
        return
    plan.decide(
        f"{extension} {'logs in to' if login else 'logs out of'} queue(s) {', '.join(queues)}",
        "calls of those queues are offered to this phone" if login else "no more queue calls to this phone",
    )
    plan.add("answer")
    # The event's tenant and extension are the authenticated caller's (this plan is rendered for the
    # caller's own context), never anything the caller could set.
    plan.add(
        "event",
        f"Event-Name=CUSTOM,Event-Subclass={AGENT_EVENT},kumo_domain={tenant.domain},"
        f"kumo_extension={extension},kumo_agent={'login' if login else 'logout'}",
    )
    # The switch changes at once (API expansion in `set`); the stored state follows from the event and
    # is what kumo gives the switch back after a restart or a reconnection.
    # An agent in do not disturb stays out of the queues' calls until it ends (fsctl.queues.switch).
    user = tenant.users.get(extension)
    available = login and not (user is not None and user.do_not_disturb)
    status = AVAILABLE if available else f"'{LOGGED_OUT}'"
    plan.add(
        "set",
        f"kumo_queue_agent=${{callcenter_config(agent set status {agent_name(extension, tenant.domain)} {status})}}",
    )
    plan.add("playback", LOGIN_TONE if login else LOGOUT_TONE)
    plan.add("hangup", "NORMAL_CLEARING")
