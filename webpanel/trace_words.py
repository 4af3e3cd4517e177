"""The simulator's steps in the customer's words and language.

fsctl's routing explains each decision in terse English for `fsctl trace` ("own number 0312345000:
schedule 'main'", "closed: outside the open hours (Mon 2026-12-07 20:00 JST)"). The panel shows the
same plan, so its steps pass through this table: each known step becomes a sentence (English message
id, Japanese in translations/ja/LC_MESSAGES/messages.po). A step of the form "<how we got here>: <what>" is translated part by
part. A step the table does not know is shown as fsctl wrote it rather than hidden; the tests walk the
common call paths so that none of them is left in developer English.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from flask_babel import gettext

from fsctl.routing.plan import Plan


def kind_words(kind: str) -> str:
    """A number class (fsctl.numbering) in words: "an international number"."""
    return {
        "extension": gettext("an extension"),
        "internal": gettext("an extension"),
        "emergency": gettext("an emergency number"),
        "fixed": gettext("a fixed-line number"),
        "mobile": gettext("a mobile number"),
        "ip": gettext("an IP phone number (050)"),
        "toll_free": gettext("a toll-free number"),
        "international": gettext("an international number"),
        "service": gettext("a special service number"),
        "feature": gettext("a feature code"),
        "invalid": gettext("not a valid number"),
        "on_net": gettext("a number of another kumo customer"),
        "park_slot": gettext("a park slot"),
        "conference": gettext("a conference room"),
        "queue": gettext("a call queue"),
    }.get(kind, kind)


def _rule(rule: str) -> str:
    return {
        "trial_internal_only": gettext("the trial (only calls between your own extensions)"),
        "trial_expired": gettext("the end of the trial"),
        "suspended": gettext("the suspended account"),
        "international_disabled": gettext("international calls being off"),
        "blocked_prefix": gettext("the block on special service numbers"),
        "invalid_number": gettext("the number not being valid"),
        "inbound_only_user": gettext("the line being incoming only"),
        "outbound_only_user": gettext("the line being outgoing only"),
        "unknown_did": gettext("the number not being in service"),
        "no_caller_id": gettext("having no number to show"),
        "forward_target": gettext("the forward's destination"),
        "unknown_caller": gettext("the caller not being one of your users"),
        "channel_limit": gettext("the outside line limit"),
        "call_rate": gettext("the limit on new calls per second"),
        "anonymous_refused": gettext("the refusal of calls without a caller number"),
        "blocklist": gettext("the blocklist"),
    }.get(rule, rule)


def _no_number(kind: str) -> str:
    """Why a caller's number is not shown (fsctl.routing.screening), in the user's words."""
    return {
        "withheld": gettext("the caller withheld their number"),
        "payphone": gettext("the call comes from a payphone"),
        "unavailable": gettext("the caller's number is unavailable"),
    }.get(kind, kind)


def _reason(reason: str) -> str:
    return {
        "busy": gettext("busy"),
        "no answer": gettext("not answered"),
        "no_answer": gettext("not answered"),
        "unregistered": gettext("not connected"),
    }.get(reason, reason)


def _cause(cause: str) -> str:
    """A hang-up cause of a ringing leg (FreeSWITCH's names) in words."""
    return {
        "NO_ANSWER": gettext("not answered"),
        "USER_BUSY": gettext("busy"),
        "USER_NOT_REGISTERED": gettext("not connected"),
    }.get(cause, cause)


def _strategy(how: str) -> str:
    """A call queue's ring strategy (fsctl.routing.queues describe_queue) in words."""
    return {
        "longest idle": gettext("the agent idle the longest first"),
        "round robin": gettext("agents in turn"),
        "ring all": gettext("all agents at once"),
    }.get(how, how)


def _dest(text: str) -> str:
    """A destination as fsctl.routing.snapshot.DestSnap.describe() writes it ("user 101")."""
    kind, _, target = text.partition(" ")
    target = target.strip("'")
    words = {
        "user": gettext("extension %(t)s"),
        "voicemail": gettext("the voicemail of %(t)s"),
        "ring_group": gettext("ring group %(t)s"),
        "schedule": gettext("schedule %(t)s"),
        "ivr": gettext("IVR menu %(t)s"),
        "announcement": gettext("announcement %(t)s"),
        "external": gettext("outside number %(t)s"),
    }
    if kind == "hangup":
        return gettext("hang up")
    return words[kind] % {"t": target} if kind in words else text


_N = r"'?([^']+?)'?"  # a name, quoted or not

# (pattern, message id or function of the groups); fsctl's text is matched whole.
Table = list[tuple[re.Pattern[str], str | Callable[..., str]]]


def _t(msgid: str) -> Callable[..., str]:
    # `_t` is one of pybabel extract's keywords (BABEL_KEYWORDS in the Makefile): its ids reach the .po.
    return lambda *groups: gettext(msgid, **{f"g{i}": g for i, g in enumerate(groups, 1)})


def _what_table() -> Table:
    rows: list[tuple[str, str | Callable[..., str]]] = [
        # Caller screening (fsctl.routing.screening)
        (
            r"the caller's number is not shown \((\w+)\)",
            lambda k: gettext("No caller number: %(why)s", why=_no_number(k)),
        ),
        (r"(\S+) is (\d+)", _t("Incoming call to %(g2)s")),
        (r"(\S+) is (\w+)", lambda a, k: gettext("%(g1)s is %(kind)s", g1=a, kind=kind_words(k))),
        (r"(\S+) is an emergency number", _t("%(g1)s is an emergency number")),
        (r"(\S+) is the tenant's own number", _t("%(g1)s is one of your own numbers")),
        (r"(\S+) belongs to (\S+)", _t("%(g1)s belongs to another kumo customer")),
        (r"refused by (\w+)", lambda r: gettext("Refused because of %(rule)s", rule=_rule(r))),
        (r"bypass (\w+)", lambda r: gettext("Allowed despite %(rule)s", rule=_rule(r))),
        ("channel limit", _t("Outside line limit")),
        ("call rate", _t("Limit on new outside calls")),
        ("calls per user", _t("Outside calls per user")),
        (r"caller ID (\S+)", _t("The other side sees %(g1)s")),
        (r"shows (\S+)", _t("The other side sees %(g1)s")),
        (r"phones show (\S+)", _t("Your phones show the caller as %(g1)s")),
        (r"out through the carrier to (\S+)", _t("Out through the carrier to %(g1)s")),
        ("184", _t("184: number withheld")),
        ("186", _t("186: number shown")),
        (r"override of schedule " + _N + r" from (\S+)", _t("%(g2)s overrides schedule %(g1)s")),
        (r"override of " + _N, _t("Override of schedule %(g1)s")),
        (r"schedule " + _N, _t("Schedule %(g1)s")),
        (r"personal schedule " + _N + r" of (\S+)", _t("Personal schedule %(g1)s of %(g2)s")),
        (r"(\S+) forwards every call", _t("%(g1)s forwards every call")),
        (r"ring (\S+) \((.*)\)", _t("Ring %(g1)s (%(g2)s)")),
        (
            r"if (\S+) is busy, does not answer or is not registered",
            _t("If %(g1)s is busy, does not answer or is not connected"),
        ),
        (
            r"if (\S+) (busy|no answer|unregistered)",
            lambda e, r: gettext("If %(e)s is %(r)s", e=e, r=_reason(r)),
        ),
        (r"forward always of (\S+) ignored", _t("The forward of every call of %(g1)s is not used")),
        (r"(\S+) did not answer", _t("%(g1)s did not answer")),
        (r"(\S+) transfers the call to park slot (\d+)", _t("%(g1)s transfers the call to park slot %(g2)s")),
        (
            r"blind transfer of (\S+) to (\S+) by (\S+)",
            _t("%(g3)s transfers the call with %(g1)s to %(g2)s without talking first"),
        ),
        ("channel count", _t("Outside lines in use")),
        (
            r"forward (busy|no answer|unregistered) of (\S+) ignored",
            lambda r, e: gettext("The forward of %(e)s when %(r)s is not used", e=e, r=_reason(r)),
        ),
        (
            r"forward (busy|no answer|unregistered) of (\S+)",
            lambda r, e: gettext("Forward of %(e)s when %(r)s", e=e, r=_reason(r)),
        ),
        ("no free slot", _t("No free park slot")),
        (r"parked in (\d+) too long", _t("Parked in %(g1)s too long")),
        (r"pick up the call ringing on (\S+)", _t("Pick up the call ringing on %(g1)s")),
        ("refused with a tone", _t("Refused with a tone")),
        (
            r"ringing (\S+) ended with (\w+)",
            lambda e, c: gettext("Ringing %(e)s ended: %(r)s", e=e, r=_cause(c)),
        ),
        (r"the new target sees (\S+)", _t("The new destination sees %(g1)s")),
        (r"transferred to voicemail by (\S+)", _t("Transferred to voicemail by %(g1)s")),
        (
            r"(\S+) (busy|no answer|unregistered): no voicemail",
            lambda e, r: gettext("%(e)s %(r)s, no voicemail", e=e, r=_reason(r)),
        ),
        # Before "voicemail <box>": "access" is not a box.
        ("voicemail access", _t("Voicemail box")),
        (r"voicemail of (\S+)", _t("Voicemail of %(g1)s")),
        (r"voicemail (\S+)", _t("Voicemail of %(g1)s")),
        (r"ring group " + _N + " in turn", _t("Ring group %(g1)s, one after another")),
        (r"ring group " + _N + " all at once", _t("Ring group %(g1)s, all at once")),
        (r"ring group " + _N, _t("Ring group %(g1)s")),
        (r"no answer in " + _N, _t("Nobody answers in %(g1)s")),
        (r"skip (\S+)", _t("Skip %(g1)s")),
        (r"(\S+) is in do not disturb", _t("%(g1)s is in do not disturb")),
        (
            r"do not disturb (on|off) for (\S+)",
            lambda s, e: (
                gettext("Do not disturb on for %(e)s", e=e)
                if s == "on"
                else gettext("Do not disturb off for %(e)s", e=e)
            ),
        ),
        ("after-hours announcement", _t("After-hours announcement")),
        (r"IVR menu " + _N, _t("IVR menu %(g1)s")),
        (r"IVR " + _N + r": caller pressed (\d|\*|#)", _t("IVR menu %(g1)s: the caller presses %(g2)s")),
        (
            r"IVR " + _N + r": no valid choice after (\d+) tries",
            _t("IVR menu %(g1)s: no valid key after %(g2)s tries"),
        ),
        (r"IVR " + _N, _t("IVR menu %(g1)s")),
        (r"announcement " + _N, _t("Announcement %(g1)s")),
        (r"external (\S+)", _t("Outside number %(g1)s")),
        ("hang up", _t("Hang up")),
        ("group pickup", _t("Group pickup")),
        (r"park slot (\d+)", _t("Park slot %(g1)s")),
        (r"number (\S+): fax", _t("Number %(g1)s receives faxes")),
        (r"room (\d+) \((.+)\)", _t("Conference room %(g1)s (%(g2)s)")),
        (r"room (\d+)", _t("Conference room %(g1)s")),
        (r"caller (\S+) is (.+) in the phonebook", _t("The caller %(g1)s is %(g2)s in your phonebook")),
        # Call queues (fsctl.routing.queues)
        (r"queue (\d+) \((.+)\)", _t("Call queue %(g1)s (%(g2)s)")),
        (r"queue (\d+)", _t("Call queue %(g1)s")),
        ("position announced", _t("The caller hears their place in the queue")),
        (r"nobody answered within (\d+) s", _t("Nobody answers within %(g1)s seconds")),
        (r"queue (\d+) overflow", _t("Overflow of call queue %(g1)s")),
        (r"(\S+) logs in to queue\(s\) (.+)", _t("%(g1)s logs in as an agent of call queue %(g2)s")),
        (r"(\S+) logs out of queue\(s\) (.+)", _t("%(g1)s logs out of call queue %(g2)s")),
        (
            r"queue agent (login|logout) from (\S+)",
            lambda a, e: (
                gettext("Agent login of %(e)s", e=e)
                if a == "login"
                else gettext("Agent logout of %(e)s", e=e)
            ),
        ),
        # How the call got to a step ("<via>: <step>").
        (r"own number (\S+)", _t("Your number %(g1)s")),
        (r"(\S+) forward always", _t("Forward of every call of %(g1)s")),
        (
            r"(\S+) forward (busy|no_answer|unregistered)",
            lambda e, r: gettext("Forward of %(e)s when %(r)s", e=e, r=_reason(r)),
        ),
        (r"(\S+) (busy|no answer|unregistered)", lambda e, r: gettext("%(e)s %(r)s", e=e, r=_reason(r))),
        (r"(\S+) after hours", _t("%(g1)s outside their hours")),
        (r"(\S+) do not disturb", _t("%(g1)s in do not disturb")),
        (_N + " open", _t("%(g1)s open")),
        (_N + " closed", _t("%(g1)s closed")),
        (_N + r" option (\d|\*|#)", _t("%(g1)s key %(g2)s")),
        (_N + " timeout", _t("%(g1)s without a valid key")),
    ]
    return [(re.compile(f"^{p}$"), f) for p, f in rows]


_STAMP = r"\((\w{3}) (\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}) [^)]*\)"


def _why_table() -> Table:
    rows: list[tuple[str, str | Callable[..., str]]] = [
        # Caller screening (fsctl.routing.screening)
        ("as the carrier signals it", _t("as the carrier reports it")),
        (
            r"caller withheld their number; (number|user) (\S+) refuses such calls",
            _t("refused: the caller withheld their number (the setting of %(g2)s)"),
        ),
        (
            r"the call comes from a payphone; (number|user) (\S+) refuses such calls",
            _t("refused: the call comes from a payphone (the setting of %(g2)s)"),
        ),
        (
            r"the caller's number is unavailable; (number|user) (\S+) refuses such calls",
            _t("refused: the caller's number is unavailable (the setting of %(g2)s)"),
        ),
        (
            r"(\S+) is on the blocklist \(prefix (\S+)\)",
            _t("refused: %(g1)s is on the blocklist (numbers starting %(g2)s)"),
        ),
        (r"(\S+) is on the blocklist \(exact number\)", _t("refused: %(g1)s is on the blocklist")),
        (r"a number of (\S+)", _t("one of your numbers")),
        (r"numbering plan rule (.+)", _t("by the Japanese numbering plan")),
        (r"at most (\d+) external calls for (\S+)", _t("at most %(g1)s outside calls at once")),
        (r"for (\d+) s", _t("for %(g1)s seconds")),
        (r"to (.+)", lambda d: gettext("to %(d)s", d=_dest(d))),
        ("leave a message.*", _t("the caller can leave a message")),
        ("no voicemail box there; hang up", _t("there is no voicemail box there; the call ends")),
        ("same handling for each", _t("the same in each case")),
        ("never blocked by any rule", _t("never blocked by any rule")),
        (r"emergency calls go out whatever this rule says \(logged\)", _t("emergency calls always go out")),
        (r"open: within (\w{3}) ([\d:]+-[\d:]+) " + _STAMP, _t("open (hours %(g2)s, now %(g4)s %(g5)s)")),
        (
            r"closed: outside the open hours " + _STAMP,
            _t("closed: outside the open hours (now %(g2)s %(g3)s)"),
        ),
        (r"closed: national holiday (.+) " + _STAMP, _t("closed: national holiday %(g1)s (%(g3)s)")),
        # The override (臨時休業 / 臨時営業): until a moment on the tenant's clock, or until ended.
        (
            r"closed: override until cleared " + _STAMP,
            _t("closed: temporary closure until you end it (now %(g2)s %(g3)s)"),
        ),
        (
            r"open: override until cleared " + _STAMP,
            _t("open: extra opening until you end it (now %(g2)s %(g3)s)"),
        ),
        (
            r"closed: override until \w{3} (\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}) [^(]*" + _STAMP,
            _t("closed: temporary closure until %(g1)s %(g2)s (now %(g4)s %(g5)s)"),
        ),
        (
            r"open: override until \w{3} (\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}) [^(]*" + _STAMP,
            _t("open: extra opening until %(g1)s %(g2)s (now %(g4)s %(g5)s)"),
        ),
        (
            r"ended \w{3} (\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}) \S+; the regular hours apply",
            _t("ended %(g1)s %(g2)s; the regular hours apply"),
        ),
        ("forced closed", _t("closed until the regular hours next close (temporary closure)")),
        ("forced open", _t("open until the regular hours next open (extra opening)")),
        ("override ended", _t("the override ends; the regular hours apply")),
        (r"no schedule number (\d+) \((\d+) schedules\)", _t("there is no schedule number %(g1)s")),
        (r"closed: company closure.*" + _STAMP, _t("closed: company holiday (%(g2)s)")),
        (r"default prompt .*", _t("the standard message")),
        (r"ring (\S+), who parked it, for (\d+) s", _t("rings %(g1)s, who parked it, for %(g2)s seconds")),
        (r"(.+), (\d+) s each", _t("%(g1)s, %(g2)s seconds each")),
        (r"(.+) for (\d+) s", _t("%(g1)s for %(g2)s seconds")),
        ("nobody can ring now", _t("nobody can ring now")),
        ("in do not disturb", _t("in do not disturb")),
        (
            r"follows the (busy|no answer) forward to (.+)",
            lambda r, d: gettext("follows the forward when %(r)s, to %(d)s", r=_reason(r), d=_dest(d)),
        ),
        ("no forward set: to voicemail", _t("no forward is set: to voicemail")),
        (
            "no forward, no voicemail: the caller hears busy",
            _t("no forward, no voicemail: the caller hears busy"),
        ),
        (r"calls follow the busy forward until \*79", _t("calls follow the forward until *79")),
        (r"(\S+)'s phones ring again", _t("the phones of %(g1)s ring again")),
        (r"no destination set; hang up", _t("nothing is set; the call ends")),
        (r"no fallback set; hang up", _t("nothing is set; the call ends")),
        ("final fallback", _t("the fallback set for the menu")),
        (r"options (.+); (\d+) s to choose", _t("keys %(g1)s; %(g2)s seconds to choose")),
        (r"not a user that can receive calls", _t("cannot receive calls")),
        (r"the destination is hang up", _t("the call ends")),
        (r"hang up with (\w+)", _t("the call ends")),
        (r"(\S+)'s own number (\S+)", _t("the individual number of %(g1)s")),
        (r"representative number (\S+)", _t("the company's representative number")),
        (r"the tenant's geographic number (\S+)", _t("your geographic number %(g1)s")),
        (r"the operator's emergency caller ID (\S+)", _t("the platform's number for emergency calls")),
        (
            r"at most (\d+) external calls at once for (\S+)",
            _t("at most %(g1)s outside calls at once for %(g2)s"),
        ),
        (
            r"at most (\d+) new external calls per (\d+) s for (\S+)",
            _t("at most %(g1)s new outside calls per %(g2)s seconds"),
        ),
        (r"the carrier's (\S+) in national form", _t("the caller's number")),
        (r"on-net: .*", _t("routed inside kumo, free of charge")),
        (r"routed inside, like an incoming call.*", _t("routed inside, like an incoming call")),
        (r"(\S+) \((.+)\)", lambda k, rule: kind_words(k)),
        (r"the trial started (\S+) ended after (\d+) days", _t("the %(g2)s-day trial has ended")),
        (
            r"the tenant is suspended: external calls are refused",
            _t("the account is suspended: outside calls are refused"),
        ),
        (
            r"during the trial only calls between the tenant's own extensions work",
            _t("during the trial only calls between your own extensions work"),
        ),
        (
            r"international calls are not enabled for this tenant",
            _t("international calls are off (Settings)"),
        ),
        (r"(\S+) is an (inbound|outbound)-only line", _t("%(g1)s is set to incoming or outgoing only")),
        (r"'?(\S+?)'? is not a number of any tenant", _t("%(g1)s is not a number in service")),
        (r"'?(\S+?)'? is not a number kumo can route.*", _t("%(g1)s is not a number that can be called")),
        (
            r"(.+) numbers \((.+)\.\.\.\) are blocked unless the operator allows them",
            _t("numbers starting %(g2)s are blocked"),
        ),
        (
            r"cannot forward to (\S+) \((\w+)\)",
            lambda n, k: gettext("%(n)s is %(k)s and cannot be a forward", n=n, k=kind_words(k)),
        ),
        (
            r"forward to (\S+): (.+)",
            lambda n, why: gettext("forward to %(n)s: %(why)s", n=n, why=why_words(why)),
        ),
        (r"the tenant owns no number", _t("you have no number to show")),
        (r"caller ID (withheld|presented) for this call", _t("for this call only")),
        (r"pick up the call parked there.*", _t("pick up the call parked there, or park this call there")),
        (r"the lot is full; hang up", _t("every park slot is taken; the call ends")),
        (r"play it, then back to IVR " + _N, _t("play it, then back to menu %(g1)s")),
        (r"play it, then hang up", _t("play it, then the call ends")),
        (r"no such (user|ring group|schedule|menu).*", _t("it no longer exists; the call ends")),
        (
            r"conference of (\S+), PIN asked, at most (\d+) members",
            _t("the caller joins the conference after entering its PIN; at most %(g2)s people"),
        ),
        (
            r"conference of (\S+), no PIN, at most (\d+) members",
            _t("the caller joins the conference; at most %(g2)s people"),
        ),
        ("shown as the caller's name", _t("your phones show this name as the caller")),
        # Call queues (fsctl.routing.queues)
        (
            r"(longest idle|round robin|ring all), agents (.+), at most (\d+) s of waiting",
            lambda how, agents, seconds: gettext(
                "%(how)s; agents %(agents)s; the caller waits at most %(s)s seconds with music",
                how=_strategy(how),
                agents=agents if agents != "none" else gettext("none yet"),
                s=seconds,
            ),
        ),
        ("the callers ahead of this one, plus one", _t("counted from the callers waiting before them")),
        (r"overflow to (.+)", lambda d: gettext("the caller goes on to %(d)s", d=_dest(d))),
        (
            r"the caller already left this queue \(loop cut\); hang up",
            _t("the caller already waited in this queue; the call ends"),
        ),
        ("calls of those queues are offered to this phone", _t("the queues' calls ring this phone")),
        ("no more queue calls to this phone", _t("the queues' calls no longer ring this phone")),
        ("not an agent of any queue", _t("this extension is no agent of a call queue; nothing changes")),
        (
            r"the fax receiver answers \(G\.711 or T\.38\); the fax is stored and mailed as PDF",
            _t("kumo's fax receiver answers; the fax is kept on the FAX page and mailed as PDF"),
        ),
        (
            r"(\S+) is not the tenant's number any more; representative number (\S+)",
            _t("%(g1)s is no longer your number; the representative number is shown"),
        ),
        (
            r"a blind transfer goes only to the tenant's own extensions; .*",
            _t(
                "a transfer without talking first goes only to your own extensions; for other numbers, call first"
            ),
        ),
        (r"caller '(.*)'@'(.*)' is not a user of (\S+)", _t("the caller is not one of your users")),
        (
            r"handled as (busy|no answer|unregistered)",
            lambda r: gettext("handled as %(r)s", r=_reason(r)),
        ),
        (
            r"intercept the call last dialled to it.*",
            _t("picks up the call last put through to it, while it rings"),
        ),
        (
            r"it leads back into this call \(loop cut\)",
            _t("it would lead back into this call, so it is skipped"),
        ),
        (r"park again in (\S+)", _t("parked again in %(g1)s")),
        (
            r"parked in (\d+), or the next free slot when it is taken.*",
            _t("parked in %(g1)s, or the next free slot if it is taken"),
        ),
        (
            r"personal schedule " + _N + r" ((?:open|closed): .+)",
            lambda n, why: gettext("personal schedule %(n)s: %(why)s", n=n, why=why_words(why)),
        ),
        (
            r"the carrier leg stays counted for (\S+) after the transfer",
            _t("the outside line stays counted for you after the transfer"),
        ),
        (
            "the tenant's file name is not a safe path; default prompt used",
            _t("the file name cannot be used; the standard message is played"),
        ),
        (r"the transfer came from (\S+), not from (\S+)", _t("the transfer came from another customer")),
        ("the transferred party's own number", _t("the number of the transferred party")),
        (
            r"user (\S+) leads back into this call \(loop cut\); ringing (\S+)",
            _t("%(g1)s would lead back into this call; %(g2)s rings"),
        ),
        (r"(\S+) is (\w+)", lambda a, k: gettext("%(g1)s is %(kind)s", g1=a, kind=kind_words(k))),
    ]
    return [(re.compile(f"^{p}$"), f) for p, f in rows]


def _apply(table: Table, text: str) -> str | None:
    for pattern, make in table:
        found = pattern.match(text)
        if found:
            return make(*found.groups()) if callable(make) else gettext(make)
    return None


def what_words(text: str) -> str:
    whole = _apply(_what_table(), text)
    if whole is not None:
        return whole
    via, sep, step = text.partition(": ")
    if sep:
        return gettext("%(via)s → %(step)s", via=what_words(via), step=what_words(step))
    return text


def why_words(text: str) -> str:
    found = _apply(_why_table(), text)
    if found is None and "; " not in text:
        # Many reasons name a step ("forward busy of 102", "101 no answer: voicemail of 101"): the
        # steps' words, which also take "<how we got here>: <what>" apart.
        found = what_words(text)
    if found is None:
        # A chain of reasons ("forward busy of 102; ring 101 (A); if 101 is busy, ..."), part by part.
        return gettext("; ").join(why_words(part) for part in text.split("; "))
    return found


def steps(plan: Plan) -> list[tuple[str, str]]:
    """The plan's decisions as (what, why) sentences in the user's language."""
    return [(what_words(d.what), why_words(d.why)) for d in plan.decisions]
