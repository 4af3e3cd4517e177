"""Security settings (FSCTL_AUTH_*, FSCTL_BAN_*, FSCTL_SPEND_*, FSCTL_OPERATOR_EMAIL), apart from Settings.

Tests build a SecuritySettings directly; the service reads it from the environment once.
"""

from __future__ import annotations

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
    )
