"""Ring back the phone that parked a call when the call waited too long in its slot.

mod_valet_parking has no such timeout (its token `timeout` only guards the hand-over of an `auto in`
park), so the service does it: a parked call older than the limit, whose parker is known, is sent to
`kumo-parkreturn-<parker>-<slot>` in its tenant's context (fsctl.routing: ring the parker, then park
again). The transfer ends the valet hold (its `exit` event removes the row); `rang_back_at` makes it
happen once per parking even when the switch is slow to report. The commands go to the node that
holds the parked call (its row's `node`; fsctl.esl.nodes).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from sqlalchemy import Engine, select, update

from fsctl.esl.state import PARK, TENANT, lot_domain
from fsctl.periodic import PeriodicJob

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 120.0


class ParkTimeouts:
    def __init__(
        self,
        engine: Engine,
        send_api: Callable[[str, str], object],
        *,
        timeout: float = DEFAULT_TIMEOUT,
        interval: float = 5.0,
        clock: Callable[[], dt.datetime] | None = None,
    ):
        self.engine = engine
        self.send_api = send_api
        self.timeout = timeout
        self.interval = interval
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._job = PeriodicJob("park ring-back", interval, self.check_once, quiet=True)

    def due(self) -> list:
        cutoff = self.clock() - dt.timedelta(seconds=self.timeout)
        with self.engine.connect() as conn:
            return conn.execute(
                select(
                    PARK.c.id,
                    PARK.c.uuid,
                    PARK.c.slot,
                    PARK.c.lot,
                    PARK.c.parked_by,
                    PARK.c.tenant_id,
                    PARK.c.node,
                    TENANT.c.domain,
                )
                .join(TENANT, TENANT.c.id == PARK.c.tenant_id)
                .where(PARK.c.rang_back_at.is_(None), PARK.c.parked_by != "", PARK.c.since < cutoff)
            ).all()

    def check_once(self) -> int:
        """Send back every call parked too long; returns how many were sent."""
        sent = 0
        for row in self.due():
            if lot_domain(row.lot) != row.domain or not row.parked_by.isdigit() or not row.slot.isdigit():
                continue
            with self.engine.begin() as conn:
                claimed = conn.execute(
                    update(PARK)
                    .where(PARK.c.id == row.id, PARK.c.rang_back_at.is_(None))
                    .values(rang_back_at=self.clock())
                ).rowcount
            if not claimed:
                continue
            self.send_api(f"api uuid_setvar {row.uuid} kumo_continuation {row.tenant_id}/", row.node)
            self.send_api(
                f"api uuid_transfer {row.uuid} kumo-parkreturn-{row.parked_by}-{row.slot} XML {row.domain}",
                row.node,
            )
            log.info("call parked in %s of %s too long: ringing %s", row.slot, row.domain, row.parked_by)
            sent += 1
        return sent

    def start(self) -> None:
        self._job.start()

    def stop(self) -> None:
        self._job.stop()
