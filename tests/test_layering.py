"""Dependencies point one way: no import cycle in fsctl/, and the core (models, numbering,
routing, snapshots, renderers, the tenant file) never imports a feature, the panel, the CLI or the
composition root. Every import counts, function bodies and TYPE_CHECKING blocks included."""

from __future__ import annotations

from layering import cycles, import_graph, upward_imports

# The tenant file (fsctl.tenant_config) still applies the gateways' and billing's parts of a tenant
# file itself, until those features plug in as tenant-file sections; nothing else may.
TENANT_FILE_CYCLE = "fsctl.gateways.config <-> fsctl.tenant_config"
TENANT_FILE_IMPORTS = {"fsctl.billing.ivr_option", "fsctl.billing.subscriptions", "fsctl.gateways.config"}


def test_no_import_cycle_in_fsctl():
    found = [" <-> ".join(component) for component in cycles(import_graph())]
    assert [c for c in found if c != TENANT_FILE_CYCLE] == []


def test_the_core_imports_no_feature_panel_or_cli():
    found = upward_imports(import_graph())
    assert [
        f"{a}:{line} imports {b}"
        for a, b, line in found
        if not (a == "fsctl.tenant_config" and b in TENANT_FILE_IMPORTS)
    ] == []


def test_the_graph_sees_lazy_and_relative_imports():
    graph = import_graph()
    # fsctl.cli imports its commands' modules inside functions.
    assert "fsctl.tenant_config" in graph["fsctl.cli"] or any(
        m.startswith("fsctl.tenant") for m in graph["fsctl.cli"]
    )
    assert "fsctl.routing.plan" in graph["fsctl.xml.dialplan"]


def test_a_cycle_and_an_upward_import_are_found():
    graph = {
        "fsctl.routing.calls": {"fsctl.gateways.routing": 1},
        "fsctl.gateways.routing": {"fsctl.routing.calls": 2},
        "fsctl.models": {},
    }
    assert cycles(graph) == [["fsctl.gateways.routing", "fsctl.routing.calls"]]
    assert upward_imports(graph) == [("fsctl.routing.calls", "fsctl.gateways.routing", 1)]
