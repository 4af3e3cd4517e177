"""Helpers shared by the test modules (import them from here, not from a conftest).

pytest imports every conftest.py under the one module name `conftest`, so importing from `conftest`
can pick up another directory's conftest; this module has a name of its own.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
# Real FreeSWITCH 1.11.1 traffic, kept in the repository so a fresh clone tests itself.
FIXTURES = REPO_ROOT / "tests" / "data" / "freeswitch"


def read_fixture(relative: str) -> bytes:
    """Bytes of one captured file under tests/data/freeswitch."""
    return (FIXTURES / relative).read_bytes()


ACME: dict[str, Any] = {
    "domain": "acme.kumo.test",
    "name": "株式会社アクメ",
    "timezone": "Asia/Tokyo",
    "status": "active",
    "international_calls": False,
    "max_external_channels": 8,
    "users": [
        {
            "extension": "101",
            "name": "山田 太郎",
            "password": "Str0ng-101-pass",
            "caller_id": "0312345678",
            "did": "0312345001",
        },
        {"extension": "102", "name": "佐藤 花子", "password": "Str0ng-102-pass", "direction": "inbound_only"},
    ],
    "numbers": [{"number": "0312345678", "destination": {"ring_group": "reception"}}],
    "ring_groups": [{"name": "reception", "members": ["101", "102"], "ring_seconds": 20}],
    "park": {"slots": "700-719"},
}


def tenant_doc(**overrides: Any) -> dict[str, Any]:
    """The acme tenant file as a dict, with top-level keys overridden."""
    doc = copy.deepcopy(ACME)
    doc.update(overrides)
    return doc


def without_language(actions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Dialplan actions after the caller's language settings that open every answer that plays
    anything (fsctl.xml.dialplan.language_actions)."""
    settings = ("default_language=", "sound_prefix=", "timezone=")
    index = 0
    while index < len(actions) and actions[index][0] == "set" and actions[index][1].startswith(settings):
        index += 1
    return actions[index:]


def tone_wav(path: Path, rate: int = 44100, channels: int = 2, seconds: float = 1.0) -> Path:
    """A 440 Hz tone as 16-bit PCM WAV (what a customer might upload), written to `path`."""
    import math
    import wave
    from array import array

    frames = array("h")
    for i in range(int(rate * seconds)):
        sample = int(12000 * math.sin(2 * math.pi * 440 * i / rate))
        frames.extend([sample] * channels)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames.tobytes())
    return path
