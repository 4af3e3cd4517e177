"""Directory answers for customer gateways: one indexed query per lookup, documents cached by config version."""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import Mapping

from fsctl.gateways.contexts import ACL_DOMAIN, ACL_USER_RE, GATEWAY_NAME_RE
from fsctl.gateways.xml import GatewayUser, render_acl_user, render_gateway_user, render_network_list
from fsctl.security.bans import BANNED_SQL
from fsctl.xmlcurl.store import LookupStore, LruCache

log = logging.getLogger(__name__)

# uq_gateways_tenant_name (tenant_id, name) and the unique tenants.domain: one indexed join.
GATEWAY_SQL = (
    "SELECT t.id, t.domain, t.config_version, g.id, g.name, g.channels, g.a1_hash FROM tenants t"
    " JOIN gateways g ON g.tenant_id = t.id WHERE t.domain = ? AND g.name = ? AND g.auth = 'credentials'"
)
# A REGISTER/INVITE digest lookup also asks whether its source is banned (fsctl.security.bans, the same
# check phones get): a banned source gets "not found", so the switch answers 403 as for a wrong password.
GATEWAY_AUTH_SQL = GATEWAY_SQL.replace(
    " FROM tenants t", ", " + BANNED_SQL.replace("u.extension", "g.name") + " FROM tenants t", 1
)
ACL_GATEWAY_SQL = (
    "SELECT t.id, t.domain, t.config_version, g.id, g.name, g.channels FROM gateways g"
    " JOIN tenants t ON t.id = g.tenant_id WHERE g.id = ? AND g.auth = 'address'"
)
# Asked at each ACL load (start-up, `reloadacl`, which fsctl.gateways.acl_reload sends when this list
# changes), for the whole platform.
NETWORK_LIST_SQL = "SELECT id, cidr FROM gateways WHERE auth = 'address' AND cidr IS NOT NULL ORDER BY id"


def is_gateway_lookup(domain: str, user: str | None) -> bool:
    """True when a directory lookup is about a customer gateway (so fsctl.xmlcurl.directory hands it here)."""
    if domain == ACL_DOMAIN:
        return True
    return user is not None and GATEWAY_NAME_RE.match(user) is not None


class GatewayDirectory:
    def __init__(self, store: LookupStore, cache: LruCache):
        self.store = store
        self.cache = cache

    def answer(self, fields: Mapping[str, str], domain: str, user: str | None) -> tuple[bytes | None, str]:
        """(document or None for "not found", reason) for a gateway lookup."""
        if domain == ACL_DOMAIN:
            return self._acl(fields, user)
        if fields.get("key", "id") != "id" or user is None:
            return None, f"key {fields.get('key')!r} not served"
        ip = fields.get("ip") if fields.get("action") == "sip_auth" else None
        if ip:
            row = self.store.fetch_one(GATEWAY_AUTH_SQL, (ip, int(time.time()), domain, user))
            if row is not None and row[7]:
                return None, f"banned source {ip[:45]} for gateway {user}@{domain}"
        else:
            row = self.store.fetch_one(GATEWAY_SQL, (domain, user))
        if row is None:
            return None, f"no gateway {user}@{domain}"
        key = ("gateway", row[3], row[2])
        document = self.cache.get(key)
        if document is None:
            gw = GatewayUser(row[0], row[1], row[3], row[4], row[5], row[6])
            document = render_gateway_user(gw)
            self.cache.put(key, document)
        return document, "gateway"

    def _acl(self, fields: Mapping[str, str], user: str | None) -> tuple[bytes | None, str]:
        if user is None:
            if fields.get("purpose") == "network-list":
                return self._network_list()
            return None, "gateway ACL domain without user"
        match = ACL_USER_RE.match(user)
        # The ACL users have no credentials: never let one be used to authenticate a REGISTER/INVITE.
        if match is None or fields.get("action") == "sip_auth" or fields.get("key", "id") != "id":
            return None, f"gateway ACL user {user[:40]!r} not served for this lookup"
        row = self.store.fetch_one(ACL_GATEWAY_SQL, (int(match.group(1)),))
        if row is None:
            return None, f"no static gateway {user}"
        key = ("gateway-acl", row[3], row[2])
        document = self.cache.get(key)
        if document is None:
            document = render_acl_user(GatewayUser(row[0], row[1], row[3], row[4], row[5]))
            self.cache.put(key, document)
        return document, "gateway"

    def _network_list(self) -> tuple[bytes, str]:
        return render_network_list(static_networks(self.store)), "gateway network list"


def static_networks(store: LookupStore) -> list[tuple[int, str]]:
    """(gateway id, its networks "a/b,c/d") of every static gateway: the kumo-gateways network list."""
    gateways = []
    for gateway_id, cidr in store.fetch_all(NETWORK_LIST_SQL):
        networks = []
        for text in cidr.split(","):
            try:
                networks.append(str(ipaddress.ip_network(text.strip(), strict=True)))
            except ValueError:
                # Validated on save; a bad row must never widen the list, so it is left out.
                log.warning("gateway %s: unusable cidr %r left out of the ACL", gateway_id, text[:60])
        if networks:
            gateways.append((gateway_id, ",".join(networks)))
    return gateways
