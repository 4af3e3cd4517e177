"""One CDR post (mod_json_cdr JSON or mod_xml_cdr XML) -> one validated, flat `Leg`.

Both modules describe a leg the same way: `variables` (channel variables) and one `callflow` per
dialplan hunt, each with a `caller_profile` (context, destination_number, ...) and, on a B leg, the
`originator` caller profiles of the A leg. mod_xml_cdr url-encodes variable values
(switch_ivr_generate_xml_cdr); mod_json_cdr with encode-values=false does not.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, unquote_plus

from lxml import etree
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

_UUID = re.compile(r"^[0-9A-Za-z-]{8,64}$")


class CdrError(ValueError):
    """A post that is not a usable CDR; the message is the reason kept with the rejected body."""


class CdrTooDeep(CdrError):
    """JSON nested deeper than Python's parser recurses: never a switch's CDR."""


@dataclass(frozen=True)
class Profile:
    context: str
    destination: str
    caller: str
    uuid: str = ""


@dataclass(frozen=True)
class Leg:
    """What kumo keeps of one leg, before classification."""

    uuid: str
    is_b_leg: bool
    variables: dict[str, str]
    first: Profile  # the first dialplan hunt of this leg (what was dialled)
    originator: Profile | None  # the A leg's first profile, on a B leg
    started_at: dt.datetime
    answered_at: dt.datetime | None
    ended_at: dt.datetime | None
    duration: int
    billsec: int
    hangup_cause: str
    extra: dict[str, Any] = field(default_factory=dict)


class _TimesSchema(Schema):
    """The numeric variables kumo relies on; FreeSWITCH sends them as decimal strings."""

    class Meta:
        unknown = EXCLUDE

    uuid = fields.String(required=True, validate=validate.Regexp(_UUID))
    start_uepoch = fields.Integer(required=True, validate=validate.Range(min=1))
    answer_uepoch = fields.Integer(load_default=0, validate=validate.Range(min=0))
    end_uepoch = fields.Integer(load_default=0, validate=validate.Range(min=0))
    duration = fields.Integer(load_default=0, validate=validate.Range(min=0))
    billsec = fields.Integer(load_default=0, validate=validate.Range(min=0))
    hangup_cause = fields.String(load_default="", validate=validate.Length(max=40))


def _time(uepoch: int) -> dt.datetime | None:
    if not uepoch:
        return None
    return dt.datetime.fromtimestamp(uepoch // 1_000_000, dt.UTC).replace(microsecond=uepoch % 1_000_000)


def _profile(data: Any) -> Profile | None:
    if not isinstance(data, dict):
        return None
    return Profile(
        context=str(data.get("context") or ""),
        destination=str(data.get("destination_number") or ""),
        caller=str(data.get("caller_id_number") or ""),
        uuid=str(data.get("uuid") or ""),
    )


def _build(variables: dict[str, str], callflows: list[dict[str, Any]], url_uuid: str | None) -> Leg:
    if not callflows:
        raise CdrError("no callflow in the CDR")
    if url_uuid and "uuid" not in variables:
        variables = {**variables, "uuid": url_uuid}
    try:
        times = _TimesSchema().load(variables)
    except ValidationError as exc:
        raise CdrError(f"variables: {exc.messages}") from exc
    if url_uuid and url_uuid != times["uuid"]:
        raise CdrError(f"uuid in the URL {url_uuid!r} is not the leg's uuid {times['uuid']!r}")

    def index(flow: dict[str, Any]) -> int:
        try:
            return int(flow.get("profile_index") or 0)
        except (TypeError, ValueError):
            return 0

    first_flow = min(callflows, key=index)
    profile = first_flow.get("caller_profile") or {}
    first = _profile(profile)
    if first is None:
        raise CdrError("callflow without a caller_profile")
    originators = (profile.get("originator") or {}).get("originator_caller_profiles") or []
    originator = _profile(originators[0]) if originators else None
    return Leg(
        uuid=times["uuid"],
        is_b_leg=originator is not None,
        variables=variables,
        first=first,
        originator=originator,
        started_at=_time(times["start_uepoch"]),
        answered_at=_time(times["answer_uepoch"]),
        ended_at=_time(times["end_uepoch"]),
        duration=times["duration"],
        billsec=times["billsec"],
        hangup_cause=times["hangup_cause"],
    )


def parse_json(body: bytes, url_uuid: str | None = None) -> Leg:
    """A mod_json_cdr document (encode=false: the body is the JSON itself)."""
    text = body.decode("utf-8", "strict").strip()
    if text.startswith("cdr="):
        # encode=true: a form field; mod_json_cdr url-encodes the whole document.
        text = unquote_plus(text[4:])
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CdrError(f"not JSON: {exc}") from exc
    except RecursionError as exc:
        # A real CDR nests about six levels; thousands are an attack on the parser, not a record.
        raise CdrTooDeep("JSON nested too deeply") from exc
    if not isinstance(document, dict) or not isinstance(document.get("variables"), dict):
        raise CdrError("JSON without a variables object")
    variables = {str(k): str(v) for k, v in document["variables"].items() if not isinstance(v, dict | list)}
    callflows = document.get("callflow")
    if isinstance(callflows, dict):
        callflows = [callflows]
    if not isinstance(callflows, list):
        raise CdrError("JSON without a callflow")
    return _build(variables, [c for c in callflows if isinstance(c, dict)], url_uuid)


def _children(element: etree._Element) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for child in element:
        if not isinstance(child.tag, str):
            continue
        result[child.tag] = _children(child) if len(child) else (child.text or "")
    return result


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def parse_xml(body: bytes, url_uuid: str | None = None) -> Leg:
    """A mod_xml_cdr post: `cdr=<url-encoded XML>` (or the bare XML of a spooled file)."""
    text = body.decode("utf-8", "strict").strip()
    if text.startswith("cdr="):
        text = unquote_plus(text[4:])
    try:
        root = etree.fromstring(text.encode("utf-8"), _PARSER)
    except etree.XMLSyntaxError as exc:
        raise CdrError(f"not XML: {exc}") from exc
    if root.tag != "cdr":
        raise CdrError(f"XML root is <{root.tag}>, not <cdr>")
    variables_el = root.find("variables")
    if variables_el is None:
        raise CdrError("XML without <variables>")
    variables = {child.tag: unquote(child.text or "") for child in variables_el if isinstance(child.tag, str)}
    callflows = []
    for flow in root.findall("callflow"):
        data = _children(flow)
        data["profile_index"] = flow.get("profile_index")
        profile = data.get("caller_profile") or {}
        if isinstance(profile, dict) and isinstance(profile.get("originator"), dict):
            # <originator><originator_caller_profile>...: the first one is enough.
            first = flow.find("caller_profile/originator/originator_caller_profile")
            profile["originator"] = {
                "originator_caller_profiles": [_children(first)] if first is not None else []
            }
        callflows.append(data)
    return _build(variables, callflows, url_uuid)


def normalize_uuid(raw: str | None) -> str | None:
    """The leg uuid from `?uuid=`: mod_xml_cdr's prefix-a-leg adds `a_`."""
    if not raw:
        return None
    uuid = raw[2:] if raw.startswith("a_") else raw
    return uuid if _UUID.match(uuid) else None
