"""The switch nodes of a cluster behind Kamailio, and which node each tenant lives on.

A tenant lives on one FreeSWITCH node at a time (`tenants.node_id`): park lots, pickup groups,
`limit` counters and valet state are node-local in FreeSWITCH, so all of a tenant's calls must meet
on one switch. No node at all (every `node_id` NULL) is the single-switch platform kumo always was.
Kamailio reads the placement through the SQL views the `switch_nodes` migration creates
(`kamailio_*`, see fsctl.cluster); it never reads these tables.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from fsctl.models.base import Base, utc_now


class NodeState(enum.StrEnum):
    ACTIVE = "active"  # serves its tenants and takes new ones
    DRAINING = "draining"  # keeps its tenants, takes no new ones


class SwitchNode(Base):
    """One FreeSWITCH node; `name` is its `switchname` (events carry it as FreeSWITCH-Switchname)."""

    __tablename__ = "switch_nodes"
    # Not tenant configuration: a node changing never empties the lookup caches (fsctl.db).
    __tenant_config__ = False
    __table_args__ = (CheckConstraint("state IN ('active', 'draining')", name="state_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    # host:port of the node's `internal` profile (phones) and of its `carrier` profile.
    sip_address: Mapped[str] = mapped_column(String(255))
    carrier_address: Mapped[str] = mapped_column(String(255))
    # host:port of its event socket, for `fsctl nodes status` and `move --resync-phones` (the
    # service connects to FSCTL_ESL_ADDRESS).
    esl_address: Mapped[str] = mapped_column(String(255), default="", server_default="")
    state: Mapped[str] = mapped_column(String(16), default=NodeState.ACTIVE.value)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
