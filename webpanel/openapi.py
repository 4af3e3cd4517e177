"""The OpenAPI 3 document of /api/v1, its schemas generated from fsctl's marshmallow schemas."""

from __future__ import annotations

import functools
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from fsctl import schemas
from fsctl.conference.config import RoomSchema
from fsctl.phonebook.config import EntrySchema
from fsctl.queues.config import QueueSchema
from fsctl.screening.schema import ScreeningSchema
from fsctl.wiring import tenant_file
from webpanel.openapi_fax import add_fax_paths

_ERRORS = {
    "type": "object",
    "properties": {
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                    # A message with a changing part: what it says, for a client's own wording.
                    "code": {"type": "string"},
                    "params": {"type": "object"},
                },
                "required": ["field", "message"],
            },
        }
    },
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _responses(ok: dict[str, Any] | None, code: str = "200") -> dict[str, Any]:
    responses: dict[str, Any] = {
        "401": {"description": "missing or wrong token", **_json(_ref("Errors"))},
        "404": {"description": "not an object of this tenant", **_json(_ref("Errors"))},
        "422": {"description": "refused; each error names the field", **_json(_ref("Errors"))},
    }
    responses[code] = {"description": "ok", **(_json(ok) if ok else {})}
    return responses


def _collection(spec: APISpec, path: str, schema: str, key: str, tag: str) -> None:
    item = _ref(schema)
    spec.path(
        path=f"/api/v1/{path}",
        operations={
            "get": {
                "tags": [tag],
                "summary": f"list {tag}",
                "responses": _responses({"type": "array", "items": item}),
            },
            "post": {
                "tags": [tag],
                "summary": f"add one of {tag}",
                "requestBody": _json(item),
                "responses": _responses(item, "201"),
            },
        },
    )
    parameter = {
        "name": "value",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
        "description": key,
    }
    spec.path(
        path=f"/api/v1/{path}/{{value}}",
        parameters=[parameter],
        operations={
            "get": {"tags": [tag], "summary": f"one of {tag} by {key}", "responses": _responses(item)},
            "put": {
                "tags": [tag],
                "summary": "replace it",
                "requestBody": _json(item),
                "responses": _responses(item),
            },
            "delete": {"tags": [tag], "summary": "remove it", "responses": _responses(None, "204")},
        },
    )


def _call_queues(spec: APISpec) -> None:
    """The call queues (a collection by number), their agents' login and the callers waiting."""
    spec.components.schema("CallQueue", schema=QueueSchema)
    _collection(spec, "call-queues", "CallQueue", "number", "call queues")
    agent = {
        "type": "object",
        "properties": {
            "extension": {"type": "string"},
            "name": {"type": "string"},
            "queues": {"type": "array", "items": {"type": "string"}},
            "logged_in": {"type": "boolean"},
        },
    }
    spec.path(
        path="/api/v1/queue-agents",
        operations={
            "get": {
                "tags": ["call queues"],
                "summary": "the agents of the tenant's queues and whether they are logged in",
                "responses": _responses({"type": "array", "items": agent}),
            }
        },
    )
    spec.path(
        path="/api/v1/queue-agents/{extension}",
        parameters=[{"name": "extension", "in": "path", "required": True, "schema": {"type": "string"}}],
        operations={
            "put": {
                "tags": ["call queues"],
                "summary": "log an agent in or out of all their queues (as *51 / *52 from the phone)",
                "requestBody": _json(
                    {
                        "type": "object",
                        "required": ["logged_in"],
                        "properties": {"logged_in": {"type": "boolean"}},
                    }
                ),
                "responses": _responses(agent),
            }
        },
    )
    caller = {
        "type": "object",
        "properties": {
            "queue": {"type": "string"},
            "caller": {"type": "string"},
            "name": {"type": "string"},
            "since": {"type": "string", "format": "date-time"},
            "waiting_seconds": {"type": "integer"},
            "agent": {
                "type": "string",
                "nullable": True,
                "description": "the agent talking to them, once answered",
            },
        },
    }
    spec.path(
        path="/api/v1/call-queues/{value}/callers",
        parameters=[{"name": "value", "in": "path", "required": True, "schema": {"type": "string"}}],
        operations={
            "get": {
                "tags": ["call queues"],
                "summary": "the callers in the queue now, longest waiting first",
                "responses": _responses({"type": "array", "items": caller}),
            }
        },
    )


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The document served at /api/openapi.json."""
    spec = APISpec(
        title="kumo tenant API",
        version="1",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={
            "description": "Send `Authorization: Bearer <token>` (tokens are made in the panel's API page)."
        },
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.schema("User", schema=tenant_file().schema.user_schema)
    spec.components.schema("RingGroup", schema=schemas.RingGroupSchema)
    spec.components.schema("Override", schema=schemas.OverrideSchema)
    spec.components.schema("Schedule", schema=schemas.ScheduleSchema)
    spec.components.schema("IvrMenu", schema=schemas.IvrMenuSchema)
    spec.components.schema("NumberEntry", schema=schemas.NumberSchema)
    spec.components.schema("Errors", _ERRORS)
    # Registers its nested AnonymousSchema and BlockedCallerSchema as "Anonymous" and "BlockedCaller".
    spec.components.schema("Screening", schema=ScreeningSchema)
    _collection(spec, "users", "User", "extension", "users")
    _collection(spec, "ring-groups", "RingGroup", "name", "ring groups")
    spec.path(
        path="/api/v1/users/{extension}/do-not-disturb",
        parameters=[{"name": "extension", "in": "path", "required": True, "schema": {"type": "string"}}],
        operations={
            "put": {
                "tags": ["users"],
                "summary": "set or clear do not disturb (the phone does not ring; calls follow the busy forward)",
                "requestBody": _json(
                    {
                        "type": "object",
                        "required": ["do_not_disturb"],
                        "properties": {"do_not_disturb": {"type": "boolean"}},
                    }
                ),
                "responses": _responses(_ref("User")),
            }
        },
    )
    _collection(spec, "schedules", "Schedule", "name", "schedules")
    _collection(spec, "ivr-menus", "IvrMenu", "name", "IVR menus")
    spec.components.schema("ConferenceRoom", schema=RoomSchema)
    spec.components.schema("PhonebookEntry", schema=EntrySchema)
    _collection(spec, "conference-rooms", "ConferenceRoom", "number", "conference rooms")
    _call_queues(spec)
    entries = {"type": "array", "items": _ref("PhonebookEntry")}
    spec.path(
        path="/api/v1/phonebook",
        operations={
            "get": {
                "tags": ["phonebook"],
                "summary": "the shared phonebook (?q= to search)",
                "responses": _responses(entries),
            },
            "post": {
                "tags": ["phonebook"],
                "summary": "add a contact",
                "requestBody": _json(_ref("PhonebookEntry")),
                "responses": _responses(_ref("PhonebookEntry"), "201"),
            },
            "put": {
                "tags": ["phonebook"],
                "summary": "replace the whole phonebook",
                "requestBody": _json(entries),
                "responses": _responses(entries),
            },
        },
    )
    number = _ref("NumberEntry")
    tenant = {
        "type": "object",
        "properties": {
            "domain": {"type": "string"},
            "name": {"type": "string"},
            "status": {"type": "string", "enum": ["trial", "active", "suspended"]},
            "trial_started_on": {"type": "string", "format": "date"},
            "international_calls": {"type": "boolean"},
            "max_external_channels": {"type": "integer", "readOnly": True},
            "park": {"type": "object", "nullable": True, "properties": {"slots": {"type": "string"}}},
            "language": {"type": "string", "enum": list(schemas.LANGUAGES)},
        },
    }
    spec.path(
        path="/api/v1/tenant",
        operations={
            "get": {
                "tags": ["tenant"],
                "summary": "status and calling settings",
                "responses": _responses(tenant),
            },
            "patch": {
                "tags": ["tenant"],
                "summary": "change international_calls, park and/or language (what callers hear)",
                "requestBody": _json(
                    {
                        "type": "object",
                        "properties": {
                            "international_calls": {"type": "boolean"},
                            "park": {"type": "object", "nullable": True},
                            "language": {"type": "string", "enum": list(schemas.LANGUAGES)},
                        },
                    }
                ),
                "responses": _responses(tenant),
            },
        },
    )
    spec.path(
        path="/api/v1/numbers",
        operations={
            "get": {
                "tags": ["numbers"],
                "summary": "the tenant's numbers",
                "responses": _responses({"type": "array", "items": number}),
            },
            "post": {
                "tags": ["numbers"],
                "summary": "claim a free number (active tenants)",
                "requestBody": _json(number),
                "responses": _responses(number, "201"),
            },
        },
    )
    spec.path(
        path="/api/v1/numbers/available",
        operations={
            "get": {
                "tags": ["numbers"],
                "summary": "free numbers of the inventory (?prefix=03)",
                "responses": _responses({"type": "array", "items": {"type": "string"}}),
            }
        },
    )
    spec.path(
        path="/api/v1/numbers/{national}",
        parameters=[{"name": "national", "in": "path", "required": True, "schema": {"type": "string"}}],
        operations={
            "put": {
                "tags": ["numbers"],
                "summary": "set where it rings",
                "requestBody": _json(number),
                "responses": _responses(number),
            },
            "delete": {
                "tags": ["numbers"],
                "summary": "release it to the inventory",
                "responses": _responses(None, "204"),
            },
        },
    )
    spec.path(
        path="/api/v1/schedules/{value}/override",
        parameters=[{"name": "value", "in": "path", "required": True, "schema": {"type": "string"}}],
        operations={
            "put": {
                "tags": ["schedules"],
                "summary": "force it closed (temporary closure) or open (extra opening); until left out:"
                " until the regular hours next turn that way, null: until ended",
                "requestBody": _json(_ref("Override")),
                "responses": _responses(_ref("Schedule")),
            },
            "delete": {
                "tags": ["schedules"],
                "summary": "end the override now",
                "responses": _responses(_ref("Schedule")),
            },
        },
    )
    spec.path(
        path="/api/v1/screening",
        operations={
            "get": {
                "tags": ["screening"],
                "summary": "非通知拒否 per number and user, and the blocklist",
                "responses": _responses(_ref("Screening")),
            },
            "put": {
                "tags": ["screening"],
                "summary": "replace the whole screening",
                "requestBody": _json(_ref("Screening")),
                "responses": _responses(_ref("Screening")),
            },
        },
    )
    spec.path(
        path="/api/v1/screening/blocklist",
        operations={
            "post": {
                "tags": ["screening"],
                "summary": "block a caller (a number, or digits followed by * for a prefix)",
                "requestBody": _json(_ref("BlockedCaller")),
                "responses": _responses(_ref("Screening"), "201"),
            }
        },
    )
    spec.path(
        path="/api/v1/screening/blocklist/{caller}",
        parameters=[{"name": "caller", "in": "path", "required": True, "schema": {"type": "string"}}],
        operations={
            "delete": {
                "tags": ["screening"],
                "summary": "take a caller off the blocklist",
                "responses": _responses(_ref("Screening")),
            }
        },
    )
    spec.path(
        path="/api/v1/trace",
        operations={
            "get": {
                "tags": ["trace"],
                "summary": "what happens to a call",
                "parameters": [
                    {"name": n, "in": "query", "required": n == "to", "schema": {"type": "string"}}
                    for n in ("from", "to", "at")
                ],
                "responses": _responses({"type": "object"}),
            }
        },
    )
    add_fax_paths(spec, _responses, _json)
    document = spec.to_dict()
    document["security"] = [{"bearer": []}]
    return document
