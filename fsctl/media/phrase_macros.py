"""The phrase macros mod_voicemail (and valet_parking) play, over kumo's own prompts, per language.

Macro names and the data each receives are mod_voicemail's (VM_*_MACRO in mod_voicemail.c): e.g.
`voicemail_message_count` gets "3:new", "0:saved", "1:urgent-new"; `voicemail_play_greeting` the
mailbox id; menus get their key list, whose keys kumo's profile fixes, so the prompts speak them.
Numbers are said digit by digit (the say modules' "iterated" method plays digits/<d>.wav from the
language's sound prefix). `voicemail_say_date` (the date before each message) is said by each language's
own say module, which knows its calendar: mod_say_en ("yesterday at 3 15 P M") and mod_say_ja
("2026年11月25日午後3時15分"); the files they play are the prompts' `say_files`, in the timezone the
dialplan sets on the call (fsctl.xml.dialplan.language_actions).
The document is written to freeswitch/lang/<lang>/<lang>.xml (`fsctl prompts lang-xml`).
"""

from __future__ import annotations

from lxml import etree

SOUND_PREFIX = "$${sounds_dir}/%s"
LANG_REGION = {"en": "en/us", "ja": "ja/jp"}
# The say module of each language (freeswitch/autoload_configs/modules.conf.xml loads both).
SAY_MODULE = {"en": "en", "ja": "ja"}
# How each language says a message's date: mod_say_ja has no short form, so Japanese says it whole.
DATE_TYPE = {"en": "short_date_time", "ja": "current_date_time"}


def _vm(name: str) -> tuple[str, str]:
    return ("play-file", f"voicemail/vm-{name}.wav")


def _say(group: str) -> tuple[str, str]:
    return ("say", group)


# A macro whose action depends on the language: rendered per language by render_language.
SAY_DATE = ("say-date", "$1")


COUNT = r"([0-9]|[1-9][0-9])"
# macro -> [(pattern, actions)]; the first matching input wins (break_on_match).
MACROS: dict[str, list[tuple[str, list[tuple[str, str]]]]] = {
    "voicemail_hello": [("^(.*)$", [_vm("hello")])],
    "voicemail_goodbye": [("^(.*)$", [_vm("goodbye")])],
    "voicemail_abort": [("^(.*)$", [_vm("abort")])],
    "voicemail_enter_id": [("^(.*)$", [_vm("enter_id")])],
    "voicemail_enter_pass": [("^(.*)$", [_vm("enter_pass")])],
    "voicemail_fail_auth": [("^(.*)$", [_vm("fail_auth")])],
    "voicemail_change_pass_success": [("^(.*)$", [_vm("pass_changed")])],
    "voicemail_change_pass_fail": [("^(.*)$", [_vm("pass_not_changed")])],
    "voicemail_message_count": [
        ("^0:new$", [_vm("no_messages")]),
        ("^0:(saved|urgent-new)$", []),
        (f"^{COUNT}:new$", [_vm("you_have"), ("play-file", "digits/$1.wav"), _vm("new_messages")]),
        (
            f"^{COUNT}:urgent-new$",
            [_vm("you_have"), ("play-file", "digits/$1.wav"), _vm("urgent_new_messages")],
        ),
        (f"^{COUNT}:saved$", [_vm("you_have"), ("play-file", "digits/$1.wav"), _vm("saved_messages")]),
        ("^[0-9]+:new$", [_vm("you_have"), _vm("many"), _vm("new_messages")]),
        ("^[0-9]+:urgent-new$", [_vm("you_have"), _vm("many"), _vm("urgent_new_messages")]),
        ("^[0-9]+:saved$", [_vm("you_have"), _vm("many"), _vm("saved_messages")]),
    ],
    "voicemail_menu": [("^(.*)$", [_vm("main_menu")])],
    "voicemail_config_menu": [("^(.*)$", [_vm("config_menu")])],
    "voicemail_say_message_number": [
        (f"^(new|saved):{COUNT}$", [_vm("message"), ("play-file", "digits/$2.wav")]),
        ("^(new|saved):([0-9]+)$", [_vm("message"), _say("$2")]),
    ],
    "voicemail_say_number": [(f"^{COUNT}$", [("play-file", "digits/$1.wav")]), ("^([0-9]+)$", [_say("$1")])],
    "voicemail_say_phone_number": [(r"^\+?([0-9]{1,20})$", [_vm("from"), _say("$1")])],
    "voicemail_say_name": [("^(.+)$", [("play-file", "$1")])],
    # data: the message's epoch seconds (cbt->created_epoch in mod_voicemail.c)
    "voicemail_say_date": [("^([0-9]+)$", [SAY_DATE])],
    "voicemail_play_greeting": [(r"^([0-9]{1,10})$", [_vm("person"), _say("$1"), _vm("not_available")])],
    "voicemail_record_message": [("^(.*)$", [_vm("record_message")])],
    "voicemail_listen_file_check": [("^(.*)$", [_vm("listen_file_check")])],
    "voicemail_record_file_check": [("^(.*)$", [_vm("record_file_check")])],
    "voicemail_record_urgent_check": [("^(.*)$", [_vm("record_urgent_check")])],
    "voicemail_record_greeting": [("^(.*)$", [_vm("record_greeting")])],
    "voicemail_record_name": [("^(.*)$", [_vm("record_name")])],
    "voicemail_choose_greeting": [("^(.*)$", [_vm("choose_greeting")])],
    "voicemail_choose_greeting_fail": [("^(.*)$", [_vm("choose_greeting_fail")])],
    "voicemail_greeting_selected": [
        ("^([1-9])$", [_vm("greeting"), ("play-file", "digits/$1.wav"), _vm("selected")])
    ],
    "voicemail_ack": [
        ("^saved$", [_vm("saved_ack")]),
        ("^deleted$", [_vm("deleted_ack")]),
        ("^emailed$", [_vm("emailed_ack")]),
        ("^marked-urgent$", [_vm("urgent_ack")]),
        ("^too-small$", [_vm("too_small")]),
    ],
    "voicemail_forward_message_enter_extension": [("^(.*)$", [_vm("forward_enter_ext")])],
    "voicemail_forward_prepend": [("^(.*)$", [_vm("forward_prepend")])],
    "voicemail_invalid_extension": [("^(.*)$", [_vm("invalid_extension")])],
    "voicemail_disk_quota_exceeded": [("^(.*)$", [_vm("mailbox_full")])],
    # valet_parking announces the slot a call was parked in: data "<lot>:<slot>".
    "valet_announce_ext": [("^([^:]+):([0-9]+)$", [_vm("parked_at"), _say("$2")])],
}


def prompt_paths() -> set[str]:
    """Every fixed file the macros play (without .wav), for the completeness test."""
    return {
        data.removesuffix(".wav")
        for inputs in MACROS.values()
        for _, actions in inputs
        for function, data in actions
        if function == "play-file" and "$" not in data
    }


def render_language(lang: str) -> bytes:
    """`<include><language ...><phrases><macros>...` for freeswitch/lang/<lang>/<lang>.xml."""
    include = etree.Element("include")
    include.append(etree.Comment(" generated by `fsctl prompts lang-xml` from fsctl/media/phrase_macros.py "))
    language = etree.SubElement(
        include,
        "language",
        {
            "name": lang,
            "say-module": SAY_MODULE[lang],
            "sound-prefix": SOUND_PREFIX % LANG_REGION[lang],
            "tts-engine": "",
            "tts-voice": "",
        },
    )
    macros = etree.SubElement(etree.SubElement(language, "phrases"), "macros")
    for name, inputs in MACROS.items():
        macro = etree.SubElement(macros, "macro", name=name)
        for pattern, actions in inputs:
            match = etree.SubElement(
                etree.SubElement(macro, "input", pattern=pattern, break_on_match="true"), "match"
            )
            for function, data in actions:
                attrs = {"function": function, "data": data}
                if function == "say":
                    attrs.update({"method": "iterated", "type": "number"})
                elif (function, data) == SAY_DATE:
                    attrs = {"function": "say", "data": data, "method": "pronounced", "type": DATE_TYPE[lang]}
                etree.SubElement(match, "action", attrs)
    return etree.tostring(include, encoding="UTF-8", xml_declaration=True, pretty_print=True)
