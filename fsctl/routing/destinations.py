"""Where an answered-for call goes inside a tenant: users, ring groups, schedules, IVR, voicemail.

Pure: the tenant snapshot, `now` and the plan being built are all it reads.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from fsctl.numbering import NumberingPlan
from fsctl.routing import schedules as sched
from fsctl.routing.audio import audio_path
from fsctl.routing.hold import set_hold_music
from fsctl.routing.plan import (
    CONTINUATION_VAR,
    DEFAULT_AFTER_HOURS,
    Plan,
    continuation_context,
    last_dial_realm,
    park_lot,
    pickup_group,
)
from fsctl.routing.recording import leg_prefix, record_here
from fsctl.routing.snapshot import Dest, TenantSnap, UserSnap

MAX_DEPTH = 8
DEFAULT_IVR_GREETING = "kumo/ivr_greeting.wav"
IVR_INVALID = (
    "kumo/invalid_entry.wav"  # played by play_and_get_digits after a wrong digit, then it asks again
)
IVR_NO_ENTRY = "kumo/no_entry.wav"
# originate_disposition values (switch_cause names) -> which forwarding applies.
FAIL_REASONS = {
    "USER_BUSY": "busy",
    "USER_NOT_REGISTERED": "unregistered",
    "SUBSCRIBER_ABSENT": "unregistered",
}
_DEFAULT_CAUSE = {"busy": "USER_BUSY", "no_answer": "NO_ANSWER", "unregistered": "USER_NOT_REGISTERED"}
AFTER_RE = re.compile(r"^kumo-after-([1-9][0-9]{1,5})-([A-Z_]{0,40})$")
IVR_RE = re.compile(r"^kumo-ivr-([A-Za-z0-9][A-Za-z0-9_.-]{0,63})-([0-9*#]?)$")
# A parked call that waited too long, sent back by the ESL service (fsctl.esl.park): parker, slot.
PARK_RETURN_RE = re.compile(r"^kumo-parkreturn-([1-9][0-9]{1,5})-([0-9]{1,6})$")
PARK_RETURN_SECONDS = 30


@dataclass
class Router:
    """Expands destinations of one tenant into plan actions."""

    tenant: TenantSnap
    now: dt.datetime
    plan: Plan
    context: str
    numbering: NumberingPlan
    # Called for a forward to an external number: (router, number, visited) -> None; set by outbound.
    external: Callable[[Router, str, frozenset[str]], None] | None = None

    @property
    def domain(self) -> str:
        return self.tenant.domain

    @property
    def own_caller(self) -> bool:
        """The call comes from one of this tenant's phones (not the carrier, a gateway, another tenant)."""
        return self.context == self.tenant.domain

    def fragment(self) -> Plan:
        """An empty plan to plan a branch into (merged or compared afterwards)."""
        return Plan(self.plan.context, self.plan.caller, self.plan.dialled, self.plan.at, self.plan.tenant)

    def child(self, plan: Plan) -> Router:
        return Router(self.tenant, self.now, plan, self.context, self.numbering, self.external)

    # -- destinations -------------------------------------------------------------------------
    def destination(self, dest: Dest | None, visited: frozenset[str], via: str) -> None:
        """Route to `dest` (reached through `via`), cutting loops and runaway chains."""
        p = self.plan
        if dest is None:
            p.decide(f"{via}: no destination set", "hang up")
            p.add("hangup", "NORMAL_CLEARING")
            return
        if len(visited) > MAX_DEPTH:
            p.decide(f"{via}: chain cut", f"more than {MAX_DEPTH} steps; hanging up")
            p.add("hangup", "NORMAL_CLEARING")
            return
        kind, target = dest.kind, dest.target or ""
        if kind == "user":
            self.ring_user(target, visited, via)
        elif kind == "voicemail":
            self.voicemail(target, via)
        elif kind == "ring_group":
            self.ring_group(target, visited, via)
        elif kind == "schedule":
            self.schedule(target, visited, via)
        elif kind == "ivr":
            self.ivr(target, visited, via)
        elif kind == "announcement":
            self.announcement(target, via)
        elif kind == "external":
            if self.external is None:
                p.decide(f"{via}: external {target}", "external destinations are not available here; hang up")
                p.add("hangup", "OUTGOING_CALL_BARRED")
            else:
                self.external(self, target, visited)
        else:
            p.decide(f"{via}: hang up", "the destination is hang up")
            p.add("hangup", "NORMAL_CLEARING")

    def announcement(self, name: str, via: str, then_menu: str | None = None) -> bool:
        """Play one of the tenant's uploads; then back to `then_menu` (an IVR option), else hang up.

        False when the name is unusable (the call was hung up)."""
        p = self.plan
        path = audio_path(self.domain, name)
        if path is None:  # validated at save time; a row written around the validation plays nothing
            p.decide(f"{via}: announcement {name!r}", "not a safe audio name; hang up")
            p.add("hangup", "NORMAL_CLEARING")
            return False
        p.decide(
            f"{via}: announcement {name!r}",
            f"play it, then {f'back to IVR {then_menu!r}' if then_menu else 'hang up'}",
        )
        p.add("answer")
        p.add("playback", path)
        if then_menu is None:
            p.add("hangup", "NORMAL_CLEARING")
        return True

    def voicemail(self, extension: str, via: str) -> None:
        user = self.tenant.users.get(extension)
        if user is None or not user.voicemail_enabled:
            self.plan.decide(f"{via}: voicemail {extension}", "no voicemail box there; hang up")
            self.plan.add("hangup", "NO_ANSWER")
            return
        self.plan.decide(f"{via}: voicemail of {extension}", "leave a message")
        self.plan.add("answer")
        self.plan.add("voicemail", f"default {self.domain} {extension}")

    def ring_user(self, extension: str, visited: frozenset[str], via: str) -> None:
        p = self.plan
        user = self.tenant.users.get(extension)
        if user is None:
            p.decide(f"{via}: user {extension}", "no such user (deleted?); hang up")
            p.add("hangup", "UNALLOCATED_NUMBER")
            return
        if user.direction == "outbound_only":
            p.refuse("outbound_only_user", "INCOMING_CALL_BARRED", f"{extension} is an outbound-only line")
            return
        visited = visited | {f"user:{extension}"}
        if user.schedule and user.schedule in self.tenant.schedules:
            personal = self.tenant.schedules[user.schedule]
            state = sched.evaluate(personal, self.tenant.timezone, self.now)
            p.decide(f"personal schedule {personal.name!r} of {extension}", state.reason)
            if not state.open:
                self.closed_branch(personal, visited, f"{extension} after hours", default=user)
                return
        if user.forward_always is not None:
            if self._loops(user.forward_always, visited):
                p.decide(
                    f"forward always of {extension} ignored",
                    f"{user.forward_always.describe()} leads back into this call (loop cut); ringing {extension}",
                )
            else:
                p.decide(f"{extension} forwards every call", f"to {user.forward_always.describe()}")
                self.destination(user.forward_always, visited, f"{extension} forward always")
                return
        if user.do_not_disturb:
            self.do_not_disturb(user, visited)
            return
        seconds = user.forward_no_answer_seconds if user.forward_no_answer else user.ring_seconds
        p.decide(f"ring {extension} ({user.name})", f"for {seconds} s")
        p.add("set", f"call_timeout={seconds}")
        p.add("set", "continue_on_fail=true")
        p.add("set", "hangup_after_bridge=true")
        if user.recording_enabled:
            record_here(
                p,
                self.domain,
                extension,
                "inbound" if self.context == "public" else "internal",
                self.now,
                self.tenant.timezone,
            )
        branches = {
            reason: self.fail_branch(user, reason, visited)
            for reason in ("busy", "no_answer", "unregistered")
        }
        first = branches["no_answer"]
        same = all(b.actions == first.actions for b in branches.values())
        # Directed pickup (**<ext>) intercepts the uuid kept here; group pickup (*8) takes the
        # pickup/<group> leg ringing beside the phone. That leg would ring on when the phone is
        # unregistered or busy and hide why the bridge failed, so only when every failure is the same.
        set_hold_music(p, self.tenant, own_leg=self.own_caller)
        p.add("hash", f"insert/{last_dial_realm(self.domain)}/{extension}/${{uuid}}")
        dial = f"user/{extension}@{self.domain}"
        p.add("bridge", f"{dial},pickup/{pickup_group(self.domain)}" if same else dial)
        if same:
            p.decide(
                f"if {extension} is busy, does not answer or is not registered", "same handling for each"
            )
            self.merge(first)
            return
        for reason, branch in branches.items():
            summary = "; ".join(d.what for d in branch.decisions) or "hang up"
            p.decide(f"if {extension} {reason.replace('_', ' ')}", summary)
        # The cause is only known after the bridge, so FreeSWITCH hunts once more with it.
        p.add("set", f"{CONTINUATION_VAR}={self.tenant.id}/{','.join(sorted(visited))}")
        p.add(
            "transfer",
            f"kumo-after-{extension}-${{originate_disposition}} XML {continuation_context(self.context, self.domain)}",
        )

    def do_not_disturb(self, user: UserSnap, visited: frozenset[str]) -> None:
        """A user in do not disturb is not rung: the busy forward, else the no-answer forward, else
        the voicemail box, else the caller hears busy (docs/decisions.md, *Do not disturb*)."""
        p, extension = self.plan, user.extension
        for reason in ("busy", "no_answer"):
            dest = getattr(user, f"forward_{reason}")
            if dest is None:
                continue
            if self._loops(dest, visited):
                p.decide(
                    f"forward {reason.replace('_', ' ')} of {extension} ignored",
                    "it leads back into this call (loop cut)",
                )
                continue
            p.decide(
                f"{extension} is in do not disturb",
                f"follows the {reason.replace('_', ' ')} forward to {dest.describe()}",
            )
            self.destination(dest, visited, f"{extension} do not disturb")
            return
        if user.voicemail_enabled:
            p.decide(f"{extension} is in do not disturb", "no forward set: to voicemail")
            self.voicemail(extension, f"{extension} do not disturb")
            return
        p.decide(f"{extension} is in do not disturb", "no forward, no voicemail: the caller hears busy")
        p.add("hangup", "USER_BUSY")

    def fail_branch(self, user: UserSnap, reason: str, visited: frozenset[str]) -> Plan:
        """What happens when ringing `user` failed for `reason` (busy, no_answer, unregistered)."""
        branch = self.fragment()
        router = self.child(branch)
        dest = getattr(user, f"forward_{reason}")
        if dest is not None and not self._loops(dest, visited):
            branch.decide(f"forward {reason.replace('_', ' ')} of {user.extension}", f"to {dest.describe()}")
            router.destination(dest, visited, f"{user.extension} forward {reason}")
            return branch
        if dest is not None:
            branch.decide(
                f"forward {reason} of {user.extension} ignored", "it leads back into this call (loop cut)"
            )
        if user.voicemail_enabled:
            router.voicemail(user.extension, f"{user.extension} {reason.replace('_', ' ')}")
        else:
            branch.decide(
                f"{user.extension} {reason.replace('_', ' ')}: no voicemail",
                f"hang up with {_DEFAULT_CAUSE[reason]}",
            )
            branch.add("hangup", _DEFAULT_CAUSE[reason])
        return branch

    def merge(self, branch: Plan) -> None:
        self.plan.actions.extend(branch.actions)
        self.plan.decisions.extend(branch.decisions)
        if branch.refused_by and not self.plan.refused_by:
            self.plan.refused_by = branch.refused_by

    def _loops(self, dest: Dest, visited: frozenset[str]) -> bool:
        key = {"user": "user", "ring_group": "group", "schedule": "schedule", "ivr": "ivr"}.get(dest.kind)
        return key is not None and f"{key}:{dest.target}" in visited

    def ring_group(self, name: str, visited: frozenset[str], via: str) -> None:
        p = self.plan
        group = self.tenant.ring_groups.get(name)
        if group is None:
            p.decide(f"{via}: ring group {name}", "no such ring group (deleted?); hang up")
            p.add("hangup", "UNALLOCATED_NUMBER")
            return
        visited = visited | {f"group:{name}"}
        ringing: list[str] = []
        for extension in group.members:
            user = self.tenant.users.get(extension)
            if user is None or user.direction == "outbound_only":
                p.decide(f"skip {extension}", "not a user that can receive calls")
                continue
            if user.do_not_disturb:
                p.decide(f"skip {extension}", "in do not disturb")
                continue
            if user.schedule and user.schedule in self.tenant.schedules:
                state = sched.evaluate(self.tenant.schedules[user.schedule], self.tenant.timezone, self.now)
                if not state.open:
                    p.decide(f"skip {extension}", f"personal schedule {user.schedule!r} {state.reason}")
                    continue
            ringing.append(extension)
        if ringing:
            direction = "inbound" if self.context == "public" else "internal"
            # A member with call recording records their own leg, only if they answer (fsctl.media).
            legs = [
                (
                    leg_prefix(self.domain, ext, direction, self.now, self.tenant.timezone)
                    if self.tenant.users[ext].recording_enabled
                    else ""
                )
                + f"user/{ext}@{self.domain}"
                for ext in ringing
            ]
            if group.strategy == "sequential":
                timeout = group.ring_seconds * len(legs)
                dial = "|".join(f"[leg_timeout={group.ring_seconds}]{leg}" for leg in legs)
                p.decide(f"ring group {name!r} in turn", f"{', '.join(ringing)}, {group.ring_seconds} s each")
            else:
                timeout = group.ring_seconds
                # every member's call can be picked up by the tenant's group (*8) or directed (**<ext>)
                dial = ",".join([*legs, f"pickup/{pickup_group(self.domain)}"])
                for ext in ringing:
                    p.add("hash", f"insert/{last_dial_realm(self.domain)}/{ext}/${{uuid}}")
                p.decide(
                    f"ring group {name!r} all at once", f"{', '.join(ringing)} for {group.ring_seconds} s"
                )
            set_hold_music(p, self.tenant, own_leg=self.own_caller)
            p.add("set", f"call_timeout={timeout}")
            p.add("set", "continue_on_fail=true")
            p.add("set", "hangup_after_bridge=true")
            p.add("bridge", dial)
        else:
            p.decide(f"ring group {name!r}", "nobody can ring now")
        if group.no_answer is not None and self._loops(group.no_answer, visited):
            p.decide(
                f"no answer in {name!r}", "its destination leads back into this call (loop cut); hang up"
            )
            p.add("hangup", "NO_ANSWER")
        elif group.no_answer is not None:
            self.destination(group.no_answer, visited, f"no answer in {name!r}")
        else:
            p.decide(f"no answer in {name!r}", "no destination set; hang up")
            p.add("hangup", "NO_ANSWER")

    def schedule(self, name: str, visited: frozenset[str], via: str) -> None:
        p = self.plan
        schedule = self.tenant.schedules.get(name)
        if schedule is None:
            p.decide(f"{via}: schedule {name}", "no such schedule (deleted?); hang up")
            p.add("hangup", "UNALLOCATED_NUMBER")
            return
        visited = visited | {f"schedule:{name}"}
        override = schedule.override
        if override is not None and not override.applies(sched.local_time(self.now, self.tenant.timezone)):
            ended = sched.override_until_text(override.until, self.tenant.timezone)
            p.decide(f"override of {name!r}", f"ended {ended}; the regular hours apply")
        state = sched.evaluate(schedule, self.tenant.timezone, self.now)
        p.decide(f"schedule {name!r}", state.reason)
        if state.open:
            self.destination(schedule.open_destination, visited, f"{name!r} open")
        else:
            self.closed_branch(schedule, visited, f"{name!r} closed")

    def closed_branch(
        self, schedule, visited: frozenset[str], via: str, default: UserSnap | None = None
    ) -> None:
        """After-hours: the announcement, then the closed destination."""
        p = self.plan
        announcement = audio_path(self.domain, schedule.closed_announcement)
        if schedule.closed_announcement and announcement is None:
            p.decide(
                "after-hours announcement", "the tenant's file name is not a safe path; default prompt used"
            )
        p.decide("after-hours announcement", announcement or f"default prompt {DEFAULT_AFTER_HOURS}")
        p.add("answer")
        p.add("playback", announcement or DEFAULT_AFTER_HOURS)
        dest = schedule.closed_destination
        if dest is None and default is not None:
            dest = Dest("voicemail", default.extension) if default.voicemail_enabled else Dest("hangup")
        if dest is not None and self._loops(dest, visited):
            p.decide(f"{via}", "closed destination leads back into this call (loop cut); hang up")
            p.add("hangup", "NORMAL_CLEARING")
            return
        self.destination(dest, visited, via)

    def ivr(self, name: str, visited: frozenset[str], via: str) -> None:
        p = self.plan
        menu = self.tenant.ivr_menus.get(name)
        if menu is None:
            p.decide(f"{via}: IVR {name}", "no such menu (deleted?); hang up")
            p.add("hangup", "UNALLOCATED_NUMBER")
            return
        digits = "".join(d for d, _ in menu.options) or "0"
        greeting = audio_path(self.domain, menu.greeting) or DEFAULT_IVR_GREETING
        p.decide(
            f"IVR menu {name!r}",
            f"options {', '.join(d for d, _ in menu.options) or 'none'}; {menu.timeout_seconds} s to choose",
        )
        p.add("answer")
        # play_and_get_digits <min> <max> <tries> <timeout ms> <terminators> <file> <invalid file> <var> <regex>
        p.add(
            "play_and_get_digits",
            f"1 1 {menu.max_attempts} {menu.timeout_seconds * 1000} # {greeting} {IVR_INVALID}"
            f" kumo_ivr_digit ^[{re.escape(digits)}]$",
        )
        p.add("set", f"{CONTINUATION_VAR}={self.tenant.id}/{','.join(sorted(visited | {f'ivr:{name}'}))}")
        p.add(
            "transfer",
            f"kumo-ivr-{name}-${{kumo_ivr_digit}} XML {continuation_context(self.context, self.domain)}",
        )

    # -- continuations (second hunt after a bridge or a menu) ---------------------------------------
    def continuation(self, destination: str, visited: frozenset[str]) -> bool:
        """Plan `kumo-after-<ext>-<cause>` or `kumo-ivr-<menu>-<digit>`; False when it is neither."""
        p = self.plan
        if match := AFTER_RE.match(destination):
            extension, cause = match.groups()
            user = self.tenant.users.get(extension)
            if user is None:
                return False
            reason = FAIL_REASONS.get(cause, "no_answer")
            p.decide(
                f"ringing {extension} ended with {cause or 'no cause'}",
                f"handled as {reason.replace('_', ' ')}",
            )
            self.merge(self.fail_branch(user, reason, visited | {f"user:{extension}"}))
            return True
        if match := PARK_RETURN_RE.match(destination):
            return self.park_return(*match.groups())
        if match := IVR_RE.match(destination):
            name, digit = match.groups()
            menu = self.tenant.ivr_menus.get(name)
            if menu is None:
                return False
            options = dict(menu.options)
            visited = visited | {f"ivr:{name}"}
            if digit in options and options[digit].kind == "announcement":
                # "Press 3 for our opening hours": the caller hears it, then the menu again.
                p.decide(f"IVR {name!r}: caller pressed {digit}", options[digit].describe())
                if self.announcement(options[digit].target or "", f"{name!r} option {digit}", then_menu=name):
                    self.ivr(name, visited - {f"ivr:{name}"}, f"back to {name!r}")
            elif digit in options:
                p.decide(f"IVR {name!r}: caller pressed {digit}", options[digit].describe())
                self.destination(options[digit], visited, f"{name!r} option {digit}")
            elif menu.timeout_destination is None:
                p.decide(
                    f"IVR {name!r}: no valid choice after {menu.max_attempts} tries",
                    "no fallback set; hang up",
                )
                p.add("playback", IVR_NO_ENTRY)
                p.add("hangup", "NORMAL_CLEARING")
            else:
                p.decide(f"IVR {name!r}: no valid choice after {menu.max_attempts} tries", "final fallback")
                self.destination(menu.timeout_destination, visited, f"{name!r} timeout")
            return True
        return False

    def park_return(self, extension: str, slot: str) -> bool:
        """Ring the phone that parked the call; unanswered, the call is parked again in the range."""
        p = self.plan
        ranges = [r for r in self.tenant.park_ranges if r[0] <= int(slot) <= r[1]]
        if extension not in self.tenant.users or not ranges:
            return False
        first, last = ranges[0]
        p.decide(
            f"parked in {slot} too long", f"ring {extension}, who parked it, for {PARK_RETURN_SECONDS} s"
        )
        p.add("set", f"call_timeout={PARK_RETURN_SECONDS}")
        p.add("set", "continue_on_fail=true")
        p.add("set", "hangup_after_bridge=true")
        set_hold_music(p, self.tenant, own_leg=self.own_caller)
        p.add("bridge", f"user/{extension}@{self.domain}")
        p.decide(f"{extension} did not answer", f"park again in {first}-{last}")
        p.add("set", f"kumo_parked_by={extension}")
        # mod_valet_parking's upper bound is exclusive (next_id: i < max).
        p.add("valet_park", f"{park_lot(self.domain)} auto in {first} {last + 1}")
        p.add("hangup", "NORMAL_TEMPORARY_FAILURE")
        return True
