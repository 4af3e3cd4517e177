"""The declarative base, the enums and the column helpers every model module shares."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    Enum,
    ForeignKey,
    MetaData,
    String,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names so alembic migrations are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class TenantStatus(enum.StrEnum):
    TRIAL = "trial"
    ACTIVE = "active"
    SUSPENDED = "suspended"


class Direction(enum.StrEnum):
    BOTH = "both"
    INBOUND_ONLY = "inbound_only"
    OUTBOUND_ONLY = "outbound_only"


class NumberKind(enum.StrEnum):
    GEOGRAPHIC = "geographic"
    IP = "ip"  # 050
    TOLL_FREE = "toll_free"  # 0120 / 0800


class RingStrategy(enum.StrEnum):
    SIMULTANEOUS = "simultaneous"
    SEQUENTIAL = "sequential"


class DestinationKind(enum.StrEnum):
    USER = "user"
    RING_GROUP = "ring_group"
    IVR = "ivr"
    SCHEDULE = "schedule"
    VOICEMAIL = "voicemail"
    EXTERNAL = "external"
    HANGUP = "hangup"
    # Play one of the tenant's uploaded audio files; from an IVR option, then back to that menu.
    ANNOUNCEMENT = "announcement"


# Which column holds each destination kind's target (None: the kind has no target).
DESTINATION_TARGET_COLUMN: dict[str, str | None] = {
    "user": "user_id",
    "voicemail": "user_id",
    "ring_group": "ring_group_id",
    "ivr": "ivr_menu_id",
    "schedule": "schedule_id",
    "external": "external_number",
    "announcement": "announcement",
    "hangup": None,
}


def one_target_check() -> str:
    """Each kind sets exactly its own target column and leaves every other one NULL."""
    columns = sorted({c for c in DESTINATION_TARGET_COLUMN.values() if c})
    terms = []
    for kind, own in DESTINATION_TARGET_COLUMN.items():
        parts = [f"kind = '{kind}'"]
        parts += [f"{c} IS NOT NULL" if c == own else f"{c} IS NULL" for c in columns]
        terms.append("(" + " AND ".join(parts) + ")")
    return " OR ".join(terms)


def enum_type(enum_cls: type[enum.Enum], name: str) -> Enum:
    # native_enum=False: a VARCHAR + CHECK on both SQLite and PostgreSQL, so adding a value later
    # is an ordinary migration instead of ALTER TYPE.
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        values_callable=lambda members: [m.value for m in members],
    )


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def destination_fk() -> Mapped[int | None]:
    # Destinations point back at users, groups, menus and schedules: the relationships using these
    # columns are post_update, so the ORM writes the cycle as INSERT then UPDATE.
    return mapped_column(ForeignKey("destinations.id", ondelete="SET NULL", use_alter=True))


# The FreeSWITCH node (switchname) a live row came from: fsctl.models.live explains it.
NODE_NAME_LENGTH = 63


def node_column() -> Mapped[str]:
    """The node a live row came from. Not indexed: only a resync (rare) selects by it, while every
    live write would pay for the index."""
    return mapped_column(String(NODE_NAME_LENGTH), default="", server_default="")
