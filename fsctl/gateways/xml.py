"""Directory XML for customer gateways: the registering gateway user, the ACL user, the network list. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from fsctl.gateways.contexts import ACL_DOMAIN, DIAL_VAR, gateway_context
from fsctl.xml.directory import DIAL_STRING
from fsctl.xml.document import add_pairs, new_document, to_bytes

# `bridge user/<gateway>@<domain>` dials the gateway's registered contact (the Request-URI is the
# contact the gateway registered, as a carrier does towards a registered trunk) with the number in
# the To header: mod_sofia's "<contact>^<to-user>@<host>" form (mod_sofia.c, sofia_outgoing_channel:
# text after '^' becomes the To URI). mod_dptools expands this with the calling channel's variables
# (user_outgoing_channel), where the dialplan set kumo_gateway_dial just before the bridge.
GATEWAY_DIAL_STRING = (
    "{^^:sip_invite_domain=${dialed_domain}}"
    "${sofia_contact(*/${dialed_user}@${dialed_domain})}^${" + DIAL_VAR + "}@${dialed_domain}"
)
# sofia_reg_parse_auth lets a user with neither password nor a1-hash in WITHOUT a digest check
# (allow-empty-password defaults to true, sofia_reg.c). ACL users have no credentials, so they say
# so explicitly, and the directory never answers them for sip_auth anyway.
_NO_EMPTY_PASSWORD = ("allow-empty-password", "false")


@dataclass(frozen=True, slots=True)
class GatewayUser:
    """A row of the gateway lookup: which gateway of which tenant, and its digest hash if it registers."""

    tenant_id: int
    domain: str
    gateway_id: int
    name: str
    channels: int
    a1_hash: str | None = None


def _user(domain_name: str, user_id: str, params: list[tuple[str, str]], gw: GatewayUser) -> bytes:
    document, section = new_document("directory")
    domain = etree.SubElement(section, "domain", name=domain_name)
    add_pairs(domain, "params", "param", [("dial-string", DIAL_STRING)])
    users = etree.SubElement(
        etree.SubElement(etree.SubElement(domain, "groups"), "group", name="default"), "users"
    )
    element = etree.SubElement(users, "user", id=user_id)
    add_pairs(element, "params", "param", params)
    variables = [
        # Calls from the gateway are routed in its own context, never the tenant's phones' context.
        ("user_context", gateway_context(gw.gateway_id, gw.domain)),
        ("domain_name", gw.domain),
        ("accountcode", gw.domain),
        ("kumo_tenant_id", str(gw.tenant_id)),
        ("kumo_gateway_id", str(gw.gateway_id)),
        ("kumo_gateway_name", gw.name),
        # No effective_caller_id_*: the caller ID of a call from the gateway is the outside caller's.
    ]
    add_pairs(element, "variables", "variable", variables)
    return to_bytes(document)


def render_gateway_user(gw: GatewayUser) -> bytes:
    """A registering gateway as a directory user of its tenant's domain (digest by a1-hash only)."""
    params = [
        ("a1-hash", gw.a1_hash or ""),
        ("dial-string", GATEWAY_DIAL_STRING),
        ("vm-enabled", "false"),
    ]
    return _user(gw.domain, gw.name, params, gw)


def render_acl_user(gw: GatewayUser) -> bytes:
    """An address-authenticated gateway as `gw<id>` of the ACL pseudo-domain (sofia_locate_user)."""
    return _user(ACL_DOMAIN, f"gw{gw.gateway_id}", [_NO_EMPTY_PASSWORD, ("vm-enabled", "false")], gw)


def render_network_list(gateways: list[tuple[int, str]]) -> bytes:
    """The ACL pseudo-domain with one `gw<id>` user per static gateway and its CIDRs (switch_load_network_lists).

    switch_core.c adds each user's `cidr` (comma separated CIDRs are split) to the list with the token
    `<id>@<domain>`; users are read from <groups><group><users> when the domain has no direct <users>.
    """
    document, section = new_document("directory")
    domain = etree.SubElement(section, "domain", name=ACL_DOMAIN)
    users = etree.SubElement(
        etree.SubElement(etree.SubElement(domain, "groups"), "group", name="default"), "users"
    )
    for gateway_id, cidr in gateways:
        etree.SubElement(users, "user", id=f"gw{gateway_id}", cidr=cidr)
    return to_bytes(document)
