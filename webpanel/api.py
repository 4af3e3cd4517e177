"""The JSON REST API (/api/v1): the same resources and the same validation as the panel's forms.

Bodies are the entries of the tenant file (fsctl.schemas: UserSchema, NumberSchema, RingGroupSchema,
ScheduleSchema); every write goes through webpanel.tenantdoc.save_tenant, i.e. the tenant file's apply.
Errors are JSON and name the field: {"errors": [{"field": "voicemail.pin", "message": "4 to 12 digits"}]};
a message with a changing part also has its `code` and `params` (a param naming another entry of the
document as its path, `users[0]`).
Resources are addressed by their natural key inside the token's tenant (extension, number, name), so
another tenant's objects cannot even be named.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, abort, g, jsonify, request
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from fsctl import models
from fsctl.queues.agents import set_agent_login
from fsctl.tenant_file import FieldError, Path, path_text
from fsctl.trace import TraceError, parse_at, trace
from webpanel.document_edits import (
    block_caller,
    matches_contact,
    number_destinations,
    release,
    rename_references,
    screening_of,
    set_destination,
    unblock_caller,
)
from webpanel.extensions import db
from webpanel.provisioning import generate_sip_password
from webpanel.queue_state import agent_rows, waiting_callers
from webpanel.schedule_override import DEFAULT, OverrideInputError, override_entry, set_override
from webpanel.tenantdoc import SaveRefused, current_document, save_tenant

bp = Blueprint("api", __name__, url_prefix="/api")
SECTIONS = {
    "users": ("users", "extension"),
    "ring-groups": ("ring_groups", "name"),
    "schedules": ("schedules", "name"),
    "ivr-menus": ("ivr_menus", "name"),
    "conference-rooms": ("conference_rooms", "number"),
    "call-queues": ("call_queues", "number"),
}
# What a renamed object of a section is called in destinations ({ring_group: NAME} ...).
RENAMED_KIND = {"ring-groups": "ring_group", "schedules": "schedule", "ivr-menus": "ivr"}


def error_response(status: int, errors: list[dict[str, str]]) -> Response:
    response = jsonify({"errors": errors})
    response.status_code = status
    return response


@bp.before_request
def _authenticate():
    if request.endpoint in ("api.openapi",):
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    row = None
    if scheme.lower() == "bearer" and token:
        digest = hashlib.sha256(token.strip().encode()).hexdigest()
        row = db.session.scalar(select(models.ApiToken).where(models.ApiToken.token_hash == digest))
    if row is None:
        response = jsonify(
            {"errors": [{"field": "Authorization", "message": "a valid bearer token is required"}]}
        )
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="kumo"'
        return response
    row.last_used_at = dt.datetime.now(dt.UTC)
    db.session.commit()
    g.api_token = row
    g.tenant = db.session.get(models.Tenant, row.tenant_id)
    return None


def _actor() -> str:
    return f"api:{g.api_token.name}#{g.api_token.id}"


def json_body() -> dict[str, Any]:
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        # silent=True only covers ValueError; JSON nested thousands deep is a 400, never a 500.
        body = None
    if not isinstance(body, dict):
        abort(error_response(400, [{"field": "(body)", "message": "a JSON object is required"}]))
    return body


def save_document(
    change: Callable[[dict], None], action: str, summary: str, prefix: Path, force: bool = False
):
    """Apply; None on success, else the 422 response naming each field relative to `prefix`."""
    try:
        save_tenant(g.tenant.id, change, actor=_actor(), action=action, summary=summary, force=force)
    except SaveRefused as refused:
        return error_response(422, [_error_body(error, prefix) for error in refused.errors])
    return None


def _error_body(error: FieldError, prefix: Path) -> dict[str, Any]:
    """One refusal as JSON: the field inside the resource, the English message, its code and params."""
    body: dict[str, Any] = {"field": _relative(error.path, prefix), "message": error.message}
    if error.code:
        body["code"] = error.code
        body["params"] = {
            key: path_text(value) if isinstance(value, tuple) else value
            for key, value in error.params.items()
        }
    return body


def _relative(path: Path, prefix: Path) -> str:
    """The error's field inside the resource ('voicemail.pin'); a path elsewhere stays whole."""
    if prefix == ("numbers",):
        # A number's entry may sit anywhere in the list: any numbers[N] is the resource.
        if len(path) >= 2 and path[0] == "numbers" and isinstance(path[1], int):
            return path_text(path[2:]) if path[2:] else "(body)"
        return path_text(path) if path else "(document)"
    if path == prefix:
        return "(body)"
    if prefix and path[: len(prefix)] == prefix:
        return path_text(path[len(prefix) :])
    return path_text(path) if path else "(document)"


def _find(items: list[dict], key: str, value: str) -> int:
    for index, item in enumerate(items):
        if item[key] == value:
            return index
    abort(error_response(404, [{"field": key, "message": f"no {key} {value!r} in this tenant"}]))


@bp.get("/v1/tenant")
def tenant_get():
    doc = current_document(g.tenant)
    keys = (
        "domain",
        "name",
        "status",
        "trial_started_on",
        "international_calls",
        "max_external_channels",
        "park",
        "language",
    )
    return jsonify({k: doc[k] for k in keys})


@bp.patch("/v1/tenant")
def tenant_patch():
    body = json_body()
    allowed = {"international_calls", "park", "language"}
    if unknown := sorted(set(body) - allowed):
        return error_response(422, [{"field": k, "message": "cannot be changed here"} for k in unknown])
    if failure := save_document(lambda d: d.update(body), "settings.update", "api", ()):
        return failure
    return tenant_get()


def _out(section: str, entry: dict) -> dict:
    """An entry as the API shows it: never a voicemail PIN (a read token must not open mailboxes)."""
    if section == "users" and isinstance(entry.get("voicemail"), dict) and "pin" in entry["voicemail"]:
        voicemail = {k: v for k, v in entry["voicemail"].items() if k != "pin"}
        entry = dict(entry, voicemail=voicemail)
    return entry


def _keep_pin(body: dict, stored: dict) -> None:
    """A replaced user keeps the PIN the client could not read, unless the body sets one (null removes it)."""
    pin = (stored.get("voicemail") or {}).get("pin")
    voicemail = body.setdefault("voicemail", {})
    if pin and isinstance(voicemail, dict) and "pin" not in voicemail:
        voicemail["pin"] = pin


def _list(section: str):
    name, _key = SECTIONS[section]
    return jsonify([_out(section, entry) for entry in current_document(g.tenant)[name]])


def _create(section: str):
    name, key = SECTIONS[section]
    body = json_body()
    doc = current_document(g.tenant)
    index = len(doc[name])
    generated = None
    if section == "users" and "password" not in body:
        generated = body["password"] = generate_sip_password()
    if failure := save_document(
        lambda d: d[name].append(body), f"{name[:-1]}.add", str(body.get(key)), (name, index)
    ):
        return failure
    entry = current_document(g.tenant)[name][index]
    if generated:
        entry = dict(entry, password=generated)  # returned this once; only its hash is kept
    return jsonify(_out(section, entry)), 201


def _get(section: str, value: str):
    name, key = SECTIONS[section]
    doc = current_document(g.tenant)
    return jsonify(_out(section, doc[name][_find(doc[name], key, value)]))


def _replace(section: str, value: str):
    name, key = SECTIONS[section]
    body = json_body()
    doc = current_document(g.tenant)
    index = _find(doc[name], key, value)
    body.setdefault(key, value)
    if section == "users":
        _keep_pin(body, doc[name][index])

    def change(document: dict) -> None:
        document[name][index] = body
        if body[key] != value and section in RENAMED_KIND:
            rename_references(document, RENAMED_KIND[section], value, body[key])

    # A new password alone does not change the exported document: save it all the same.
    if failure := save_document(
        change, f"{name[:-1]}.update", value, (name, index), force="password" in body
    ):
        return failure
    updated = current_document(g.tenant)[name]
    return jsonify(_out(section, updated[_find(updated, key, body[key])]))


def _delete(section: str, value: str):
    name, key = SECTIONS[section]
    doc = current_document(g.tenant)
    index = _find(doc[name], key, value)

    def change(document: dict) -> None:
        removed = document[name].pop(index)
        if section == "users" and removed.get("did"):
            # The did number stays with the tenant.
            document["numbers"].append({"number": removed["did"], "destination": None, "ivr_option": False})

    if failure := save_document(change, f"{name[:-1]}.remove", value, (name, index)):
        return failure
    return "", 204


for _section in SECTIONS:
    _ep = _section.replace("-", "_")
    bp.add_url_rule(f"/v1/{_section}", f"{_ep}_list", lambda s=_section: _list(s), methods=["GET"])
    bp.add_url_rule(f"/v1/{_section}", f"{_ep}_create", lambda s=_section: _create(s), methods=["POST"])
    bp.add_url_rule(
        f"/v1/{_section}/<value>", f"{_ep}_get", lambda value, s=_section: _get(s, value), methods=["GET"]
    )
    bp.add_url_rule(
        f"/v1/{_section}/<value>",
        f"{_ep}_replace",
        lambda value, s=_section: _replace(s, value),
        methods=["PUT"],
    )
    bp.add_url_rule(
        f"/v1/{_section}/<value>",
        f"{_ep}_delete",
        lambda value, s=_section: _delete(s, value),
        methods=["DELETE"],
    )


@bp.put("/v1/users/<extension>/do-not-disturb")
def users_do_not_disturb(extension: str):
    """Set or clear one user's do not disturb: {"do_not_disturb": true|false}."""
    body = json_body()
    value = body.get("do_not_disturb")
    if not isinstance(value, bool):
        return error_response(422, [{"field": "do_not_disturb", "message": "true or false is required"}])
    unknown = sorted(set(body) - {"do_not_disturb"})
    if unknown:
        return error_response(422, [{"field": unknown[0], "message": "unknown field"}])
    doc = current_document(g.tenant)
    index = _find(doc["users"], "extension", extension)

    def change(document: dict) -> None:
        document["users"][index]["do_not_disturb"] = value

    action = "user.do_not_disturb"
    if failure := save_document(change, action, f"{extension} {'on' if value else 'off'}", ("users", index)):
        return failure
    return jsonify(_out("users", current_document(g.tenant)["users"][index]))


def numbers_out(doc: dict) -> list[dict]:
    destinations = number_destinations(doc)
    rows = db.session.scalars(
        select(models.Number).where(models.Number.tenant_id == g.tenant.id).order_by(models.Number.national)
    )
    return [
        {
            "number": n.national,
            "e164": n.e164,
            "kind": n.kind.value,
            "destination": destinations.get(n.national),
        }
        for n in rows
    ]


@bp.get("/v1/numbers")
def numbers_list():
    return jsonify(numbers_out(current_document(g.tenant)))


@bp.get("/v1/numbers/available")
def numbers_available():
    prefix = request.args.get("prefix", "")
    query = select(models.Number.national).where(models.Number.tenant_id.is_(None))
    if prefix.isdigit():
        query = query.where(models.Number.national.like(f"{prefix}%"))
    return jsonify(list(db.session.scalars(query.order_by(models.Number.national).limit(100))))


@bp.post("/v1/numbers")
def numbers_claim():
    body = json_body()
    national = str(body.get("number", ""))
    if g.tenant.status != models.TenantStatus.ACTIVE:
        return error_response(
            409, [{"field": "number", "message": "numbers can be chosen once the account is active"}]
        )
    free = db.session.scalar(
        select(models.Number)
        .where(models.Number.national == national, models.Number.tenant_id.is_(None))
        .with_for_update()
    )
    if free is None:
        return error_response(
            422, [{"field": "number", "message": f"{national!r} is not a free number of the inventory"}]
        )
    if failure := save_document(
        lambda d: set_destination(d, national, body.get("destination")),
        "number.claim",
        national,
        ("numbers",),
    ):
        return failure
    return jsonify(next(n for n in numbers_out(current_document(g.tenant)) if n["number"] == national)), 201


def own_number(national: str) -> None:
    if (
        db.session.scalar(
            select(models.Number.id).where(
                models.Number.national == national, models.Number.tenant_id == g.tenant.id
            )
        )
        is None
    ):
        abort(
            error_response(
                404, [{"field": "number", "message": f"{national!r} is not a number of this tenant"}]
            )
        )


@bp.put("/v1/numbers/<national>")
def numbers_update(national: str):
    own_number(national)
    body = json_body()
    if failure := save_document(
        lambda d: set_destination(d, national, body.get("destination")),
        "number.update",
        national,
        ("numbers",),
    ):
        return failure
    return jsonify(next(n for n in numbers_out(current_document(g.tenant)) if n["number"] == national))


@bp.delete("/v1/numbers/<national>")
def numbers_release(national: str):
    own_number(national)
    if failure := save_document(lambda d: release(d, national), "number.release", national, ("numbers",)):
        return failure
    return "", 204


def _schedule_row(name: str) -> models.Schedule:
    row = db.session.scalar(
        select(models.Schedule).where(models.Schedule.tenant_id == g.tenant.id, models.Schedule.name == name)
    )
    if row is None:
        abort(error_response(404, [{"field": "name", "message": f"no name {name!r} in this tenant"}]))
    return row


@bp.put("/v1/schedules/<value>/override")
def schedule_override_set(value: str):
    """Force the schedule closed (臨時休業) or open (臨時営業): {"mode": "closed"|"open", "until": ISO}.

    `until` left out: until the regular hours next turn that way; null: until it is ended."""
    row = _schedule_row(value)
    body = json_body()
    if unknown := sorted(set(body) - {"mode", "until"}):
        return error_response(422, [{"field": k, "message": "unknown field"} for k in unknown])
    zone = g.tenant.timezone or "Asia/Tokyo"
    try:
        override = override_entry(
            row, body.get("mode"), body.get("until", DEFAULT), zone, dt.datetime.now(dt.UTC)
        )
    except OverrideInputError as error:
        return error_response(422, [{"field": error.field, "message": error.message}])
    doc = current_document(g.tenant)
    index = _find(doc["schedules"], "name", value)
    if failure := save_document(
        lambda d: set_override(d, value, override), "schedule.override.set", value, ("schedules", index)
    ):
        return failure
    return _get("schedules", value)


@bp.delete("/v1/schedules/<value>/override")
def schedule_override_end(value: str):
    """End the override now: the regular hours decide the very next call."""
    _schedule_row(value)
    doc = current_document(g.tenant)
    index = _find(doc["schedules"], "name", value)
    if failure := save_document(
        lambda d: set_override(d, value, None), "schedule.override.end", value, ("schedules", index)
    ):
        return failure
    return _get("schedules", value)


@bp.get("/v1/queue-agents")
def queue_agents_list():
    """Every agent of the tenant's queues: extension, name, queues, logged in or not."""
    return jsonify(agent_rows(db.session, g.tenant.id))


@bp.put("/v1/queue-agents/<extension>")
def queue_agent_login(extension: str):
    """Log an agent in or out of all their queues: {"logged_in": true|false} (as *51 / *52 do)."""
    body = json_body()
    value = body.get("logged_in")
    if not isinstance(value, bool):
        return error_response(422, [{"field": "logged_in", "message": "true or false is required"}])
    unknown = sorted(set(body) - {"logged_in"})
    if unknown:
        return error_response(422, [{"field": unknown[0], "message": "unknown field"}])
    if set_agent_login(db.session, g.tenant.id, extension, value, _actor()) is None:
        return error_response(
            404, [{"field": "extension", "message": f"{extension!r} is no agent of a queue of this tenant"}]
        )
    db.session.commit()
    rows = agent_rows(db.session, g.tenant.id)
    return jsonify(next(row for row in rows if row["extension"] == extension))


@bp.get("/v1/call-queues/<value>/callers")
def queue_callers(value: str):
    """The callers in one queue now, longest waiting first (the live view's rows)."""
    _find(current_document(g.tenant)["call_queues"], "number", value)
    return jsonify([row for row in waiting_callers(db.session, g.tenant) if row["queue"] == value])


@bp.get("/v1/phonebook")
def phonebook_list():
    """The shared phonebook in the tenant file's form; `?q=` keeps the entries a search matches."""
    query = request.args.get("q", "").strip()
    return jsonify([e for e in current_document(g.tenant)["phonebook"] if matches_contact(e, query)])


@bp.post("/v1/phonebook")
def phonebook_add():
    body = json_body()
    index = len(current_document(g.tenant)["phonebook"])
    summary = str(body.get("name", ""))[:100]
    if failure := save_document(
        lambda d: d["phonebook"].append(body), "phonebook.add", summary, ("phonebook", index)
    ):
        return failure
    return jsonify(current_document(g.tenant)["phonebook"][index]), 201


@bp.put("/v1/phonebook")
def phonebook_replace():
    """The whole phonebook at once (a JSON list of entries): what a sync from another directory sends."""
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        body = None
    if not isinstance(body, list):
        return error_response(400, [{"field": "(body)", "message": "a JSON list of entries is required"}])

    def change(document: dict) -> None:
        document["phonebook"] = body

    if failure := save_document(change, "phonebook.replace", f"{len(body)} entries", ("phonebook",)):
        return failure
    return jsonify(current_document(g.tenant)["phonebook"])


# --- Caller screening: 非通知拒否 per number and user, the blocklist (the file's `screening:`) ---------
SCREENING = ("screening",)


def _screening_out() -> Response:
    return jsonify(screening_of(current_document(g.tenant)))


@bp.get("/v1/screening")
def screening_get():
    """The tenant's screening: `anonymous` {numbers, users} -> refused kinds, and the `blocklist`."""
    return _screening_out()


@bp.put("/v1/screening")
def screening_put():
    """Replace the whole screening (the tenant file's `screening:` section)."""
    body = json_body()

    def change(doc: dict) -> None:
        doc["screening"] = body

    if failure := save_document(change, "screening.update", "screening", SCREENING):
        return failure
    return _screening_out()


@bp.post("/v1/screening/blocklist")
def screening_block():
    """Add a caller to the blocklist: {"caller": "0312345678" or "03123*", "action": "announce" | "reject",
    "note": "..."}; a caller already listed gets the new action and note."""
    body = json_body()
    caller = body.get("caller")
    if not isinstance(caller, str) or not caller.strip():
        return error_response(
            422, [{"field": "caller", "message": "a number, or the first digits followed by *"}]
        )
    action, note = body.get("action", "announce"), body.get("note", "")

    def change(doc: dict) -> None:
        block_caller(doc, caller.strip(), action, note)

    if failure := save_document(change, "screening.block", caller.strip(), SCREENING):
        return failure
    return _screening_out(), 201


@bp.delete("/v1/screening/blocklist/<path:caller>")
def screening_unblock(caller: str):
    """Take a caller (as listed, `03123*` for a prefix) off the blocklist."""
    if not any(e["caller"] == caller for e in screening_of(current_document(g.tenant))["blocklist"]):
        return error_response(404, [{"field": "caller", "message": f"{caller} is not on the blocklist"}])
    if failure := save_document(lambda d: unblock_caller(d, caller), "screening.unblock", caller, SCREENING):
        return failure
    return _screening_out()


@bp.get("/v1/trace")
def trace_call():
    """What happens to a call (from, to, at = the tenant's wall clock, e.g. 2026-12-31 20:00)."""
    try:
        plan = trace(
            sessionmaker(db.engine),
            g.tenant.domain,
            request.args.get("from", "09012345678"),
            request.args.get("to", ""),
            parse_at(request.args.get("at")),
        )
    except TraceError as exc:
        return error_response(422, [{"field": "at", "message": str(exc)}])
    return jsonify(plan.to_dict())


@bp.get("/openapi.json")
def openapi():
    from webpanel.openapi import openapi_document

    return jsonify(openapi_document())
