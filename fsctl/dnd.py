"""Setting a user's do not disturb: one function for the phone's feature code, the panel and the API.

The flag is routing configuration: the flush bumps the tenant's config_version (fsctl.db), so the
very next lookup routes with it, in every serving process.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from fsctl import models

log = logging.getLogger(__name__)


def set_do_not_disturb(session: Session, tenant_id: int, extension: str, on: bool, actor: str) -> bool | None:
    """Set the user's do not disturb; True when it changed, False when it already was so, None for
    no such user. The caller commits."""
    user = session.scalar(
        select(models.User).where(models.User.tenant_id == tenant_id, models.User.extension == extension)
    )
    if user is None:
        return None
    if user.do_not_disturb == on:
        return False
    user.do_not_disturb = on
    session.add(
        models.AuditEntry(
            actor=actor[:120],
            tenant_id=tenant_id,
            action="user.do_not_disturb",
            detail=f"{extension} {'on' if on else 'off'}",
        )
    )
    log.info("do not disturb %s for %s of tenant %s (%s)", "on" if on else "off", extension, tenant_id, actor)
    return True
