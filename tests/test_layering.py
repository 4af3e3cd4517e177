"""Dependencies point one way: no import cycle in fsctl/, and the core (models, numbering,
routing, snapshots, renderers, the tenant file) never imports a feature, the panel, the CLI or the
composition root. Every import counts, function bodies and TYPE_CHECKING blocks included."""

from __future__ import annotations

import ast

from layering import PACKAGES, ROOT, cycles, import_graph, upward_imports


def test_no_import_cycle_in_fsctl():
    found = [" <-> ".join(component) for component in cycles(import_graph())]
    assert found == []


def test_the_core_imports_no_feature_panel_or_cli():
    found = upward_imports(import_graph())
    assert [f"{a}:{line} imports {b}" for a, b, line in found] == []


def test_the_graph_sees_lazy_and_relative_imports():
    graph = import_graph()
    # fsctl.cli imports its commands' modules inside functions.
    assert "fsctl.wiring" in graph["fsctl.cli"]
    assert "fsctl.routing.plan" in graph["fsctl.xml.dialplan"]


def test_a_cycle_and_an_upward_import_are_found():
    graph = {
        "fsctl.routing.calls": {"fsctl.gateways.routing": 1},
        "fsctl.gateways.routing": {"fsctl.routing.calls": 2},
        "fsctl.models": {},
    }
    assert cycles(graph) == [["fsctl.gateways.routing", "fsctl.routing.calls"]]
    assert upward_imports(graph) == [("fsctl.routing.calls", "fsctl.gateways.routing", 1)]


def private_imports(source: str) -> list[tuple[int, str]]:
    """(line, module.name) of every `from kumo_module import _private` in `source`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in PACKAGES:
            found += [
                (node.lineno, f"{node.module}.{a.name}")
                for a in node.names
                if a.name.startswith("_") and not a.name.startswith("__")
            ]
    return found


def test_no_module_imports_a_private_name_of_another():
    found = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        for line, name in private_imports(path.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_a_private_import_is_found():
    assert private_imports("from fsctl.routing.calls import _Calls, plan\n") == [
        (1, "fsctl.routing.calls._Calls")
    ]
