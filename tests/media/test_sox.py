"""fsctl.media.sox: the one conversion of any audio into the WAV the switch plays."""

from __future__ import annotations

import ast
import wave
from pathlib import Path

import pytest
from kumo_support import tone_wav

from fsctl.media.sox import RATES, ConversionFailed, duration_seconds, to_switch_wav

pytestmark = pytest.mark.system_package("sox")
ROOT = Path(__file__).resolve().parents[2]


def test_any_wav_becomes_16_bit_mono_at_each_rate(tmp_path):
    source = tmp_path / "in.wav"
    tone_wav(source)
    assert duration_seconds(source) == pytest.approx(1.0, abs=0.05)
    for rate in RATES:
        target = to_switch_wav(source, tmp_path / str(rate) / "out.wav", rate)
        with wave.open(str(target)) as w:
            assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (rate, 1, 2)
    # Nothing half-written is left beside the result.
    assert sorted(p.name for p in (tmp_path / "8000").iterdir()) == ["out.wav"]


def test_a_file_sox_cannot_read_leaves_nothing(tmp_path):
    source = tmp_path / "bad.wav"
    source.write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot really")
    with pytest.raises(ConversionFailed):
        duration_seconds(source, "wav")
    with pytest.raises(ConversionFailed):
        to_switch_wav(source, tmp_path / "out" / "x.wav", 8000, "wav")
    assert list((tmp_path / "out").iterdir()) == []


def test_only_fsctl_media_sox_runs_sox():
    running = []
    for path in sorted(ROOT.glob("fsctl/**/*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value == "sox":
                running.append(str(path.relative_to(ROOT)))
    assert sorted(set(running)) == ["fsctl/media/sox.py"]
