"""call queues (ACD): queues, their agents, agents' login state, callers waiting

Revision ID: a7c4e2f9d3b8
Revises: a5d1c8e3f7b2
Create Date: 2026-12-07 18:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "a7c4e2f9d3b8"
down_revision = "a5d1c8e3f7b2"
branch_labels = None
depends_on = None


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id"], ["tenants.id"], name=op.f(f"fk_{table}_tenant_id_tenants"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "call_queues",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=6), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("strategy", sa.String(length=20), nullable=False),
        sa.Column("max_wait_seconds", sa.Integer(), nullable=False),
        sa.Column("agent_ring_seconds", sa.Integer(), nullable=False),
        sa.Column("announce_position", sa.Boolean(), nullable=False),
        sa.Column("overflow_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("length(number) BETWEEN 2 AND 6", name=op.f("ck_call_queues_number_length")),
        sa.CheckConstraint(
            "strategy IN ('longest_idle', 'round_robin', 'ring_all')",
            name=op.f("ck_call_queues_strategy_known"),
        ),
        sa.CheckConstraint(
            "max_wait_seconds BETWEEN 10 AND 3600", name=op.f("ck_call_queues_max_wait_range")
        ),
        sa.CheckConstraint(
            "agent_ring_seconds BETWEEN 5 AND 120", name=op.f("ck_call_queues_agent_ring_range")
        ),
        _tenant_fk("call_queues"),
        sa.ForeignKeyConstraint(
            ["overflow_id"],
            ["destinations.id"],
            name=op.f("fk_call_queues_overflow_id_destinations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_queues")),
        sa.UniqueConstraint("tenant_id", "number", name="uq_call_queues_tenant_number"),
    )
    op.create_index(op.f("ix_call_queues_tenant_id"), "call_queues", ["tenant_id"])
    op.create_table(
        "call_queue_agents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("queue_id", sa.Integer(), nullable=False),
        sa.Column("extension", sa.String(length=6), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        _tenant_fk("call_queue_agents"),
        sa.ForeignKeyConstraint(
            ["queue_id"],
            ["call_queues.id"],
            name=op.f("fk_call_queue_agents_queue_id_call_queues"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_queue_agents")),
        sa.UniqueConstraint("queue_id", "extension", name="uq_call_queue_agents_queue_extension"),
    )
    op.create_index(op.f("ix_call_queue_agents_tenant_id"), "call_queue_agents", ["tenant_id"])
    op.create_index(op.f("ix_call_queue_agents_queue_id"), "call_queue_agents", ["queue_id"])
    op.create_table(
        "queue_agent_states",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("extension", sa.String(length=6), nullable=False),
        sa.Column("logged_in", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        _tenant_fk("queue_agent_states"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_agent_states")),
        sa.UniqueConstraint("tenant_id", "extension", name="uq_queue_agent_states_tenant_extension"),
    )
    op.create_table(
        "queue_callers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("queue_number", sa.String(length=6), nullable=False),
        sa.Column("uuid", sa.String(length=64), nullable=False),
        sa.Column("caller_number", sa.String(length=64), nullable=False),
        sa.Column("caller_name", sa.String(length=128), nullable=False),
        sa.Column("agent", sa.String(length=6), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        _tenant_fk("queue_callers"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_callers")),
        sa.UniqueConstraint("uuid", name="uq_queue_callers_uuid"),
    )
    op.create_index("ix_queue_callers_tenant", "queue_callers", ["tenant_id"])


def downgrade() -> None:
    op.drop_index("ix_queue_callers_tenant", table_name="queue_callers")
    op.drop_table("queue_callers")
    op.drop_table("queue_agent_states")
    op.drop_index(op.f("ix_call_queue_agents_queue_id"), table_name="call_queue_agents")
    op.drop_index(op.f("ix_call_queue_agents_tenant_id"), table_name="call_queue_agents")
    op.drop_table("call_queue_agents")
    op.drop_index(op.f("ix_call_queues_tenant_id"), table_name="call_queues")
    op.drop_table("call_queues")
