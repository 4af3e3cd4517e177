"""The ESL side of brute-force protection: failed and successful digest authentications.

sofia_reg.c (sofia_reg_handle_register_token) fires, for one failed REGISTER or INVITE digest:
`sofia::register_attempt` with `auth-result: FORBIDDEN` (line ~1606, carrying the *auth* `username` and
`realm`), then `sofia::register_failure` (line ~1792, carrying only `to-user`/`to-host`, which for an
INVITE is the dialled number, not the account). Both come from one failure, so it is counted once: from
the attempt, and a failure event is counted only when no attempt from the same source with the same
Event-Date-Timestamp came before it (a listener subscribed to `register_failure` alone still works).
`RENEWED`/`SUCCESS`/`STALE` attempts are not failures: every INVITE digest auth fires a RENEWED attempt.
An unknown user or domain is AUTH_FORBIDDEN too (sofia_reg_parse_auth: "Can't find user"), so scanners
are counted the same way. `sofia::register` (a successful registration) marks the user+IP pair trusted.
"""

from __future__ import annotations

import logging
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from fsctl.db import make_session_factory
from fsctl.esl.events import NODE_HEADER
from fsctl.security.bans import BanListener, Failure, mark_trusted_many, record_failures
from fsctl.security.settings import SecuritySettings

log = logging.getLogger(__name__)

ATTEMPT = "sofia::register_attempt"
FAILURE = "sofia::register_failure"
REGISTER = "sofia::register"
# A trusted pair's last_seen is written at most this often (phones re-register every few minutes).
TRUST_REFRESH_SECONDS = 600
# Successful registrations are trusted in one transaction per this many seconds, not one per phone:
# after a restart every phone registers anew within a minute, and a commit per pair was most of the
# event socket's CPU per REGISTER (bench.switch, py-spy).
TRUST_FLUSH_SECONDS = 1.0
_PROFILE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_CALL_ID = re.compile(r"^[A-Za-z0-9@._:+!%*~'()-]{1,200}$")


def _headers(event: Any) -> Mapping[str, str]:
    """The header mapping of a typed event (fsctl.esl.events.Event) or of a plain mapping."""
    headers = getattr(event, "headers", None)
    return headers if isinstance(headers, Mapping) else event


def _subclass(h: Mapping[str, str]) -> str:
    return h.get("Event-Subclass", "") if h.get("Event-Name") == "CUSTOM" else ""


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


class AuthEventHandler:
    """Counts failed digest authentications and trusts successful registrations (events: see `events`).

    Duck-compatible with fsctl.esl.dispatch.Handler (`events`, `name`, `handle`, `handle_batch`);
    `handle` also takes a plain header mapping, which is what replay tests feed it.
    """

    events: tuple[str, ...] = (ATTEMPT, FAILURE, REGISTER)
    name = "security.auth"
    # Trust marks are held and written together (flush_due / flush, fsctl.esl.dispatch.Handler).
    buffered = True

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        settings: SecuritySettings | None = None,
        on_ban: BanListener | None = None,
        send_api: Callable[[str, str], object] | None = None,
        trust_flush_seconds: float = TRUST_FLUSH_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.session_factory = session_factory
        self.settings = settings or SecuritySettings()
        self.on_ban = on_ban
        # The event sockets' command sender, (command, node): removes foreign registrations (see
        # _foreign) from the node that reported them.
        self.send_api = send_api
        # (ip, port, Event-Date-Timestamp) of counted attempts, to skip their register_failure twin.
        self._counted: OrderedDict[tuple[str, str, str], None] = OrderedDict()
        self._trusted_at: dict[tuple[str, str, str], float] = {}
        self.trust_flush_seconds = trust_flush_seconds
        self.clock = clock
        # (ip, domain, username) of successful registrations not written yet, and by when they must be.
        self._pending_trust: dict[tuple[str, str, str], None] = {}
        self._trust_due: float | None = None

    def handle(self, event: Mapping[str, str] | Any) -> None:
        self.handle_batch([event])

    def handle_batch(self, events: list[Any]) -> None:
        failures: list[Failure] = []
        successes: list[tuple[str, str, str]] = []
        for event in events:
            h = _headers(event)
            kind = _subclass(h)
            if kind == ATTEMPT:
                failure = self._from_attempt(h)
            elif kind == FAILURE:
                failure = self._from_failure(h)
            elif kind == REGISTER:
                if _foreign(h):
                    failures.extend(self._undo_foreign(h))
                    continue
                success = _success(h)
                if success is not None:
                    successes.append(success)
                continue
            else:
                continue
            if failure is not None:
                failures.append(failure)
        # what sofia reports from a proxy's address is no one's (SecuritySettings.trusted_proxies)
        failures = [f for f in failures if not self.settings.is_proxy(f.ip)]
        if failures:
            # Successes held from earlier batches come first: trusting a pair forgets its failures,
            # and these came after them.
            self._flush_held()
            with self.session_factory() as session:
                record_failures(session, failures, self.settings, self.on_ban)
        for ip, domain, username in successes:
            if not self.settings.is_proxy(ip):
                self._trust(ip, domain, username)
        if self._trust_due is not None and self.clock() >= self._trust_due:
            self._flush_held()

    def flush_due(self) -> float | None:
        return self._trust_due

    def flush(self) -> None:
        """Write the held trust marks, all in one transaction; on an error they stay held and are
        tried again one interval later (not at once, in a loop, while the database is away)."""
        if not self._pending_trust:
            self._trust_due = None
            return
        try:
            with self.session_factory() as session:
                mark_trusted_many(session, list(self._pending_trust))
        except BaseException:
            self._trust_due = self.clock() + self.trust_flush_seconds
            raise
        now = self.clock()
        self._trusted_at.update(dict.fromkeys(self._pending_trust, now))
        self._pending_trust.clear()
        self._trust_due = None
        if len(self._trusted_at) > 100_000:
            self._trusted_at.clear()

    def _flush_held(self) -> None:
        """flush() from within handle_batch: an error must not make the dispatcher apply the batch
        again one event at a time (its failures would be counted twice); the marks stay held."""
        try:
            self.flush()
        except Exception as exc:  # noqa: BLE001 - logged; flush keeps the marks and retries later
            log.warning("trusted sources not written (%s); kept and retried", exc)

    def _undo_foreign(self, h: Mapping[str, str]) -> list[Failure]:
        """Remove a registration authenticated in another realm than its To host (see _foreign) from
        the switch at once, and count it as a failed authentication of the account used."""
        profile, call_id = h.get("profile-name", ""), h.get("call-id", "")
        log.warning(
            "registration as %s@%s authenticated in realm %r from %s: removed",
            h.get("from-user", "")[:64],
            h.get("from-host", "")[:253],
            h.get("realm", "")[:253],
            h.get("network-ip", "")[:45],
        )
        # The Call-ID is the client's text: only what a command line cannot be split or expanded on.
        if self.send_api is not None and _PROFILE.match(profile) and _CALL_ID.match(call_id):
            try:
                self.send_api(
                    f"api sofia profile {profile} flush_inbound_reg {call_id}", h.get(NODE_HEADER, "")
                )
            except Exception as exc:  # noqa: BLE001 - the failure below still counts toward a ban
                log.warning("foreign registration not removed from the switch: %s", exc)
        failure = _failure(h, h.get("network-ip", ""), h.get("realm", ""), h.get("username", ""))
        return [failure] if failure is not None else []

    def _from_attempt(self, h: Mapping[str, str]) -> Failure | None:
        if h.get("auth-result") != "FORBIDDEN":
            return None
        ip = h.get("network-ip", "")
        self._remember((ip, h.get("network-port", ""), h.get("Event-Date-Timestamp", "")))
        return _failure(
            h, ip, h.get("realm") or h.get("from-host", ""), h.get("username") or h.get("from-user", "")
        )

    def _from_failure(self, h: Mapping[str, str]) -> Failure | None:
        ip = h.get("network-ip", "")
        if (ip, h.get("network-port", ""), h.get("Event-Date-Timestamp", "")) in self._counted:
            return None
        kind = h.get("registration-type", "REGISTER")
        # For an INVITE, to-user is the dialled number: count the IP only.
        username = h.get("to-user", "") if kind == "REGISTER" else ""
        return _failure(h, ip, h.get("to-host", ""), username, kind)

    def _remember(self, key: tuple[str, str, str]) -> None:
        self._counted[key] = None
        while len(self._counted) > 1000:
            self._counted.popitem(last=False)

    def _trust(self, ip: str, domain: str, username: str) -> None:
        key = (ip, domain, username)
        now = self.clock()
        last = self._trusted_at.get(key)
        if last is not None and now - last < TRUST_REFRESH_SECONDS:
            return
        self._pending_trust[key] = None
        if self._trust_due is None:
            self._trust_due = now + self.trust_flush_seconds


def _failure(h: Mapping[str, str], ip: str, domain: str, username: str, kind: str = "") -> Failure | None:
    if not ip:
        return None
    stamp = _int(h.get("Event-Date-Timestamp"))
    at = stamp // 1_000_000 if stamp else int(time.time())
    if not kind:
        # register_attempt: an INVITE's attempt has from-user = the dialled number but username = the
        # account, so it is counted for the account either way.
        kind = "REGISTER"
    return Failure(
        ip=ip[:45],
        domain=domain.lower()[:253],
        username=username[:64],
        at=at,
        kind=kind,
        core_uuid=h.get("Core-UUID") or None,
        sequence=_int(h.get("Event-Sequence")),
    )


def _foreign(h: Mapping[str, str]) -> bool:
    """A registration stored under another domain than the one its client authenticated in.

    sofia keeps a registration as the To's user@host (sip_registrations) but checks the digest in the
    realm the client answered in (sofia_reg_parse_auth), which a crafted client chooses: answering
    its own tenant's challenge realm for To: 101@<other tenant> makes it that tenant's 101. kumo's
    directory refuses such a lookup (fsctl.xmlcurl.directory), but a user the switch holds cached
    (FSCTL_DIRECTORY_CACHE_MS) is not looked up; this event is then the first kumo hears of it.
    """
    realm, host = h.get("realm", "").lower(), h.get("from-host", "").lower()
    return bool(realm and host and realm != host)


def _success(h: Mapping[str, str]) -> tuple[str, str, str] | None:
    ip = h.get("network-ip", "")
    domain = (h.get("realm") or h.get("domain_name") or h.get("to-host") or "").lower()
    username = h.get("username") or h.get("to-user") or ""
    if not (ip and domain and username):
        return None
    return ip[:45], domain[:253], username[:64]


def wire(
    dispatcher: Any, database: Engine | sessionmaker[Session], settings: SecuritySettings | None = None
) -> AuthEventHandler:
    """Add the handler to an fsctl.esl.dispatch.Dispatcher (or anything with `add(handler)`).

    The one line for fsctl/esl/wiring.py: `wire(dispatcher, engine)`.
    """
    factory = make_session_factory(database) if isinstance(database, Engine) else database
    handler = AuthEventHandler(factory, settings)
    dispatcher.add(handler)
    return handler


def security_handlers(
    engine: Engine,
    settings: SecuritySettings | None = None,
    on_ban: BanListener | None = None,
    send_api: Callable[[str, str], object] | None = None,
) -> list[AuthEventHandler]:
    """The ESL handlers of the brute-force and spend defences, for fsctl.esl.wiring.build_dispatcher.

    `on_ban`: told each new ban (fsctl.security.bans.record_failures), e.g. to evict the banned user
    from the switch's directory cache. `send_api(command, node)`: the event sockets', to remove a
    registration made in another tenant's name from its node (AuthEventHandler._undo_foreign).
    """
    from fsctl.security.settings import security_settings_from_env

    return [
        AuthEventHandler(
            make_session_factory(engine), settings or security_settings_from_env(), on_ban, send_api
        )
    ]
