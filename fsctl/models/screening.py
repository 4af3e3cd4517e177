"""Caller screening models of kumo (see the banner below)."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fsctl.models.base import Base

# --- Caller screening (fsctl/screening/, fsctl/routing/screening.py) -------------------------------
# 非通知拒否 per number and per user, and the tenant's blocklist of callers. Routing configuration:
# every row carries tenant_id, so fsctl.db bumps the config version and lookups see a change at once.

# Why a carrier call comes without a number: withheld by the caller (非通知), a payphone (公衆電話),
# or unavailable (表示圏外: abroad, or a network that cannot deliver one).
ANONYMOUS_KINDS = ("withheld", "payphone", "unavailable")
BLOCK_ACTIONS = ("announce", "reject")


class AnonymousRefusal(Base):
    """Which callers without a number a number or a user refuses: `refuse` is a comma-separated subset
    of ANONYMOUS_KINDS. Exactly one of number_id and user_id is set."""

    __tablename__ = "screening_anonymous"
    __table_args__ = (
        CheckConstraint("(number_id IS NULL) <> (user_id IS NULL)", name="one_target"),
        UniqueConstraint("number_id", name="uq_screening_anonymous_number"),
        UniqueConstraint("user_id", name="uq_screening_anonymous_user"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    number_id: Mapped[int | None] = mapped_column(ForeignKey("numbers.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    refuse: Mapped[str] = mapped_column(String(40), default="withheld")


class BlockedCaller(Base):
    """A caller the tenant refuses: an exact national number, or a prefix when `prefix` is set;
    `action` announce (a short announcement, then the call ends) or reject (ended at once)."""

    __tablename__ = "screening_blocklist"
    __table_args__ = (
        UniqueConstraint("tenant_id", "pattern", "prefix", name="uq_screening_blocklist_entry"),
        CheckConstraint("action IN ('announce', 'reject')", name="action"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    pattern: Mapped[str] = mapped_column(String(20))  # digits, national form (or + for international)
    prefix: Mapped[bool] = mapped_column(default=False)
    action: Mapped[str] = mapped_column(String(8), default="announce")
    note: Mapped[str] = mapped_column(String(80), default="")
