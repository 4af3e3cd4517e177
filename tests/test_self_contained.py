"""DECISIONS 25: nothing in the repository reads ../shared except the end-to-end fixtures."""

from __future__ import annotations

import re
import subprocess

from kumo_support import REPO_ROOT

# What reading the folder beside the repository looks like in code: a relative path to it, or a
# path built from the repository's parent and the name "shared".
OUTSIDE = re.compile(r"\.\./shared|shared/(fs-runtime|fixtures)|parent\s*/\s*[\"']shared[\"']")
CODE = (".py", ".sh", ".cfg", ".toml", ".ini", ".xml", ".yaml", ".yml", "Makefile", ".ci/run")
ALLOWED = ("tests/e2e/",)


def test_only_the_e2e_fixtures_refer_to_the_shared_folder() -> None:
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    offenders = []
    for name in files:
        if not name.endswith(CODE) or name.startswith(ALLOWED) or name == "tests/test_self_contained.py":
            continue
        path = REPO_ROOT / name
        if not path.is_file():
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if OUTSIDE.search(line):
                offenders.append(f"{name}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_the_check_finds_what_it_looks_for() -> None:
    assert OUTSIDE.search('RT = "../shared/fs-runtime"')
    assert OUTSIDE.search('REPO_ROOT.parent / "shared" / "fs-runtime"')
    assert not OUTSIDE.search("shared_state = {}")
