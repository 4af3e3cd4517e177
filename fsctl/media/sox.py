"""Audio conversion for the switch, written once: sox turns any file it reads into the 16-bit mono PCM
WAV at 8 or 16 kHz that mod_sndfile plays, peak-normalised to -3 dBFS.

Tenant uploads (fsctl.media.audio) and generated prompts (fsctl.media.prompts) both convert here.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

RATES = (8000, 16000)
TIMEOUT_SECONDS = 120


class SoxMissing(RuntimeError):
    """sox is not installed."""

    def __init__(self) -> None:
        super().__init__("sox is not installed (make test-deps installs it)")


class ConversionFailed(RuntimeError):
    """sox could not read or write the file; the message ends with what sox said."""


def _sox(*args: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("sox") is None:
        raise SoxMissing()
    return subprocess.run(["sox", *args], capture_output=True, text=True, timeout=TIMEOUT_SECONDS)


def _type(kind: str | None) -> list[str]:
    # "-t mp3": what the file holds, as sniffed, rather than what its name says.
    return ["-t", kind] if kind else []


def duration_seconds(source: Path, kind: str | None = None) -> float:
    """The length of `source` in seconds; ConversionFailed when sox cannot decode it."""
    probe = _sox(*_type(kind), str(source), "-n", "stat")
    match = re.search(r"Length \(seconds\):\s+([0-9.]+)", probe.stderr)
    if probe.returncode != 0 or match is None:
        raise ConversionFailed(f"{source.name} cannot be decoded: {probe.stderr.strip()[-300:]}")
    return float(match.group(1))


def to_switch_wav(
    source: Path, target: Path, rate: int, kind: str | None = None, effects: Sequence[str] = ()
) -> Path:
    """Convert `source` into `target` (16-bit mono PCM WAV at `rate`, normalised to -3 dBFS, then any
    further sox `effects`).

    Written aside and renamed into place: the switch never plays a half-written file.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.stem}.part.wav")
    result = _sox(
        *_type(kind),
        str(source),
        *("-r", str(rate), "-c", "1", "-b", "16", "-e", "signed-integer"),
        str(partial),
        *("norm", "-3"),
        *effects,
    )
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        raise ConversionFailed(f"{source.name} cannot be converted: {result.stderr.strip()[-300:]}")
    partial.replace(target)
    return target
