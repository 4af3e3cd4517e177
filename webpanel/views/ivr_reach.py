"""Which of the tenant's numbers lead to each IVR menu: directly, or through a schedule, a ring group's
or a user's forwarding, or another menu. Seven column queries, no export (the list stays fast)."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select

from fsctl import models
from webpanel.extensions import db

Node = tuple[str, int]  # ("user" | "ring_group" | "schedule" | "ivr", row id)


def _targets(tenant_id: int) -> dict[int, Node]:
    """destination id -> the node it hands the call to (voicemail, external, hangup end the call)."""
    d = models.Destination
    rows = db.session.execute(
        select(d.id, d.kind, d.user_id, d.ring_group_id, d.ivr_menu_id, d.schedule_id).where(
            d.tenant_id == tenant_id
        )
    )
    targets: dict[int, Node] = {}
    for dest_id, kind, user_id, group_id, menu_id, schedule_id in rows:
        by_kind = {"user": user_id, "ring_group": group_id, "ivr": menu_id, "schedule": schedule_id}
        row = by_kind.get(kind.value)
        if row is not None:
            targets[dest_id] = (kind.value, row)
    return targets


def _edges(tenant_id: int) -> tuple[dict[Node, list[int]], dict[Node, str]]:
    """node -> the destination ids it may pass a call on to; node -> its name (for labels)."""
    edges: dict[Node, list[int]] = defaultdict(list)
    names: dict[Node, str] = {}
    u, rg, s, m, o = models.User, models.RingGroup, models.Schedule, models.IvrMenu, models.IvrOption
    sources = [
        ("user", select(u.id, u.extension, u.forward_always_id, u.forward_busy_id, u.forward_no_answer_id,
                        u.forward_unregistered_id).where(u.tenant_id == tenant_id)),
        ("ring_group", select(rg.id, rg.name, rg.no_answer_id).where(rg.tenant_id == tenant_id)),
        ("schedule", select(s.id, s.name, s.open_destination_id, s.closed_destination_id)
         .where(s.tenant_id == tenant_id)),
        ("ivr", select(m.id, m.name, m.timeout_destination_id).where(m.tenant_id == tenant_id)),
    ]  # fmt: skip
    for kind, query in sources:
        for row_id, name, *dest_ids in db.session.execute(query):
            names[(kind, row_id)] = name
            edges[(kind, row_id)].extend(dest for dest in dest_ids if dest is not None)
    options = (
        select(o.ivr_menu_id, o.destination_id).join(m, m.id == o.ivr_menu_id).where(m.tenant_id == tenant_id)
    )
    for menu_id, dest_id in db.session.execute(options):
        edges[("ivr", menu_id)].append(dest_id)
    return edges, names


def numbers_by_menu(tenant_id: int) -> dict[int, list[tuple[models.Number, dict | None]]]:
    """menu id -> [(number, None if the number points at the menu itself, else where it points)]."""
    targets = _targets(tenant_id)
    edges, names = _edges(tenant_id)
    numbers = db.session.scalars(
        select(models.Number)
        .where(models.Number.tenant_id == tenant_id, models.Number.destination_id.is_not(None))
        .order_by(models.Number.national)
    )
    result: dict[int, list[tuple[models.Number, dict | None]]] = defaultdict(list)
    for number in numbers:
        start = targets.get(number.destination_id)
        if start is None:
            continue
        seen, todo = {start}, [start]
        while todo:
            node = todo.pop()
            for dest_id in edges.get(node, ()):
                following = targets.get(dest_id)
                if following is not None and following not in seen:
                    seen.add(following)
                    todo.append(following)
        via = {start[0]: names.get(start, "")}
        for kind, row_id in sorted(seen, key=lambda n: names.get(n, "")):
            if kind == "ivr":
                result[row_id].append((number, None if (kind, row_id) == start else via))
    return result
