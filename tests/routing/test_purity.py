"""The planners and the renderer stay pure: no database, no Flask, no gevent, no feature (DESIGN
boundaries 1 and 7). Imports are read from the source, function bodies included."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from layering import ROOT

ROUTING = ROOT / "fsctl" / "routing"
# What fsctl/routing/ may import besides itself: the numbering plan and its data types, the
# standard library, and jpholiday (the Japanese holiday calendar of schedules).
ALLOWED_FSCTL = ("fsctl.routing", "fsctl.numbering")
ALLOWED_THIRD_PARTY = ("jpholiday",)


def routing_imports() -> list[tuple[str, int, str]]:
    """(file, line, imported module) for every import statement in fsctl/routing/."""
    found = []
    for path in sorted(ROUTING.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.extend((path.name, node.lineno, alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    found.append((path.name, node.lineno, "." * node.level + (node.module or "")))
                elif node.module == "fsctl":
                    found.extend((path.name, node.lineno, f"fsctl.{alias.name}") for alias in node.names)
                else:
                    found.append((path.name, node.lineno, node.module or ""))
    return found


def allowed(module: str) -> bool:
    top = module.split(".")[0]
    if module.startswith("."):
        return False  # relative imports hide what they reach; routing spells its imports out
    if top == "fsctl":
        return any(module == name or module.startswith(name + ".") for name in ALLOWED_FSCTL)
    return top in sys.stdlib_module_names or top in ALLOWED_THIRD_PARTY or top == "__future__"


def test_routing_imports_only_itself_numbering_the_standard_library_and_jpholiday():
    imports = routing_imports()
    assert len(imports) > 30  # the walk reads the package
    assert [f"{f}:{line} imports {m}" for f, line, m in imports if not allowed(m)] == []


def test_the_check_sees_an_import_inside_a_function(tmp_path):
    source = "def load():\n    from sqlalchemy import select\n    from fsctl import models\n"
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            names.extend(f"fsctl.{a.name}" if node.module == "fsctl" else node.module for a in node.names)
    assert [n for n in names if not allowed(n)] == ["sqlalchemy", "fsctl.models"]
    assert allowed("fsctl.numbering") and allowed("jpholiday") and allowed("datetime")
    assert not allowed("fsctl.gateways.routing") and not allowed("fsctl.security.limits")


PURE = [
    "fsctl.numbering",
    *sorted(f"fsctl.routing.{p.stem}" for p in ROUTING.glob("*.py") if p.stem != "__init__"),
    "fsctl.xml.dialplan",
]


def test_pure_modules_import_no_database_flask_or_gevent():
    code = (
        "import sys\n"
        f"for name in {PURE!r}: __import__(name)\n"
        "from fsctl.numbering import default_plan; default_plan()\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'flask', 'gevent', 'psycopg'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=Path(ROOT)
    ).stdout.strip()
    assert out == ""


# Names that read files: the numbering plan and every other input reach routing as arguments.
FILE_READERS = {"default_plan", "open", "read_text", "read_bytes", "safe_load", "load_plan"}


def file_reads(source: str) -> list[tuple[int, str]]:
    """(line, name) of every call in `source` to a function that reads a file."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name in FILE_READERS:
                found.append((node.lineno, name))
    return found


def test_routing_reads_no_file_the_numbering_plan_is_an_argument():
    reads = [
        f"{path.name}:{line} calls {name}"
        for path in sorted(ROUTING.rglob("*.py"))
        for line, name in file_reads(path.read_text(encoding="utf-8"))
    ]
    assert reads == []


def test_a_hidden_plan_read_is_found():
    source = "def check(data):\n    numbering = default_plan()\n    return Path('x').read_text()\n"
    assert file_reads(source) == [(2, "default_plan"), (3, "read_text")]
