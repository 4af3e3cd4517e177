"""The one renderer: a routing plan -> a FreeSWITCH dialplan document (mod_xml_curl answer)."""

from __future__ import annotations

import re

from lxml import etree

from fsctl.routing.plan import Action, Plan

# What may appear in a context or destination we echo back; anything else never reaches XML.
_CONTEXT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,252}$")
_DESTINATION = re.compile(r"^[A-Za-z0-9*#+_.-]{1,120}$")
# Argument characters FreeSWITCH would split on or expand are refused at render time, as a last line
# of defence behind the planners (which only build arguments from validated data).
_UNSAFE_DATA = re.compile(
    r"[\x00-\x1f\x7f]|\$\$\{|\$\{(?!originate_disposition\}|kumo_ivr_digit\}"
    # call recording (fsctl.routing.recording) and tenant audio (fsctl.media.audio) paths
    r"|uuid\}|kumo_fax_dir\}|kumo_recordings_dir\}|kumo_record_path\}|kumo_audio_dir\}|sounds_dir\}"
    # directed pickup: the uuid kept by `hash insert` when the extension was dialled (fsctl.routing)
    r"|hash\(select/[a-z0-9.-]{1,253}-last_dial_ext/[0-9]{2,6}\)\}"
    # call queues (fsctl.routing.queues): the caller's position, and an agent's login from a phone
    r"|kumo_queue_position\}"
    r"|expr\(\$\{callcenter_config\(queue count members [0-9]{2,6}@[a-z0-9.-]{1,253}\)\}\+1\)\}"
    r"|callcenter_config\(queue count members [0-9]{2,6}@[a-z0-9.-]{1,253}\)\}"
    r"|callcenter_config\(agent set status [0-9]{2,6}@[a-z0-9.-]{1,253} (?:Available|'Logged Out')\)\})"
)


# The switch's sound directories per language (freeswitch/lang/<lang>/<lang>.xml sound-prefix).
SOUND_DIRS = {"ja": "ja/jp", "en": "en/us"}


def language_actions(plan: Plan) -> list[Action]:
    """What the caller hears, set first on the channel: kumo's own prompts are played relative to
    `sound_prefix`; mod_voicemail's and valet_parking's phrase macros pick the language from
    `default_language` (switch_ivr_phrase_macro_event); mod_say_* say dates in `timezone`."""
    if plan.language not in SOUND_DIRS or all(action.app == "hangup" for action in plan.actions):
        return []  # a refusal plays nothing
    actions = [
        Action("set", f"default_language={plan.language}"),
        Action("set", f"sound_prefix=${{sounds_dir}}/{SOUND_DIRS[plan.language]}"),
    ]
    if plan.timezone:
        actions.append(Action("set", f"timezone={plan.timezone}"))
    return actions


class RenderError(ValueError):
    """A plan that would put unsafe text into the dialplan."""


def render(plan: Plan) -> bytes:
    """The whole dialplan document for this one call: one context, one extension, exact destination."""
    if not _CONTEXT.match(plan.context) or not _DESTINATION.match(plan.dialled):
        raise RenderError(f"unsafe context or destination: {plan.context!r} {plan.dialled!r}")
    document = etree.Element("document", type="freeswitch/xml")
    section = etree.SubElement(document, "section", name="dialplan", description="kumo")
    context = etree.SubElement(section, "context", name=plan.context)
    extension = etree.SubElement(context, "extension", name=f"kumo-{plan.kind}")
    # An exact match on the escaped literal: no user text ever becomes regex syntax.
    condition = etree.SubElement(
        extension, "condition", field="destination_number", expression=f"^{re.escape(plan.dialled)}$"
    )
    for action in [*language_actions(plan), *plan.actions]:
        if _UNSAFE_DATA.search(action.data) or not re.match(r"^[a-z_]{2,32}$", action.app):
            raise RenderError(f"unsafe action {action.app!r} {action.data!r}")
        attrs = {"application": action.app}
        if action.data:
            attrs["data"] = action.data
        etree.SubElement(condition, "action", attrs)
    return etree.tostring(document, encoding="UTF-8", xml_declaration=True)
