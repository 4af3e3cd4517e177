"""Dependencies point one way: no import cycle in fsctl/, and the core (models, numbering,
routing, snapshots, renderers, the tenant file) never imports a feature, the panel, the CLI or the
composition root. Every import counts, function bodies and TYPE_CHECKING blocks included."""

from __future__ import annotations

from layering import cycles, import_graph, upward_imports


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
