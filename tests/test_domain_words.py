"""Code and configuration speak in domain words, not process words.

No comment, docstring or string names a tracker item or a numbered team decision: a rule that matters
is stated where it applies, and a rule too long for a clause lives in docs/decisions.md under a
heading. Migrations' revision messages are history and may keep theirs.
"""

from __future__ import annotations

import re
from pathlib import Path

from kumo_support import REPO_ROOT

SCANNED = ("fsctl", "webpanel", "bench", "tests", "dialplans", "freeswitch", ".ci", "docs")
TOP_FILES = ("Makefile", "setup.cfg", "pyproject.toml", "pytest.ini", "README.md")
SKIPPED = (Path("fsctl") / "migrations" / "versions",)
SUFFIXES = {
    ".py",
    ".sh",
    ".xml",
    ".yaml",
    ".yml",
    ".ini",
    ".cfg",
    ".toml",
    ".json",
    ".html",
    ".css",
    ".js",
    ".md",
    ".txt",
    ".po",
    ".pot",
    ".conf",
    "",
}
# A tracker item (the word issue, or issues, then a number, "#" allowed) or a numbered decision.
# Written so that this source text does not match itself.
PROCESS_WORDS = re.compile(r"\b(?:[Ii]ssues?\s+#?\d|DECISIONS?\s+\d|[Dd]ecisions?\s+\d)")


def process_words(text: str) -> list[tuple[int, str]]:
    """(line number, line) of every line of `text` that names an issue or a decision by number."""
    return [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1) if PROCESS_WORDS.search(line)]


def scanned_files() -> list[Path]:
    files = [Path(name) for name in TOP_FILES if (REPO_ROOT / name).is_file()]
    for top in SCANNED:
        for path in sorted((REPO_ROOT / top).rglob("*")):
            relative = path.relative_to(REPO_ROOT)
            if (
                path.is_file()
                and path.suffix in SUFFIXES
                and "__pycache__" not in relative.parts
                and not any(relative.is_relative_to(skipped) for skipped in SKIPPED)
            ):
                files.append(relative)
    return files


def test_the_scan_finds_a_planted_reference() -> None:
    # Built from pieces, so that this file itself stays clean.
    planted = "\n".join(
        [
            "x = 1  # a plain line",
            "# fixed for " + "issue" + " 15 item 3",
            '"""Channel plans (' + "DECISIONS" + ' 9)."""',
            "targets of " + "issues" + " 2 and 3, see " + "issue" + " #4",
            "plan.decisions[0] and the issuer's number, T + 13 digits",
        ]
    )
    assert [n for n, _ in process_words(planted)] == [2, 3, 4]


def test_the_scan_covers_code_tests_and_configuration() -> None:
    files = {str(path) for path in scanned_files()}
    for expected in ("Makefile", "fsctl/cli.py", "tests/test_domain_words.py", "freeswitch/vars.xml"):
        assert expected in files
    assert not any(name.startswith("fsctl/migrations/versions/") for name in files)


def test_no_issue_or_decision_numbers_in_code_and_configuration() -> None:
    found = []
    for relative in scanned_files():
        text = (REPO_ROOT / relative).read_text(encoding="utf-8", errors="replace")
        found.extend(f"{relative}:{n}: {line}" for n, line in process_words(text))
    assert not found, "say the rule, not the issue or decision number:\n" + "\n".join(found)
