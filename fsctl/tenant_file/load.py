"""Loading a whole tenant for the tenant file's apply and export: one query per table."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import MANYTOONE, Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from fsctl import models

# The tenant's collections load_tenant fills (and an apply expires once it has appended to them).
COLLECTIONS = {"users", "numbers", "destinations", "ring_groups", "schedules", "ivr_menus", "park_ranges"}


def load_tenant(session: Session, *where: Any, fresh: bool = False) -> models.Tenant | None:
    """The tenant with everything apply and export read: one query per table.

    `fresh`: rows already in the session are read again too (populate_existing), so every row returned
    is at least as new as the tenant's config_version read by the same call.

    Collections come from selectin loads; the many-to-one references between the rows loaded (a
    forward's destination, a destination's user, a member's user) are then linked in memory
    (_link_references). Loading those with more selectin loads read every user and destination twice,
    and resolving them lazily costs ~20 us each: both were most of a 1,000-user export.
    """
    tenant_cls = models.Tenant
    options = (
        selectinload(tenant_cls.users),
        selectinload(tenant_cls.numbers),
        selectinload(tenant_cls.destinations),
        selectinload(tenant_cls.ring_groups).selectinload(models.RingGroup.members),
        selectinload(tenant_cls.schedules).selectinload(models.Schedule.periods),
        selectinload(tenant_cls.schedules).selectinload(models.Schedule.closures),
        selectinload(tenant_cls.ivr_menus).selectinload(models.IvrMenu.options),
        selectinload(tenant_cls.park_ranges),
    )
    query = select(tenant_cls).where(*where).options(*options)
    if fresh:
        query = query.execution_options(populate_existing=True)
    tenant = session.scalar(query)
    if tenant is not None:
        _link_references(tenant)
    return tenant


def _link_references(tenant: models.Tenant) -> None:
    """Set every not yet loaded many-to-one reference among the tenant's loaded rows, as a lazy load
    would (same foreign key, same object), without its per-row cost. Unknown targets stay lazy."""
    by_class: dict[type, dict[int, Any]] = {models.Tenant: {tenant.id: tenant}}
    rows: list[Any] = []
    for name in ("users", "numbers", "destinations", "ring_groups", "schedules", "ivr_menus"):
        collection = getattr(tenant, name)
        rows.extend(collection)
        if collection:
            by_class[type(collection[0])] = {row.id: row for row in collection}
    for group in tenant.ring_groups:
        rows.extend(group.members)
    for menu in tenant.ivr_menus:
        rows.extend(menu.options)
    for row in rows:
        state = inspect(row)
        for key, fk, target in _many_to_one(type(row)):
            if key in state.dict or fk not in state.dict or target not in by_class:
                continue
            value = state.dict[fk]
            if value is None:
                set_committed_value(row, key, None)
            elif (found := by_class[target].get(value)) is not None:
                set_committed_value(row, key, found)


_MANY_TO_ONE: dict[type, list[tuple[str, str, type]]] = {}


def _many_to_one(cls: type) -> list[tuple[str, str, type]]:
    """(relationship, its one foreign key attribute, target class) for each simple many-to-one of cls."""
    found = _MANY_TO_ONE.get(cls)
    if found is None:
        mapper = inspect(cls)
        found = []
        for rel in mapper.relationships:
            if rel.direction is MANYTOONE and len(rel.local_columns) == 1:
                (column,) = rel.local_columns
                found.append((rel.key, mapper.get_property_by_column(column).key, rel.mapper.class_))
        _MANY_TO_ONE[cls] = found
    return found
