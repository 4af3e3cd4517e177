"""announcement destinations (an IVR option or number plays an upload) and the tenant's prompt language

destinations gets an `announcement` column (the tenant's audio name) and both CHECKs learn the new
kind; tenants get `language` (ja/en), what callers hear. SQLite rebuilds destinations by copying it
(batch mode; fsctl/migrations/env.py turns foreign keys off around it so the copy keeps every link).

Revision ID: 3f6d2a8c1b47
Revises: e41c7d2a9b30
Create Date: 2026-11-25 17:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "3f6d2a8c1b47"
down_revision = "e41c7d2a9b30"
branch_labels = None
depends_on = None

_TARGETS = {
    "user": "user_id",
    "voicemail": "user_id",
    "ring_group": "ring_group_id",
    "ivr": "ivr_menu_id",
    "schedule": "schedule_id",
    "external": "external_number",
    "announcement": "announcement",
    "hangup": None,
}
_OLD_KINDS = ("user", "ring_group", "ivr", "schedule", "voicemail", "external", "hangup")


def _one_target(with_announcement: bool) -> str:
    # The migration keeps its own copy of the rule (models may change later); same text as
    # fsctl.models._one_target_check produced at this revision.
    targets = {k: c for k, c in _TARGETS.items() if with_announcement or k != "announcement"}
    columns = sorted({c for c in targets.values() if c})
    terms = []
    for kind, own in targets.items():
        parts = [f"kind = '{kind}'"] + [f"{c} IS NOT NULL" if c == own else f"{c} IS NULL" for c in columns]
        terms.append("(" + " AND ".join(parts) + ")")
    return " OR ".join(terms)


def _kinds(kinds: tuple[str, ...]) -> str:
    return "kind IN (" + ", ".join(f"'{k}'" for k in kinds) + ")"


def upgrade() -> None:
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=8), server_default="ja", nullable=False))
        batch_op.create_check_constraint("language_known", "language IN ('ja', 'en')")
    with op.batch_alter_table("destinations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("announcement", sa.String(length=64), nullable=True))
        batch_op.drop_constraint(op.f("ck_destinations_one_target"), type_="check")
        batch_op.drop_constraint(op.f("ck_destinations_destination_kind"), type_="check")
        batch_op.create_check_constraint("one_target", _one_target(True))
        batch_op.create_check_constraint("destination_kind", _kinds((*_OLD_KINDS, "announcement")))


def downgrade() -> None:
    # Announcements become hang-ups (a DELETE would leave links dangling while foreign keys are off).
    op.execute("UPDATE destinations SET kind = 'hangup', announcement = NULL WHERE kind = 'announcement'")
    with op.batch_alter_table("destinations", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_destinations_one_target"), type_="check")
        batch_op.drop_constraint(op.f("ck_destinations_destination_kind"), type_="check")
        batch_op.drop_column("announcement")
        batch_op.create_check_constraint("one_target", _one_target(False))
        batch_op.create_check_constraint("destination_kind", _kinds(_OLD_KINDS))
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_tenants_language_known"), type_="check")
        batch_op.drop_column("language")
