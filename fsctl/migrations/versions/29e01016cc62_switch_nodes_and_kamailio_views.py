"""switch nodes, tenant placement and the views Kamailio reads

`switch_nodes` holds the FreeSWITCH nodes of a cluster, `tenants.node_id` the node each tenant lives
on (NULL = a single switch). Kamailio reads four views, never the tables (fsctl.cluster; README,
"Nodes"): kamailio_domain_routes, kamailio_number_routes, kamailio_gateway_routes and
kamailio_dispatcher (the dispatcher module's own table layout).

The views depend on tenants, numbers, gateways and switch_nodes. A later migration that rebuilds
one of those tables must keep them valid: on PostgreSQL a column a view reads cannot be dropped or
retyped without dropping the view first (drop and recreate the views around such a change); on
SQLite fsctl/migrations/env.py turns on legacy_alter_table so a batch rebuild may rename its copy
back while the views name the table.

Revision ID: 29e01016cc62
Revises: a7c4e2f9d3b8
Create Date: 2026-12-07 21:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "29e01016cc62"
down_revision = "a7c4e2f9d3b8"
branch_labels = None
depends_on = None

# The migration keeps its own copy of the views' SQL (the models may change later). `||` and
# substr() are the same in SQLite and PostgreSQL. Only placed tenants (node_id set) appear.
_NODE = "JOIN switch_nodes s ON s.id = t.node_id"


def _number_forms(dialect: str) -> tuple[str, ...]:
    """The three forms of a number, one per branch of kamailio_number_routes.

    PostgreSQL pushes `WHERE number = ...` into each branch of a UNION ALL, onto that branch's
    index, only when every branch has the union's own type: substr() gives text, the columns are
    varchar, so they are cast to text (a no-op for their btree indexes). Without the casts every
    lookup read all three forms of every number (95 ms for 20,000 numbers, against 0.1 ms). SQLite
    pushes the WHERE down either way, but uses a column's index only on the bare column.
    """
    if dialect == "postgresql":
        return ("CAST(n.e164 AS TEXT)", "substr(n.e164, 2)", "CAST(n.national AS TEXT)")
    return ("n.e164", "substr(n.e164, 2)", "n.national")


def _views(dialect: str) -> dict[str, str]:
    return {
        # A phone's REGISTER or INVITE goes to its domain's node (domains are stored lower-case).
        "kamailio_domain_routes": (
            f"SELECT t.domain AS domain, s.name AS node, 'sip:' || s.sip_address AS sip_uri FROM tenants t {_NODE}"
        ),
        # Every form in which a number reaches Kamailio in the R-URI user part: the dialplan bridges to
        # sofia/gateway/carrier/+81... (fsctl.routing.calls), and a carrier may present +81..., 81...
        # or the national 0... (what fsctl.numbers.to_national accepts for a carrier call). Each
        # branch is one indexed lookup: numbers.e164, ix_numbers_e164_without_plus, numbers.national.
        "kamailio_number_routes": " UNION ALL ".join(
            f"SELECT {form} AS number, s.name AS node, 'sip:' || s.carrier_address AS carrier_uri"
            f" FROM numbers n JOIN tenants t ON t.id = n.tenant_id {_NODE}"
            for form in _number_forms(dialect)
        ),
        # A static-address customer gateway sends from `address` (its cidr networks may allow more
        # sources; those are in `cidr`, comma separated, for a subnet check on a miss).
        "kamailio_gateway_routes": (
            "SELECT g.address AS address, s.name AS node, 'sip:' || s.carrier_address AS carrier_uri,"
            f" g.cidr AS cidr FROM gateways g JOIN tenants t ON t.id = g.tenant_id {_NODE}"
            " WHERE g.auth = 'address' AND g.address IS NOT NULL"
        ),
        # The dispatcher module's table: set 1 = the nodes' internal profiles, set 2 = their carrier
        # profiles (failover when a tenant's node does not answer). Ids are unique across both sets.
        "kamailio_dispatcher": (
            "SELECT s.id * 2 - 1 AS id, 1 AS setid, 'sip:' || s.sip_address AS destination, 0 AS flags,"
            " 0 AS priority, 'node=' || s.name AS attrs, s.name || ' internal' AS description"
            " FROM switch_nodes s"
            " UNION ALL "
            "SELECT s.id * 2 AS id, 2 AS setid, 'sip:' || s.carrier_address AS destination, 0 AS flags,"
            " 0 AS priority, 'node=' || s.name AS attrs, s.name || ' carrier' AS description"
            " FROM switch_nodes s"
        ),
    }


def upgrade() -> None:
    op.create_table(
        "switch_nodes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("sip_address", sa.String(length=255), nullable=False),
        sa.Column("carrier_address", sa.String(length=255), nullable=False),
        sa.Column("esl_address", sa.String(length=255), server_default="", nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("state IN ('active', 'draining')", name=op.f("ck_switch_nodes_state_known")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_switch_nodes")),
        sa.UniqueConstraint("name", name=op.f("uq_switch_nodes_name")),
    )
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("node_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_tenants_node_id_switch_nodes"), "switch_nodes", ["node_id"], ["id"], ondelete="SET NULL"
        )
        batch_op.create_index(op.f("ix_tenants_node_id"), ["node_id"])
    op.create_index("ix_numbers_e164_without_plus", "numbers", [sa.text("substr(e164, 2)")])
    op.create_index("ix_gateways_address", "gateways", ["address"])
    for name, select in _views(op.get_bind().dialect.name).items():
        op.execute(f"CREATE VIEW {name} AS {select}")


def downgrade() -> None:
    for name in reversed(list(_views(op.get_bind().dialect.name))):
        op.execute(f"DROP VIEW {name}")
    op.drop_index("ix_gateways_address", table_name="gateways")
    op.drop_index("ix_numbers_e164_without_plus", table_name="numbers")
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.drop_index(op.f("ix_tenants_node_id"))
        batch_op.drop_constraint(op.f("fk_tenants_node_id_switch_nodes"), type_="foreignkey")
        batch_op.drop_column("node_id")
    op.drop_table("switch_nodes")
