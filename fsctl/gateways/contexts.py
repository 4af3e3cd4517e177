"""Names shared by the directory, the routing and the switch config for customer gateways. Pure."""

from __future__ import annotations

import re

# The dialplan context of one gateway's calls: "gw_<gateway id>.<tenant domain>". Tenant domains are
# DNS names (fsctl.schemas.DOMAIN: no "_"), so this can never be a tenant's context, and the id makes
# the dialplan check that the call really came from that gateway (kumo_gateway_id, set by the
# directory, which a SIP peer cannot forge).
CONTEXT_RE = re.compile(r"^gw_([1-9][0-9]{0,11})\.([a-z0-9][a-z0-9.-]{0,252})$")
# The pseudo-domain of address-authenticated gateways: acl.conf's list "kumo-gateways" names it in a
# domain node, the switch asks kumo for it (purpose=network-list) and gets one user per gateway,
# `gw<id>` with its cidr. A call from such an address carries the ACL token gw<id>@<this domain>, which
# sofia resolves with a directory lookup (sofia_locate_user), giving the call its gateway context.
# ".invalid" (RFC 2606) is never a real DNS name; fsctl apply refuses it as a tenant domain.
ACL_DOMAIN = "gateways.kumo.invalid"
ACL_USER_RE = re.compile(r"^gw([1-9][0-9]{0,11})$")
# Registering gateways authenticate as <name>@<tenant domain>; names start with a letter, extensions
# are digits, so one lookup pattern tells them apart.
GATEWAY_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{1,31}$")
LIMIT_REALM = "kumo_gateway"
# The channel variable a bridge to a registering gateway reads the number to dial from.
DIAL_VAR = "kumo_gateway_dial"


def gateway_context(gateway_id: int, domain: str) -> str:
    """The context a gateway's calls arrive in."""
    return f"gw_{gateway_id}.{domain}"


def parse_context(context: str) -> tuple[int, str] | None:
    """(gateway id, tenant domain) of a gateway context, or None for any other context."""
    match = CONTEXT_RE.match(context)
    return (int(match.group(1)), match.group(2)) if match else None
