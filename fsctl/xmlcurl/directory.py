"""section=directory answers: one indexed query per lookup, rendered documents cached by config version."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping

from fsctl.gateways.contexts import ACL_DOMAIN
from fsctl.gateways.directory import GatewayDirectory, is_gateway_lookup
from fsctl.security.bans import BANNED_SQL
from fsctl.xml.directory import DirectoryUser, render_domain, render_user
from fsctl.xmlcurl.store import LookupStore, LruCache

log = logging.getLogger(__name__)

_DOMAIN = re.compile(r"^(?=.{3,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$")
EXTENSION_PATTERN = re.compile(r"^[1-9][0-9]{1,5}$")

USER_SQL = (
    "SELECT t.id, t.domain, t.config_version, u.id, u.extension, u.name, u.a1_hash, u.direction, u.caller_id,"
    " u.ring_seconds, u.voicemail_enabled, u.voicemail_pin, u.voicemail_email, u.voicemail_attach_audio,"
    " u.recording_enabled"
    " FROM tenants t JOIN users u ON u.tenant_id = t.id WHERE t.domain = ? AND u.extension = ?"
)
# sip_auth lookups (REGISTER/INVITE digest) carry the source `ip`: the same one query also says whether
# that source is banned (fsctl.security.bans); a banned source gets "not found", so the switch answers
# 403 exactly as for a wrong password or an unknown user (sofia_reg_parse_auth: AUTH_FORBIDDEN).
AUTH_USER_SQL = USER_SQL.replace(" FROM tenants t", ", " + BANNED_SQL + " FROM tenants t", 1)
TENANT_SQL = "SELECT id, config_version FROM tenants WHERE domain = ?"

# Lookups that carry no user and need nothing from kumo: sofia asks for gateways of each domain at
# profile start, and acl.conf domain nodes ask for a network list. "Not found" makes the switch use
# its own files, quietly (fixtures: directory-gateways-*.txt, directory-network-list.txt).
_NOT_OURS = frozenset({"gateways", "network-list"})


def plausible_domain(value: str) -> bool:
    """A DNS name that could be a tenant's; IP literals and junk never reach the database.

    The pattern alone excludes IP literals: the last label must start with a letter (no IPv4) and
    ':' is not allowed (no IPv6), so no ipaddress parse is needed on the hot path.
    """
    return _DOMAIN.match(value) is not None


class DirectoryResponder:
    def __init__(
        self,
        store: LookupStore,
        cacheable_ms: int = 0,
        cache_size: int = 100_000,
        flushable: Callable[[], bool] | None = None,
    ):
        self.store = store
        self.cacheable_ms = cacheable_ms
        # Whether the service can evict what the switch caches (its event socket is up:
        # fsctl.esl.cache_flush); users are `cacheable` only then.
        self.flushable = flushable or (lambda: False)
        self._cache = LruCache(cache_size)
        self.gateways = GatewayDirectory(store, self._cache)

    def answer(self, fields: Mapping[str, str]) -> tuple[bytes | None, str]:
        """(document or None for "not found", reason) for one directory lookup."""
        # The network list of the customer gateways' ACL pseudo-domain is ours (fsctl.gateways.directory).
        if fields.get("purpose") in _NOT_OURS and fields.get("domain") != ACL_DOMAIN:
            return None, "purpose " + fields["purpose"]
        domain = (fields.get("domain") or fields.get("key_value") or "").lower()
        if not plausible_domain(domain):
            return None, f"implausible domain {domain[:80]!r}"
        user = fields.get("user")
        if is_gateway_lookup(domain, user):  # customer gateways: names, never extensions
            return self.gateways.answer(fields, domain, user)
        if user is None:
            return self._domain(domain)
        # FreeSWITCH retries an unknown user with key=number-alias; users have no aliases here.
        if fields.get("key", "id") != "id":
            return None, f"key {fields.get('key')!r} not served"
        if not EXTENSION_PATTERN.match(user):
            return None, f"implausible user {user[:40]!r}"
        method = fields.get("sip_auth_method")
        if method in ("SUBSCRIBE", "REGISTER"):
            # The phones' profile challenges a request in the realm of the host its To names
            # (challenge-realm auto_to), so a phone of one tenant is looked up as a user of the other
            # and refused; but sofia accepts an answer in any realm (sofia_reg_parse_auth looks the
            # user up in the realm the client answered in), and a crafted client answering in its own
            # realm lands here. Sofia would then serve it what the To names: busy lamps of another
            # tenant (SUBSCRIBE), or store the contact as that tenant's user and ring it for their
            # calls (REGISTER: sip_registrations keeps to_user@to_host). Only its own domain counts.
            target = (fields.get("sip_to_host") or "").lower()
            if target and plausible_domain(target) and target != domain:
                return None, f"{method.lower()} as {user}@{domain} for {target[:80]}"
        ip = fields.get("ip") if fields.get("action") == "sip_auth" else None
        if ip:
            row = self.store.fetch_one(AUTH_USER_SQL, (ip, int(time.time()), domain, user))
            if row is not None and row[-1]:  # the ban column comes last (AUTH_USER_SQL)
                return None, f"banned source {ip[:45]} for {user}@{domain}"
        else:
            row = self.store.fetch_one(USER_SQL, (domain, user))
        if row is None:
            return None, f"no user {user}@{domain}"
        # The switch caches a user under the names as the request spelled them (key + user +
        # domain, src/switch_xml.c), and kumo flushes `id <extension> <domain>` as stored: a
        # request with other spelling (ACME.example) is answered, never cached.
        cacheable = (
            self.cacheable_ms
            if self.cacheable_ms > 0 and fields.get("domain") == domain and self.flushable()
            else 0
        )
        key = ("user", row[0], row[3], row[2], cacheable)
        document = self._cache.get(key)
        if document is None:
            document = render_user(_directory_user(row), cacheable)
            self._cache.put(key, document)
        return document, "user"

    def _domain(self, domain: str) -> tuple[bytes | None, str]:
        row = self.store.fetch_one(TENANT_SQL, (domain,))
        if row is None:
            return None, f"no tenant {domain}"
        key = ("domain", row[0], row[1])
        document = self._cache.get(key)
        if document is None:
            document = render_domain(domain)
            self._cache.put(key, document)
        return document, "domain"


def _directory_user(row: tuple) -> DirectoryUser:
    return DirectoryUser(
        tenant_id=row[0],
        domain=row[1],
        user_id=row[3],
        extension=row[4],
        name=row[5],
        a1_hash=row[6],
        direction=row[7],
        caller_id=row[8],
        ring_seconds=row[9],
        voicemail_enabled=bool(row[10]),
        voicemail_pin=row[11],
        voicemail_email=row[12],
        voicemail_attach_audio=bool(row[13]),
        recording_enabled=bool(row[14]),
    )
