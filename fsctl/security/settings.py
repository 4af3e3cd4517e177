"""Security settings (FSCTL_AUTH_*, FSCTL_BAN_*, FSCTL_SPEND_*, FSCTL_OPERATOR_EMAIL, FSCTL_TRUSTED_PROXIES),
apart from Settings.

Tests build a SecuritySettings directly; the service reads it from the environment once.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field

from fsctl.mail import SmtpSettings, smtp_settings_from_env


@dataclass(frozen=True)
class SecuritySettings:
    # Failed digest authentications from one source within `auth_fail_window` seconds that ban it
    # (Kazoo's default: 4 per user+IP in 300 s).
    auth_fail_threshold: int = 4
    auth_fail_window: int = 300
    # How long a ban lasts; `fsctl bans lift` ends one early.
    ban_seconds: int = 3600
    # Failure rows and expired bans older than this are deleted by `fsctl bans purge`.
    keep_seconds: int = 7 * 86400
    # Spend anomaly: a 5-minute window above `spend_factor` x the tenant's usual 5-minute spend (its
    # average over the last `spend_baseline_days`) raises an alert, but only above `spend_floor_yen`
    # (a tenant that usually spends nothing must not alert on its first 30-yen call).
    spend_window_seconds: int = 300
    spend_factor: int = 5
    spend_baseline_days: int = 7
    spend_floor_yen: int = 500
    operator_email: str = ""
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    # SIP proxies in front of the switches (Kamailio, kamailio/README.md): sofia reports the proxy's
    # address as every relayed request's network-ip, so a failure "from" a proxy is no one's and is
    # not counted, and a proxy is never trusted or banned (that would lock out everyone behind it).
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    def is_proxy(self, ip: str) -> bool:
        """Whether `ip` is one of the trusted SIP proxies."""
        if not self.trusted_proxies:
            return False
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return any(address in network for network in self.trusted_proxies)


def parse_proxies(value: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """FSCTL_TRUSTED_PROXIES: comma-separated addresses or CIDRs; a bad one is an error naming it."""
    networks = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"FSCTL_TRUSTED_PROXIES: {item!r} is not an address or CIDR") from None
    return tuple(networks)


def security_settings_from_env(environ: dict[str, str] | None = None) -> SecuritySettings:
    """Read the security variables (SMTP from the shared FSCTL_SMTP_* ones)."""
    env = os.environ if environ is None else environ
    d = SecuritySettings()

    def number(name: str, default: int) -> int:
        return int(env.get(name, str(default)))

    return SecuritySettings(
        auth_fail_threshold=number("FSCTL_AUTH_FAIL_THRESHOLD", d.auth_fail_threshold),
        auth_fail_window=number("FSCTL_AUTH_FAIL_WINDOW", d.auth_fail_window),
        ban_seconds=number("FSCTL_BAN_SECONDS", d.ban_seconds),
        keep_seconds=number("FSCTL_BAN_KEEP_SECONDS", d.keep_seconds),
        spend_factor=number("FSCTL_SPEND_FACTOR", d.spend_factor),
        spend_baseline_days=number("FSCTL_SPEND_BASELINE_DAYS", d.spend_baseline_days),
        spend_floor_yen=number("FSCTL_SPEND_FLOOR_YEN", d.spend_floor_yen),
        operator_email=env.get("FSCTL_OPERATOR_EMAIL", ""),
        smtp=smtp_settings_from_env(env),
        trusted_proxies=parse_proxies(env.get("FSCTL_TRUSTED_PROXIES", "")),
    )
