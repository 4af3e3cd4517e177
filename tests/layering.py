"""The import graph of fsctl/ read from the source with `ast`: every import, function bodies and
`TYPE_CHECKING` blocks included (a lazy import is still a dependency).

`python -m tests.layering` prints the cycles and the imports that run from the core up to a
feature, the panel, the CLI or the composition root.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("fsctl", "webpanel")

# The core: what every feature builds on. It never names a feature.
CORE = (
    "fsctl.models",
    "fsctl.numbering",
    "fsctl.routing",
    "fsctl.xml",
    "fsctl.snapshots",
    "fsctl.tenant_file",
)
# What plugs into the core, and what names the features (panel, CLI, composition roots).
ABOVE_CORE = (
    "fsctl.gateways",
    "fsctl.security",
    "fsctl.media",
    "fsctl.queues",
    "fsctl.billing",
    "fsctl.cdr",
    "fsctl.cli",
    "fsctl.wiring",
    "fsctl.esl.wiring",
    "webpanel",
)


def in_group(module: str, group: tuple[str, ...]) -> bool:
    """Whether `module` is one of the packages or modules named in `group`, or inside one."""
    return any(module == name or module.startswith(name + ".") for name in group)


def module_files(package: str) -> dict[str, Path]:
    """Dotted module name -> source file, for every module of a package under the repository root."""
    files = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        files[".".join(parts)] = path
    return files


def imported_names(module: str, path: Path) -> Iterator[tuple[str, int]]:
    """(dotted name, line) of every import in a module, wherever it stands; `from a import b` yields
    `a.b`, which the caller resolves to `a` when `a.b` is no module."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                yield f"{base}.{alias.name}", node.lineno


@functools.cache
def import_graph() -> dict[str, dict[str, int]]:
    """importer -> {imported module of the repository: first line}, for fsctl and webpanel."""
    files: dict[str, Path] = {}
    for package in PACKAGES:
        files.update(module_files(package))
    graph: dict[str, dict[str, int]] = {}
    for module, path in files.items():
        edges: dict[str, int] = {}
        for name, line in imported_names(module, path):
            target = name if name in files else None
            if target is None:
                parent = name.rsplit(".", 1)[0]
                target = parent if "." in name and parent in files else None
            if target is not None and target != module:
                edges.setdefault(target, line)
        graph[module] = edges
    return graph


def cycles(graph: dict[str, dict[str, int]], prefix: str = "fsctl") -> list[list[str]]:
    """The strongly connected components of more than one module among `prefix`'s modules (Tarjan)."""
    nodes = [m for m in graph if in_group(m, (prefix,))]
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, {}):
            if not in_group(nxt, (prefix,)):
                continue
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in nodes:
        if node not in index:
            visit(node)
    return sorted(found)


def upward_imports(graph: dict[str, dict[str, int]]) -> list[tuple[str, str, int]]:
    """(core module, feature/panel/CLI module it imports, line)."""
    return sorted(
        (importer, imported, line)
        for importer, edges in graph.items()
        if in_group(importer, CORE)
        for imported, line in edges.items()
        if in_group(imported, ABOVE_CORE)
    )


if __name__ == "__main__":
    g = import_graph()
    found = cycles(g)
    print(f"{len(found)} import cycles")
    for component in found:
        print("  " + " <-> ".join(component))
    up = upward_imports(g)
    print(f"{len(up)} upward imports")
    for importer, imported, line in up:
        print(f"  {importer}:{line} -> {imported}")
