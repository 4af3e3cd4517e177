"""The service's HTTP routes: mod_xml_curl's POST /fs/xml, /healthz and /metrics.

Form body -> fields -> responder for the section -> bytes. Every failure becomes FreeSWITCH's valid
"not found" document (or a 401 for wrong HTTP credentials), logged with its cause; never a 500.
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import unquote_plus

import gevent

from fsctl import __version__
from fsctl.cdr.intake import CdrIntake
from fsctl.config import Settings
from fsctl.media.settings import media_settings_from_env
from fsctl.media.vm_config import ConfigurationResponder
from fsctl.metrics import Metrics
from fsctl.queues.switch import CallcenterConfig
from fsctl.secrets import http_credentials
from fsctl.xml.document import NOT_FOUND
from fsctl.xmlcurl import posted
from fsctl.xmlcurl.dialplan import DialplanResponder
from fsctl.xmlcurl.directory import DirectoryResponder
from fsctl.xmlcurl.store import LookupStore

log = logging.getLogger(__name__)

XML = "text/xml; charset=utf-8"
MAX_BODY = 1 << 20  # a dialplan lookup with every channel variable is ~10 KB


@dataclass(frozen=True)
class Response:
    status: int
    content_type: str
    body: bytes
    extra_headers: tuple[tuple[str, str], ...] = ()


_PAIR = re.compile(r"([^&=]*)=([^&]*)")
_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_.-]+$")
# "&key=" per plain key asked for: routing asks the same dozen keys on every lookup. Bounded, since a
# caller-chosen name (e.g. a variable named after a header) could otherwise grow it.
_MARKERS: dict[str, str] = {}
_MAX_MARKERS = 1024


class FormFields(Mapping[str, str]):
    """mod_xml_curl's url-encoded body, read lazily: a field is found and unquoted only when asked for.

    A dialplan body carries ~200 fields (6 KB) of which routing reads a dozen; a full parse was most
    of the cost of a lookup. FreeSWITCH encodes '&' and '=' inside values, so `&key=` only occurs at a
    field boundary. If a key repeats, the last one wins (as with a standard form decoder).
    """

    __slots__ = ("_text", "_all", "_readable", "_section")

    def __init__(self, body: bytes, readable: Mapping[str, frozenset[str]] | None = None):
        self._text = "&" + body.decode("utf-8", "replace")
        self._all: dict[str, str] | None = None
        self._section = ""
        # None: every field; else only the section's (lookup_form: what the switch posts for it).
        self._readable: frozenset[str] | None = None
        if readable is not None:
            self._section = self.get("section") or ""
            self._readable = readable.get(self._section, posted.READABLE_OTHER)

    def _every_field(self) -> dict[str, str]:
        if self._all is None:
            pairs = _PAIR.findall(self._text)
            self._all = {(unquote_plus(k) if "%" in k or "+" in k else k): v for k, v in pairs}
        return self._all

    def _raw(self, key: str) -> str | None:
        if self._readable is not None and key not in self._readable:
            posted.unposted_read(self._section, key)
            return None
        marker = _MARKERS.get(key)
        if marker is None:
            if not _PLAIN_KEY.match(key) or len(_MARKERS) >= _MAX_MARKERS:
                return self._every_field().get(key)
            marker = _MARKERS[key] = "&" + key + "="
        if self._all is not None:
            return self._all.get(key)
        at = self._text.rfind(marker)
        if at < 0:
            return None
        start = at + len(marker)
        end = self._text.find("&", start)
        return self._text[start:] if end < 0 else self._text[start:end]

    def __getitem__(self, key: str) -> str:
        value = self._raw(key)
        if value is None:
            raise KeyError(key)
        return unquote_plus(value) if "%" in value or "+" in value else value

    def get(self, key: str, default: str | None = None) -> str | None:
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._raw(key) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._visible())

    def __len__(self) -> int:
        return len(self._visible())

    def _visible(self) -> list[str]:
        every = self._every_field()
        return [key for key in every if self._readable is None or key in self._readable]


def parse_form(body: bytes) -> FormFields:
    """The form fields of a lookup body."""
    return FormFields(body)


def lookup_form(body: bytes) -> FormFields:
    """A lookup body's fields as kumo may read them: only those the switch posts for its section
    (fsctl.xmlcurl.posted); any other reads as absent, whatever the body carries, so kumo answers
    the same to a switch posting everything (an older xml_curl.conf) as to one posting the list."""
    return FormFields(body, posted.READABLE)


class ServiceApp:
    def __init__(self, settings: Settings, store: LookupStore, metrics: Metrics | None = None):
        self.settings = settings
        self.store = store
        self.metrics = metrics or Metrics()
        self.directory = DirectoryResponder(
            store, cacheable_ms=settings.directory_cache_ms, flushable=lambda: self.metrics.esl_connected
        )
        self.dialplan = DialplanResponder(store, settings)
        self.cdr_intake = CdrIntake(store, snapshots=self.dialplan.snapshots)
        # voicemail.conf; other configuration names stay with the switch's own files.
        self.configuration = ConfigurationResponder(media_settings_from_env())
        # callcenter.conf: the call queues (fsctl.queues.switch), read from the database on each ask.
        self.callcenter = CallcenterConfig(store)
        self._expected_auth = None
        # Secure by default: no setting means the generated credential, only "off" means open.
        credentials = http_credentials(settings)
        if credentials is not None:
            token = base64.b64encode(credentials.encode()).decode()
            self._expected_auth = f"Basic {token}".encode()

    def authorized(self, authorization: bytes | None) -> bool:
        if self._expected_auth is None:
            return True
        return authorization is not None and hmac.compare_digest(authorization.strip(), self._expected_auth)

    def handle(self, method: str, path: str, headers: dict[bytes, bytes], body: bytes) -> Response:
        """Route one request."""
        route = path.split("?", 1)[0]
        if route == "/fs/xml":
            if method != "POST":
                return Response(405, "text/plain", b"POST only\n", (("Allow", "POST"),))
            return self.xml_lookup(headers.get(b"authorization"), body)
        if route == "/fs/cdr":
            # Call records (fsctl.cdr.intake); the same HTTP credentials as /fs/xml.
            if method != "POST":
                return Response(405, "text/plain", b"POST only\n", (("Allow", "POST"),))
            if not self.authorized(headers.get(b"authorization")):
                log.warning("CDR post refused: wrong or missing HTTP credentials")
                return Response(
                    401, "text/plain", b"unauthorized\n", (("WWW-Authenticate", 'Basic realm="kumo"'),)
                )
            status, text = self.cdr_intake(path, headers, body)
            return Response(status, "text/plain", text)
        if route == "/healthz" and method in ("GET", "HEAD"):
            return self.health()
        if route == "/metrics" and method in ("GET", "HEAD"):
            return Response(200, "text/plain; version=0.0.4", self.metrics.render())
        return Response(404, "text/plain", b"not found\n")

    def xml_lookup(self, authorization: bytes | None, body: bytes) -> Response:
        started = time.perf_counter()
        if not self.authorized(authorization):
            log.warning("xml_curl lookup refused: wrong or missing HTTP credentials")
            self.metrics.observe_lookup("other", "unauthorized", time.perf_counter() - started)
            return Response(
                401, "text/plain", b"unauthorized\n", (("WWW-Authenticate", 'Basic realm="kumo"'),)
            )
        section = "other"
        deadline = gevent.Timeout(self.settings.lookup_timeout)
        deadline.start()
        try:
            fields = lookup_form(body)
            section = fields.get("section", "")
            document, reason = self._answer(section, fields)
        except gevent.Timeout as expired:
            if expired is not deadline:
                raise
            # A hung database: the switch gets "not found" (its static deny-all
            # fallback) in time instead of a thread blocked for its whole xml_curl timeout.
            self.store.reset()
            log.warning(
                "xml_curl %s lookup: no database answer within %.1f s; answering not found",
                section or "(no section)",
                self.settings.lookup_timeout,
            )
            document, reason = None, "timeout"
        except Exception:
            log.exception("xml_curl %s lookup failed; answering not found", section or "(no section)")
            document, reason = None, "error"
        finally:
            deadline.close()
        if document is None:
            if reason not in ("error", "timeout"):
                log.info("xml_curl %s: not found (%s)", section or "(no section)", reason)
            outcome = reason if reason in ("error", "timeout") else "not_found"
            document = NOT_FOUND
        else:
            outcome = "found"
        self.metrics.observe_lookup(section, outcome, time.perf_counter() - started)
        return Response(200, XML, document)

    def _answer(self, section: str, fields: Mapping[str, str]) -> tuple[bytes | None, str]:
        if section == "directory":
            return self.directory.answer(fields)
        if section == "dialplan":
            document = self.dialplan.answer(fields)
            return document, "routed" if document is not None else "no route"
        if not section:
            return None, "malformed body: no section"
        if section == "configuration":
            return self.callcenter.answer(fields) or self.configuration.answer(fields)
        # configuration and languages: the switch's own files serve them until a feature needs them.
        return None, f"section {section[:40]!r} not served"

    def health(self) -> Response:
        state = self.store.database_state()
        database = state == "ok"
        payload = {
            "status": "ok" if database else "degraded",
            # ok, missing, not migrated or unreachable: each a reason to take this instance out.
            "database": state,
            # connected only when every node's event socket is; each one below, by address.
            "esl": "connected" if self.metrics.esl_connected else "disconnected",
            "esl_nodes": self.metrics.esl_nodes(),
            # This worker's dialplan snapshots: cold, warming or warm (DialplanResponder.warm).
            "snapshots": self.dialplan.warm_state,
            "version": __version__,
        }
        return Response(200 if database else 503, "application/json", json.dumps(payload).encode())
