"""Accounts models of kumo (see the banner below)."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from fsctl.models.base import Base, enum_type, utc_now

# ---------------------------------------------------------------------------------------------------
# webpanel: panel accounts, API tokens, login attempts, the sign-up profile, platform settings.
# None of these is routing configuration: `__tenant_config__ = False` keeps fsctl.db from bumping
# tenants.config_version (and so emptying every lookup cache) when someone merely logs in.


class AccountRole(enum.StrEnum):
    OPERATOR = "operator"  # the platform operator: every tenant, the inventory, platform settings
    ADMIN = "admin"  # a tenant's administrator: everything of that tenant
    USER = "user"  # a tenant user: the settings of their own extension only


class PanelAccount(Base):
    """A person who signs in to the panel (not a SIP account; see User)."""

    __tablename__ = "panel_accounts"
    __tenant_config__ = False
    __table_args__ = (
        CheckConstraint("role = 'operator' OR tenant_id IS NOT NULL", name="tenant_role_has_tenant"),
        CheckConstraint("role <> 'user' OR user_id IS NOT NULL", name="user_role_has_extension"),
        CheckConstraint("email = lower(email)", name="email_lowercase"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    # argon2id encoded hash (argon2-cffi), never the password.
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[AccountRole] = mapped_column(enum_type(AccountRole, "account_role"))
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    # A tenant user's own extension; removing the extension removes the login.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    locale: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # Part of every session's fingerprint: bumped by sign-out, so a copied cookie dies with it.
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # A disabled account cannot sign in, reset its password, or keep a session.
    disabled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # Two-step verification (webpanel.two_factor): the TOTP secret (RFC 6238, base32) once the owner
    # confirmed a code from their app; None = off. The switch never sees it.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    # The last 30-second step a code was accepted for: a code seen once (shoulder-surfed, replayed
    # from a proxy log) is refused for the rest of its validity.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    # SHA-256 of each unused one-time recovery code, space-separated (random 50-bit codes, shown once).
    totp_recovery: Mapped[str] = mapped_column(Text, default="", server_default="")


class ApplicationState(enum.StrEnum):
    """Where a tenant's formal application stands (the brochure's steps 2 and 3, webpanel.application)."""

    NONE = "none"  # not applied yet (trial)
    WAITING_DOCUMENTS = "waiting_documents"  # details sent; the signed form and ID are in the post
    DOCUMENTS_RECEIVED = "documents_received"  # both arrived and were checked
    MAIL_SENT = "mail_sent"  # 転送不要の簡易書留 sent to the address, to prove it
    VERIFIED = "verified"  # the registered mail was delivered: the tenant is active
    RETURNED = "returned"  # sent back to the customer with a reason (incomplete, mail undeliverable)


class TenantProfile(Base):
    """Who signed the tenant up, and the formal application the operator verifies."""

    __tablename__ = "tenant_profiles"
    __tenant_config__ = False

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    contact_name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(32))
    email: Mapped[str] = mapped_column(String(254))
    applied_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    application_note: Mapped[str] = mapped_column(Text, default="")
    verified_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    verified_by: Mapped[str | None] = mapped_column(String(120))
    # The formal application (webpanel.application): the contract holder's details as printed on
    # the application form, and the verification steps.
    application_state: Mapped[ApplicationState] = mapped_column(
        enum_type(ApplicationState, "application_state"), default=ApplicationState.NONE, server_default="none"
    )
    legal_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    representative: Mapped[str] = mapped_column(String(100), default="", server_default="")
    postal_code: Mapped[str] = mapped_column(String(8), default="", server_default="")
    address: Mapped[str] = mapped_column(String(300), default="", server_default="")
    # Received documents, space-separated keys of webpanel.application.DOCUMENTS.
    documents: Mapped[str] = mapped_column(String(200), default="", server_default="")
    documents_received_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    mail_tracking: Mapped[str] = mapped_column(String(40), default="", server_default="")
    mail_sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    returned_reason: Mapped[str] = mapped_column(Text, default="", server_default="")


class ApiToken(Base):
    """A tenant's API token; only its SHA-256 is stored (the token is shown once)."""

    __tablename__ = "api_tokens"
    __tenant_config__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class PhonebookFeed(Base):
    """The link a tenant's desk phones fetch the company directory from (webpanel.views.phonebook_feed):
    no sign-in, the token is the key. One per tenant; only its SHA-256 is kept (shown once, replaced
    or removed by an administrator)."""

    __tablename__ = "phonebook_feeds"
    __tenant_config__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class LoginAttempt(Base):
    """Every sign-in attempt; rate limiting counts recent failures here, shared by all panel processes."""

    __tablename__ = "login_attempts"
    __tenant_config__ = False
    __table_args__ = (
        Index("ix_login_attempts_email_at", "email", "at"),
        Index("ix_login_attempts_ip_at", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    email: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str] = mapped_column(String(45))
    success: Mapped[bool] = mapped_column(Boolean, default=False)


class PlatformSetting(Base):
    """Operator-maintained platform settings (SIP domain suffix, SIP server name, ...), key -> text."""

    __tablename__ = "platform_settings"
    __tenant_config__ = False

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")


# --- Panel sign-in security (webpanel/): password reset by e-mail ------------------------------------------


class PasswordReset(Base):
    """A password-reset link sent by e-mail: single use, short-lived; only the token's SHA-256 is kept."""

    __tablename__ = "password_resets"
    __tenant_config__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("panel_accounts.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class ProvisioningLink(Base):
    """A phone set-up link (webpanel.provisioning): a softphone fetches the account once from it.

    Single use and short-lived, because what it serves is as good as the SIP password (the digest
    HA1); only the token's SHA-256 is kept. A new link for a user ends that user's unused ones."""

    __tablename__ = "provisioning_links"
    __tenant_config__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    created_by: Mapped[str] = mapped_column(String(120), default="")
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
