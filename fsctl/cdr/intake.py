"""POST /fs/cdr: mod_json_cdr (JSON body) and mod_xml_cdr (`cdr=<url-encoded XML>`).

What the status code means to the switch (mod_json_cdr.c process_cdr, FreeSWITCH 1.10/1.11): any
2xx ends the attempts; anything else is retried `retries` times, `delay` seconds apart, and after the
last try the record is written to err-log-dir, which only our importer reads (fsctl.cdr.spool). So:
- stored, or already stored (a re-post of the same leg uuid): 200;
- malformed: kept in cdr_rejects with the reason and answered 200, because a retry would send the
  same bytes again and end in the spool as the same unusable record;
- wrong HTTP credentials: 401 (the switch retries, then spools; the importer brings it in);
- our own failure (database down): 500, so the switch retries and finally spools: nothing is lost.
Hostile posts: a body over MAX_CDR_BODY gets 413 and JSON nested too deeply 400, neither
stored; a leg of no known tenant is not a call this platform's switch made: kept aside, never stored.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qs

import gevent

from fsctl.cdr.parse import CdrError, CdrTooDeep, normalize_uuid, parse_json, parse_xml
from fsctl.cdr.store import CdrStore, NotOurLeg
from fsctl.wiring import cdr_followers

log = logging.getLogger(__name__)

# The largest captured leg (an XML A leg) is 27 KB; a long call through IVRs and transfers grows by a
# few KB per hunt. Anything near this is junk, and it would otherwise be kept whole in cdr_rejects.
MAX_CDR_BODY = 256 * 1024


def _query_uuid(path: str) -> str | None:
    query = path.split("?", 1)[1] if "?" in path else ""
    values = parse_qs(query).get("uuid")
    return values[0] if values else None


def parse_body(content_type: str, body: bytes, url_uuid: str | None):
    """The Leg of a post, JSON or XML, chosen by content type and first byte."""
    stripped = body.lstrip()
    if stripped.startswith(b"cdr=%3C") or stripped.startswith(b"<") or "xml" in content_type:
        return parse_xml(body, url_uuid)
    return parse_json(body, url_uuid)


def handle_cdr_post(
    store: CdrStore, path: str, headers: dict[bytes, bytes], body: bytes, source: str = "http"
) -> tuple[int, bytes]:
    """Store one posted CDR; returns (status, body) for the switch."""
    if len(body) > MAX_CDR_BODY:
        log.warning("CDR post of %d bytes refused (limit %d)", len(body), MAX_CDR_BODY)
        return 413, b"too large\n"
    raw_uuid = _query_uuid(path)
    content_type = headers.get(b"content-type", b"").decode("latin-1")
    url_uuid = normalize_uuid(raw_uuid)
    try:
        if raw_uuid is not None and url_uuid is None:
            raise CdrError(f"unusable uuid parameter {raw_uuid[:80]!r}")
        leg = parse_body(content_type, body, url_uuid)
    except CdrTooDeep as exc:
        log.warning("CDR post refused: %s", exc)
        return 400, b"nested too deeply\n"
    except (CdrError, UnicodeDecodeError) as exc:
        try:
            store.reject(source, raw_uuid, str(exc), content_type, body)
        except Exception:
            log.exception("could not keep a malformed CDR aside; asking the switch to retry")
            return 500, b"error\n"
        return 200, b"rejected, kept aside\n"
    try:
        store.store(leg, source)
    except NotOurLeg as exc:
        try:
            store.reject(source, leg.uuid, str(exc), content_type, body)
        except Exception:
            log.exception("could not keep a CDR of no tenant aside; asking the switch to retry")
            return 500, b"error\n"
        return 200, b"not a leg of any tenant, kept aside\n"
    except Exception:
        log.exception("CDR %s not stored; the switch will retry and then spool it", leg.uuid)
        return 500, b"error\n"
    return 200, b"OK\n"


class CdrIntake:
    """The /fs/cdr handler of a serving process; its store is made on the first post."""

    def __init__(self, lookup_store, snapshots=None):
        self.lookup_store = lookup_store
        # The dialplan lookups' snapshot loader and cache: a call is classified by what routed it.
        self.snapshots = snapshots
        self._store: CdrStore | None = None

    def __call__(self, path: str, headers: dict[bytes, bytes], body: bytes) -> tuple[int, bytes]:
        if self._store is None:
            factory = self.lookup_store.session_factory
            self._store = CdrStore(
                self.lookup_store.engine,
                factory,
                snapshots=self.snapshots,
                # In the service a fax's mail is sent by its own greenlet, after the switch has its answer.
                followers=cdr_followers(factory, spawn=gevent.spawn),
            )
        return handle_cdr_post(self._store, path, headers, body)
