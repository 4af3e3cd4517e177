"""Default prompts: synthesised WAVs FreeSWITCH can play, and phrase macros covering mod_voicemail."""

from __future__ import annotations

import re
import subprocess
import wave
from array import array
from pathlib import Path

import pytest
from lxml import etree

from fsctl.config import PROJECT_ROOT
from fsctl.media import phrase_macros
from fsctl.media.prompts import RATES, Prompt, generate, load_prompts

MOD_VOICEMAIL_MACROS = {  # VM_*_MACRO in src/mod/applications/mod_voicemail/mod_voicemail.c (1.11)
    "voicemail_invalid_extension",
    "voicemail_forward_message_enter_extension",
    "voicemail_ack",
    "voicemail_play_greeting",
    "voicemail_say_message_number",
    "voicemail_say_number",
    "voicemail_say_phone_number",
    "voicemail_say_name",
    "voicemail_forward_prepend",
    "voicemail_record_message",
    "voicemail_choose_greeting",
    "voicemail_choose_greeting_fail",
    "voicemail_greeting_selected",
    "voicemail_record_greeting",
    "voicemail_record_name",
    "voicemail_listen_file_check",
    "voicemail_record_file_check",
    "voicemail_record_urgent_check",
    "voicemail_menu",
    "voicemail_config_menu",
    "voicemail_enter_id",
    "voicemail_enter_pass",
    "voicemail_fail_auth",
    "voicemail_change_pass_success",
    "voicemail_change_pass_fail",
    "voicemail_abort",
    "voicemail_hello",
    "voicemail_goodbye",
    "voicemail_message_count",
    "voicemail_disk_quota_exceeded",
    "voicemail_say_date",
}


def test_every_mod_voicemail_macro_and_prompt_exists_in_both_languages():
    assert MOD_VOICEMAIL_MACROS <= set(phrase_macros.MACROS)
    prompts = load_prompts()
    for lang in ("en", "ja"):
        paths = {p.path for p in prompts if p.lang == lang}
        assert phrase_macros.prompt_paths() <= paths
        assert {"kumo/after_hours", "kumo/ivr_greeting", "kumo/invalid_entry"} <= paths
        assert {f"digits/{n}" for n in range(100)} <= paths


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_shipped_language_files_are_the_generated_ones(lang):
    shipped = PROJECT_ROOT / "freeswitch" / "lang" / lang / f"{lang}.xml"
    assert shipped.read_bytes() == phrase_macros.render_language(lang), "run: fsctl prompts lang-xml"


def test_message_count_patterns_pick_the_right_words():
    inputs = phrase_macros.MACROS["voicemail_message_count"]

    def first(data: str) -> list[tuple[str, str]]:
        pattern, actions = next((p, a) for p, a in inputs if re.match(p, data))
        return [(f, re.sub(pattern, d.replace("$", "\\"), data) if "$" in d else d) for f, d in actions]

    assert first("0:new") == [("play-file", "voicemail/vm-no_messages.wav")]
    assert ("play-file", "digits/3.wav") in first("3:new")
    assert ("play-file", "voicemail/vm-many.wav") in first("120:saved")


def _samples(path: Path) -> tuple[int, int, array]:
    with wave.open(str(path)) as w:
        frames = array("h", w.readframes(w.getnframes()))
        return w.getframerate(), w.getnchannels(), frames


@pytest.mark.parametrize(
    "prompt",
    [
        Prompt("voicemail/vm-hello", "ja", "ボイスメールです。"),
        Prompt("kumo/after_hours", "en", "We are closed now."),
        Prompt("digits/7", "ja", "7"),
    ],
)
@pytest.mark.system_package("speech")
def test_generated_prompts_are_mono_8k_and_16k_and_not_silent(prompt, tmp_path):
    assert generate(tmp_path, [prompt]) == 1
    for rate in RATES:
        target = (
            tmp_path / {"en": "en/us", "ja": "ja/jp"}[prompt.lang] / prompt.path.rsplit("/", 1)[0] / str(rate)
        )
        path = target / f"{prompt.path.rsplit('/', 1)[1]}.wav"
        framerate, channels, frames = _samples(path)
        assert (framerate, channels) == (rate, 1)
        assert len(frames) > rate // 4  # at least a quarter of a second of speech
        assert max(abs(s) for s in frames) > 3000  # normalised speech, not silence
        info = subprocess.run(["soxi", str(path)], capture_output=True, text=True, check=True).stdout
        assert "Signed Integer PCM" in info
    assert generate(tmp_path, [prompt]) == 0  # idempotent: nothing regenerated


def test_language_document_is_what_the_switch_reads():
    root = etree.fromstring(phrase_macros.render_language("ja"))
    language = root.find("language")
    assert language.get("sound-prefix") == "$${sounds_dir}/ja/jp"
    macro = language.find("phrases/macros/macro[@name='voicemail_play_greeting']")
    assert [a.get("function") for a in macro.iter("action")] == ["play-file", "say", "play-file"]
