"""The repository is self-contained: a fresh clone with nothing beside it tests itself.

Only the end-to-end fixtures may look outside, for a FreeSWITCH runtime (`../shared/fs-runtime`,
or KUMO_FREESWITCH).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from kumo_support import REPO_ROOT

SCANNED = ("fsctl", "webpanel", "tests", "bench", "dialplans", "freeswitch")
TOP_FILES = ("Makefile", "setup.cfg", "pyproject.toml", "pytest.ini", ".ci/run")
SUFFIXES = {".py", ".sh", ".xml", ".yaml", ".yml", ".ini", ".cfg", ".toml", ".json", ".html"}
# Text that names a place outside the checkout: the sibling shared/ folder, or this machine's paths.
OUTSIDE = re.compile(
    r"""\.\./shared\b|["']shared["']\s*/|/\s*["']shared["']|(?<![\w.])/(?:work|root|home)/"""
)
# Path(__file__).parent.parent... or Path(__file__).parents[N]: how far up a file climbs.
CLIMB = re.compile(
    r"Path\(__file__\)(?:\.resolve\(\))?(?P<parents>(?:\.parent\b)+)?(?:\.parents\[(?P<n>\d+)\])?"
)
# The allowed references, only on lines that name fs-runtime: the end-to-end fixtures looking for the
# FreeSWITCH runtime, and fsctl/localswitch.py, the one module that finds a switch for `make run`
# (a machine prepared like CI's runs a PBX that takes calls without any setting) and that
# the end-to-end fixtures share. No other file of fsctl/ may name the folder.
E2E = Path("tests") / "e2e"
LOCAL_SWITCH = Path("fsctl") / "localswitch.py"
# This file spells out the patterns it looks for.
THIS_FILE = Path(__file__).resolve().relative_to(REPO_ROOT)


def source_files() -> list[Path]:
    files = [Path(name) for name in TOP_FILES if (REPO_ROOT / name).is_file()]
    for top in SCANNED:
        for path in (REPO_ROOT / top).rglob("*"):
            relative = path.relative_to(REPO_ROOT)
            if (
                path.is_file()
                and path.suffix in SUFFIXES
                and "data" not in relative.parts[:2]
                and relative != THIS_FILE
            ):
                files.append(relative)
    return files


def climbs_out(relative: Path, match: re.Match) -> bool:
    """True when the Path(__file__) expression reaches above the repository root."""
    levels = 0
    if match["parents"]:
        levels += match["parents"].count(".parent")
    if match["n"] is not None:
        levels += int(match["n"]) + 1
    # tests/kumo_support.py: one .parent is tests/, two is the root, three is outside.
    return levels > len(relative.parts)


def offences(relative: Path, text: str) -> list[str]:
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        allowed = (relative.is_relative_to(E2E) or relative == LOCAL_SWITCH) and "fs-runtime" in line
        if OUTSIDE.search(line) and not allowed:
            found.append(f"{relative}:{number}: {line.strip()}")
        found += [
            f"{relative}:{number}: climbs above the repository: {line.strip()}"
            for match in CLIMB.finditer(line)
            if climbs_out(relative, match) and not allowed
        ]
    return found


def test_nothing_in_the_repository_reads_outside_it():
    files = source_files()
    assert len(files) > 100, "the scan found too few files to mean anything"
    found = [
        o
        for relative in files
        for o in offences(relative, (REPO_ROOT / relative).read_text(errors="replace"))
    ]
    assert not found, "files refer outside the repository:\n" + "\n".join(found)


def test_the_scan_catches_what_it_is_for():
    bad = {
        "tests/kumo_support.py": 'FIXTURES = REPO_ROOT.parent / "shared" / "fixtures"',
        "bench/esl.py": 'ESL = Path(__file__).resolve().parent.parent.parent / "x"',
        "bench/load.py": 'F = Path(__file__).resolve().parents[2] / "fixtures"',
        "tests/esl/eslfake.py": "# frames of ../shared/fixtures/freeswitch/esl",
        # Built, so the scan's own example is not a machine path written in the repository.
        "fsctl/config.py": 'DB = "'
        + "/".join(("", "home", "someone", "kumo", "instance", "kumo.sqlite3"))
        + '"',
        "tests/e2e/conftest.py": 'FS = REPO_ROOT.parent / "shared" / "fixtures"',
        "fsctl/localswitch.py": 'FIXTURES = PROJECT_ROOT.parent / "shared" / "fixtures"',
        "fsctl/devrun.py": 'RUNTIME = PROJECT_ROOT.parent / "shared" / "fs-runtime"',
    }
    for name, line in bad.items():
        assert offences(Path(name), line), name
    good = {
        "fsctl/config.py": "PROJECT_ROOT = Path(__file__).resolve().parent.parent",
        "tests/kumo_support.py": 'FIXTURES = REPO_ROOT / "tests" / "data" / "freeswitch"',
        "bench/load.py": 'F = Path(__file__).resolve().parents[1] / "tests"',
        "tests/e2e/conftest.py": 'RUNTIME = REPO_ROOT.parent / "shared" / "fs-runtime"',
        "fsctl/localswitch.py": 'SHARED_RUNTIME = PROJECT_ROOT.parent / "shared" / "fs-runtime"',
    }
    for name, line in good.items():
        assert not offences(Path(name), line), name


def test_the_captures_are_in_the_repository():
    captures = REPO_ROOT / "tests" / "data" / "freeswitch"
    assert (captures / "README.md").is_file() and (captures / "MANIFEST.json").is_file()
    manifest = json.loads((captures / "MANIFEST.json").read_text())
    missing = [name for name in manifest if not (captures / name).is_file()]
    assert not missing, f"captures named in MANIFEST.json but absent: {missing}"
