"""The tenant file's `conference_rooms:` section (a fsctl.tenant_file Section).

A room's number lives in the tenant's numbering beside the extensions and park slots, so it may be
none of them. The file stays the whole truth: rooms it no longer lists are removed.
"""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from fsctl import models
from fsctl.schemas import EXTENSION
from fsctl.tenant_file import ApplyContext, Document, FieldError, Known, SchemaPart, Section
from fsctl.tenant_file.check import own_number_errors

PIN = validate.Regexp(r"^[0-9]{4,8}$", error="4 to 8 digits")
MAX_MEMBERS = (2, 100)
DEFAULT_MAX_MEMBERS = 10


class RoomSchema(Schema):
    """One room: its number, a name people know it by, an optional PIN and a cap on members."""

    class Meta:
        unknown = RAISE

    number = fields.String(required=True, validate=EXTENSION)
    name = fields.String(validate=validate.Length(0, 100), load_default="")
    pin = fields.String(validate=PIN, load_default=None, allow_none=True)
    max_members = fields.Integer(
        validate=validate.Range(*MAX_MEMBERS, error="from 2 to 100 members"), load_default=DEFAULT_MAX_MEMBERS
    )


def room_errors(data: Document) -> list[FieldError]:
    """A room number used twice, or also an extension or a park slot of the tenant."""
    return own_number_errors(data, "conference_rooms", "room")


def _rooms(session: Session, tenant_id: int) -> dict[str, models.ConferenceRoom]:
    query = select(models.ConferenceRoom).where(models.ConferenceRoom.tenant_id == tenant_id)
    return {room.number: room for room in session.scalars(query)}


def apply_rooms(session: Session, tenant: models.Tenant, specs: list[dict[str, Any]]) -> None:
    """Make the tenant's rooms what `specs` says, writing only what differs."""
    existing = _rooms(session, tenant.id)
    wanted = {spec["number"] for spec in specs}
    for number, room in existing.items():
        if number not in wanted:
            session.delete(room)
    for spec in specs:
        room = existing.get(spec["number"])
        if room is None:
            room = models.ConferenceRoom(tenant_id=tenant.id, number=spec["number"])
            session.add(room)
        for key in ("name", "pin", "max_members"):
            if getattr(room, key) != spec[key]:
                setattr(room, key, spec[key])


def export_rooms(tenant: models.Tenant) -> list[dict[str, Any]]:
    """The tenant's rooms in the file's format, by number."""
    session = object_session(tenant)
    if session is None or tenant.id is None:
        return []
    rooms = sorted(_rooms(session, tenant.id).values(), key=lambda r: r.number)
    return [{"number": r.number, "name": r.name, "pin": r.pin, "max_members": r.max_members} for r in rooms]


class RoomSection(Section):
    """Conference rooms: number, name, PIN, members."""

    name = "conference_rooms"

    def schema(self) -> SchemaPart:
        return SchemaPart(top={"conference_rooms": fields.List(fields.Nested(RoomSchema), load_default=list)})

    def check(self, data: Document, known: Known) -> list[FieldError]:
        return room_errors(data)

    def apply(self, context: ApplyContext, tenant: models.Tenant) -> None:
        apply_rooms(context.session, tenant, context.data.get("conference_rooms", []))

    def export(self, tenant: models.Tenant, document: Document) -> None:
        document["conference_rooms"] = export_rooms(tenant)
