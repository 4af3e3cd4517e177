"""Default prompts: synthesised at install time (`make prompts`) and the phrase macros that play them.

Japanese with Open JTalk (Debian open-jtalk + open-jtalk-mecab-naist-jdic + hts-voice-nitech-jp-atr503-m001),
English with espeak-ng, both converted by sox to 16-bit mono WAV at 8 and 16 kHz, with the synthesisers'
leading and trailing silence cut (a caller waits through every file of the voicemail greeting before the
beep, fsctl.media.beep_budget), laid out as FreeSWITCH looks for them: <root>/<lang>/<region>/<dir>/<rate>/<name>.wav. mod_sndfile tries the
`<dir>/<rate>/<name>` form first for the channel's rate (sndfile_file_open in mod_sndfile.c), so one
relative name like `voicemail/vm-hello.wav` serves narrowband and wideband calls.
A manifest at the root records what each file was made from (text and recipe), so a changed wording or
recipe remakes exactly the files it affects.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import yaml

from fsctl.media.sox import RATES, ConversionFailed, SoxMissing, to_switch_wav

log = logging.getLogger(__name__)

PHRASES_FILE = Path(__file__).with_name("phrases.yaml")
LANG_DIRS = {"en": "en/us", "ja": "ja/jp"}
JTALK_DIC = "/var/lib/mecab/dic/open-jtalk/naist-jdic"
JTALK_VOICE = "/usr/share/hts-voice/nitech-jp-atr503-m001/nitech_jp_atr503_m001.htsvoice"
# Speaking rate: Open JTalk's speed factor, espeak-ng's words per minute (its default is 175).
JTALK_SPEED = "1.1"
ESPEAK_WPM = "180"
# Silence is cut where the peak-normalised level stays under 1% of full scale: Open JTalk's output carries
# a noise floor near 0.5%, which a lower threshold keeps as "speech". Each file then ends with a short
# pause, so digits said one after another (an extension) stay apart.
TRIM_THRESHOLD = "1%"
PAUSE_SECONDS = "0.05"
# Everything that shapes a file besides its text; part of each file's manifest entry.
RECIPE = (
    f"jtalk -r {JTALK_SPEED}; espeak-ng -s {ESPEAK_WPM}; norm -3; trim {TRIM_THRESHOLD}; pad {PAUSE_SECONDS}"
)
MANIFEST = ".kumo-prompts.json"


class PromptError(RuntimeError):
    """A synthesiser or sox is missing or failed."""


@dataclass(frozen=True)
class Prompt:
    path: str  # "voicemail/vm-hello" (no extension, no rate)
    lang: str
    text: str

    @property
    def key(self) -> str:
        return f"{self.lang}/{self.path}"

    @property
    def stamp(self) -> str:
        """What the file is made from: its text and the recipe."""
        return hashlib.sha256(f"{RECIPE}\n{self.text}".encode()).hexdigest()[:16]

    def target(self, root: Path, rate: int) -> Path:
        directory, _, name = self.path.rpartition("/")
        return root / LANG_DIRS[self.lang] / directory / str(rate) / f"{name}.wav"


def load_prompts(path: Path = PHRASES_FILE) -> list[Prompt]:
    """Every prompt of the phrase list in every language, plus digits/0 .. digits/<numbers> and the
    files of each language's say module (say_files)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    prompts = [Prompt(p, lang, text) for p, texts in data["prompts"].items() for lang, text in texts.items()]
    for lang in LANG_DIRS:
        prompts += [Prompt(f"digits/{n}", lang, str(n)) for n in range(int(data.get("numbers", 9)) + 1)]
    missing = {(p.path, lang) for p in prompts for lang in LANG_DIRS} - {(p.path, p.lang) for p in prompts}
    if missing:
        raise PromptError(f"phrases without every language: {sorted(missing)}")
    # What only one language's say module plays (spoken dates): one language each, by design.
    for lang, files in (data.get("say_files") or {}).items():
        prompts += [Prompt(p, lang, text) for p, text in files.items()]
    return prompts


def _run(command: list[str], **kwargs) -> None:
    if shutil.which(command[0]) is None:
        raise PromptError(f"{command[0]} is not installed (make test-deps installs it)")
    result = subprocess.run(command, capture_output=True, **kwargs)
    if result.returncode != 0:
        raise PromptError(f"{' '.join(command[:2])} failed: {result.stderr.decode(errors='replace')[-300:]}")


def synthesise(prompt: Prompt, raw: Path) -> None:
    """Speak one prompt into a WAV at the synthesiser's own rate."""
    if prompt.lang == "ja":
        if not Path(JTALK_VOICE).exists():
            raise PromptError(
                f"{JTALK_VOICE} missing: install hts-voice-nitech-jp-atr503-m001 (Debian contrib)"
            )
        with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8", delete=False) as text:
            text.write(prompt.text + "\n")
        try:
            _run(
                [
                    "open_jtalk",
                    "-x",
                    JTALK_DIC,
                    "-m",
                    JTALK_VOICE,
                    "-r",
                    JTALK_SPEED,
                    "-ow",
                    str(raw),
                    text.name,
                ]
            )
        finally:
            Path(text.name).unlink(missing_ok=True)
    else:
        _run(["espeak-ng", "-v", "en-us", "-s", ESPEAK_WPM, "-w", str(raw), prompt.text])


# sox effects after the peak normalisation: silence cut at both ends (the silence effect, its second
# pass on the reversed audio), then a short pause so digits said one after another stay apart.
TRIM_EFFECTS = (
    *("silence", "1", "0.005", TRIM_THRESHOLD),
    "reverse",
    *("silence", "1", "0.005", TRIM_THRESHOLD),
    "reverse",
    *("pad", "0", PAUSE_SECONDS),
)


def generate_one(prompt: Prompt, root: Path, force: bool = False, made_from: str | None = None) -> bool:
    """Synthesise one prompt at every rate; False when it was already there (and, when the manifest's
    entry `made_from` is given, made from the same text and recipe)."""
    targets = [prompt.target(root, rate) for rate in RATES]
    current = made_from is None or made_from == prompt.stamp
    if not force and current and all(t.exists() for t in targets):
        return False
    with tempfile.TemporaryDirectory(prefix="kumo-prompt-") as tmp:
        raw = Path(tmp) / "raw.wav"
        synthesise(prompt, raw)
        for rate, target in zip(RATES, targets, strict=True):
            try:
                to_switch_wav(raw, target, rate, effects=TRIM_EFFECTS)
            except (SoxMissing, ConversionFailed) as exc:
                raise PromptError(str(exc)) from exc
    return True


def generate(root: Path, prompts: list[Prompt] | None = None, force: bool = False, jobs: int = 4) -> int:
    """Synthesise every missing or outdated prompt under `root`; returns how many were made."""
    prompts = load_prompts() if prompts is None else prompts
    manifest_path = root / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = {}  # a tree without one predates the manifest: every file is remade once
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        made = sum(pool.map(lambda p: generate_one(p, root, force, manifest.get(p.key, "")), prompts))
    manifest.update({p.key: p.stamp for p in prompts})
    root.mkdir(parents=True, exist_ok=True)
    partial = manifest_path.with_suffix(".part")
    partial.write_text(json.dumps(manifest, indent=0, sort_keys=True), encoding="utf-8")
    partial.replace(manifest_path)
    log.info("prompts: %d made, %d already there, under %s", made, len(prompts) - made, root)
    return made
