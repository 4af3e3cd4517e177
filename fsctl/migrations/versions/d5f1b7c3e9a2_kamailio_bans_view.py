"""kamailio_bans: kumo's IP-wide bans, as Kamailio reads them per initial request

Kamailio (kamailio/kamailio.cfg, route BANNED) refuses every initial request from an address with
an active IP-wide ban: `SELECT ip FROM kamailio_bans WHERE ip = ... AND until > now`. Only
IP-wide bans (domain = username = '') are in the view: a user+IP ban names a digest account, which
the node's directory refuses as before. The lookup is a search of security_bans' unique
(ip, domain, username) index on all three columns.

Revision ID: d5f1b7c3e9a2
Revises: c3e8a1f5d7b4
Create Date: 2026-12-07 22:55:00
"""

from __future__ import annotations

from alembic import op

revision = "d5f1b7c3e9a2"
down_revision = "c3e8a1f5d7b4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # `until` is epoch seconds (security_bans.until), compared with Kamailio's $TS.
    op.execute(
        "CREATE VIEW kamailio_bans (ip, until) AS"
        " SELECT ip, until FROM security_bans WHERE domain = '' AND username = ''"
    )


def downgrade() -> None:
    op.execute("DROP VIEW kamailio_bans")
