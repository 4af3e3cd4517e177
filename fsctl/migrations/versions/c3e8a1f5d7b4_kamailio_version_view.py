"""kamailio_version: the table-version lookup Kamailio's dispatcher makes before it reads its table

Kamailio checks the layout version of every table a module loads from the database
(srdb1 db_table_version) in its `version` table; kamailio/kamailio.cfg names this view instead
(`version_table`), so kumo's database needs no Kamailio table. The dispatcher module reads
kamailio_dispatcher (the nodes' view) with the 5-column layout of its version 4
(setid, destination, flags, priority, attrs: dispatcher's dispatch.c, DS_TABLE_VERSION4).

Revision ID: c3e8a1f5d7b4
Revises: 29e01016cc62, b3e8d1f5a9c7
Create Date: 2026-12-07 21:45:00
"""

from __future__ import annotations

from alembic import op

revision = "c3e8a1f5d7b4"
# Also joins the two heads of branches nodes and eslmulti (the lead re-chains at merge).
down_revision = ("29e01016cc62", "b3e8d1f5a9c7")
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A view, not a table: nothing to keep in step with the models, and read-only for Kamailio.
    # The version is an integer literal: Kamailio refuses a version column of another type.
    op.execute("CREATE VIEW kamailio_version (table_name, table_version) AS SELECT 'kamailio_dispatcher', 4")


def downgrade() -> None:
    op.execute("DROP VIEW kamailio_version")
