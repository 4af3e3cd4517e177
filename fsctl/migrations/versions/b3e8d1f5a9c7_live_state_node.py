"""live state records its FreeSWITCH node: `node` on every table written from events

Revision ID: b3e8d1f5a9c7
Revises: a7c4e2f9d3b8
Create Date: 2026-12-07 21:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "b3e8d1f5a9c7"
down_revision = "a7c4e2f9d3b8"
branch_labels = None
depends_on = None

# The live tables (fsctl.models.live and the features' own): rows already there keep node "" (not
# known), which the next resync of any node replaces (fsctl.esl.handlers).
LIVE_TABLES = (
    "live_registrations",
    "live_calls",
    "ringing_calls",
    "parked_calls",
    "queue_callers",
    "gateway_channels",
)


def upgrade() -> None:
    for table in LIVE_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("node", sa.String(length=63), server_default="", nullable=False))
    # A slot is unique per node: park lots are node-local in FreeSWITCH.
    with op.batch_alter_table("parked_calls", schema=None) as batch_op:
        batch_op.drop_constraint("uq_parked_calls_slot", type_="unique")
        batch_op.create_unique_constraint("uq_parked_calls_node_slot", ["tenant_id", "node", "slot"])


def downgrade() -> None:
    # Two nodes may hold the same slot of a tenant; the single-switch constraint cannot hold them.
    op.execute("DELETE FROM parked_calls")
    with op.batch_alter_table("parked_calls", schema=None) as batch_op:
        batch_op.drop_constraint("uq_parked_calls_node_slot", type_="unique")
        batch_op.create_unique_constraint("uq_parked_calls_slot", ["tenant_id", "slot"])
    for table in LIVE_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("node")
