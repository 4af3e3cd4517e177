"""How long a caller to a voicemail box waits from answer to the beep, computed from the prompt files.

Without a recorded greeting mod_voicemail (voicemail_leave_main in mod_voicemail.c) pauses 100 ms, plays
the `voicemail_play_greeting` macro with the mailbox id, then (create_file) the `voicemail_record_message`
macro and the profile's tone, and only then starts recording. The files those macros play are kumo's
generated prompts, so the wait is their lengths plus the pause and the tone, plus what the switch itself
spends (the lookups and opening each file), which `make bench-switch` measures on a real switch.
"""

from __future__ import annotations

import re
import wave
from pathlib import Path

from fsctl.media.phrase_macros import LANG_REGION, MACROS
from fsctl.media.vm_config import TONE_SPEC

GOAL_SECONDS = 8.0
GREETING_PAUSE_SECONDS = 0.1
# Answer-to-beep measured by `make bench-switch` minus the files, pause and tone is the switch's own time
# (0.55 to 0.8 s on these machines); the allowance keeps a margin above it.
SWITCH_ALLOWANCE_SECONDS = 0.9
# The longest extension a tenant can have (fsctl.schemas.EXTENSION: 2 to 6 digits).
LONGEST_EXTENSION = 6
RATE = 8000  # a G.711 call plays the 8 kHz files


def tone_seconds(spec: str = TONE_SPEC) -> float:
    """One repetition of a teletone spec's on and off times."""
    on, off = re.match(r"^%\((\d+),\s*(\d+),", spec).groups()
    return (int(on) + int(off)) / 1000


def _expand(macro: str, data: str) -> list[str]:
    """The files (relative to the language's sound prefix, without .wav) a macro plays for `data`."""
    for pattern, actions in MACROS[macro]:
        match = re.match(pattern, data)
        if not match:
            continue
        files: list[str] = []
        for function, arg in actions:
            value = match.expand(arg.replace("$", "\\")) if "$" in arg else arg
            if function == "play-file":
                files.append(value.removesuffix(".wav"))
            elif function == "say":  # method "iterated": one digits/<d> file per digit
                files += [f"digits/{digit}" for digit in value]
        return files
    return []


def files_before_beep(extension: str) -> list[str]:
    """Every prompt file a caller hears before the beep, in order."""
    return _expand("voicemail_play_greeting", extension) + _expand("voicemail_record_message", "")


def seconds(root: Path, lang: str, name: str) -> float:
    """The length of one generated prompt file."""
    directory, _, base = name.rpartition("/")
    with wave.open(str(root / LANG_REGION[lang] / directory / str(RATE) / f"{base}.wav")) as w:
        return w.getnframes() / w.getframerate()


def slowest_extension(root: Path, lang: str, digits: int = LONGEST_EXTENSION) -> str:
    """The extension of `digits` digits that takes longest to say (the longest digit file, repeated)."""
    slowest = max("123456789", key=lambda d: seconds(root, lang, f"digits/{d}"))
    longest = max("0123456789", key=lambda d: seconds(root, lang, f"digits/{d}"))
    return slowest + longest * (digits - 1)  # an extension never starts with 0


def answer_to_beep(root: Path, lang: str, extension: str) -> float:
    """Seconds from answer to the beep's end for a call to `extension`'s voicemail, from the files."""
    speech = sum(seconds(root, lang, name) for name in files_before_beep(extension))
    return GREETING_PAUSE_SECONDS + speech + tone_seconds() + SWITCH_ALLOWANCE_SECONDS
