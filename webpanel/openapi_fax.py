"""The OpenAPI paths of FAX to e-mail (webpanel.api_fax), added to the document webpanel.openapi builds."""

from __future__ import annotations

from typing import Any

from apispec import APISpec

FAX = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "received_at": {"type": "string", "format": "date-time"},
        "number": {"type": "string", "description": "the tenant's fax number it came to"},
        "sender": {"type": "string", "description": "the caller's number (empty when withheld)"},
        "remote_station_id": {"type": "string"},
        "pages": {"type": "integer"},
        "success": {"type": "boolean"},
        "result_code": {"type": "integer"},
        "result_text": {"type": "string", "description": "why it failed (mod_spandsp's T.30 result)"},
        "t38": {"type": "boolean"},
        "pdf": {"type": "boolean", "description": "whether a PDF can be downloaded"},
        "mailed_to": {"type": "array", "items": {"type": "string"}},
        "mailed_at": {"type": "string", "format": "date-time", "nullable": True},
        "mail_error": {"type": "string", "description": "why it was not mailed"},
    },
}
FAX_SETTING = {
    "type": "object",
    "properties": {
        "emails": {"type": "array", "items": {"type": "string", "format": "email"}, "maxItems": 5}
    },
}


def _id(name: str, description: str) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "string"},
            "description": description,
        }
    ]


def add_fax_paths(spec: APISpec, responses, json) -> None:
    """/v1/faxes (list, one, its PDF, delete) and /v1/numbers/{national}/fax (get, set, clear)."""
    tag = ["fax"]
    spec.path(
        path="/api/v1/faxes",
        operations={
            "get": {
                "tags": tag,
                "summary": "received faxes, newest first",
                "responses": responses({"type": "array", "items": FAX}),
            }
        },
    )
    spec.path(
        path="/api/v1/faxes/{fax_id}",
        parameters=_id("fax_id", "the fax's id"),
        operations={
            "get": {"tags": tag, "summary": "one fax", "responses": responses(FAX)},
            "delete": {
                "tags": tag,
                "summary": "delete the fax and its PDF",
                "responses": responses(None, "204"),
            },
        },
    )
    pdf = responses(None)
    pdf["200"] = {
        "description": "the fax as PDF",
        "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
    }
    spec.path(
        path="/api/v1/faxes/{fax_id}/pdf",
        parameters=_id("fax_id", "the fax's id"),
        operations={"get": {"tags": tag, "summary": "the fax's PDF", "responses": pdf}},
    )
    number = {"type": "object", "description": "the number (as /v1/numbers) with `fax`: {emails} or null"}
    spec.path(
        path="/api/v1/numbers/{national}/fax",
        parameters=_id("national", "one of the tenant's numbers, national form"),
        operations={
            "get": {
                "tags": tag,
                "summary": "whether the number receives faxes",
                "responses": responses(number),
            },
            "put": {
                "tags": tag,
                "summary": "make it a fax number mailing each fax as PDF to `emails` (its destination is cleared)",
                "requestBody": json(FAX_SETTING),
                "responses": responses(number),
            },
            "delete": {
                "tags": tag,
                "summary": "stop receiving faxes on it",
                "responses": responses(None, "204"),
            },
        },
    )
