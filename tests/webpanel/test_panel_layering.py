"""How the panel's modules depend on each other: the JSON API never reaches into the HTML pages, and
the CRUD pages of the tenant document's named sections share one set of routes."""

from __future__ import annotations

import ast
from pathlib import Path

import webpanel
from webpanel.views import ivr, ringgroups, schedules
from webpanel.views.sections import SectionPages

PANEL = Path(webpanel.__file__).resolve().parent


def _imports(path: Path) -> set[str]:
    """Every module `path` imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_the_api_imports_no_html_view_module():
    views = sorted(
        m for m in _imports(PANEL / "api.py") if m == "webpanel.views" or m.startswith("webpanel.views.")
    )
    assert not views


def test_shared_document_edits_import_no_flask():
    assert not {m for m in _imports(PANEL / "document_edits.py") if m.split(".")[0] in ("flask", "webpanel")}


def test_ring_groups_schedules_and_menus_share_one_set_of_routes(app):
    rules = {rule.endpoint: rule for rule in app.url_map.iter_rules()}
    for module, arg in ((ringgroups, "group_id"), (schedules, "schedule_id"), (ivr, "menu_id")):
        assert isinstance(module.PAGES, SectionPages)
        name = module.bp.name
        assert rules[f"{name}.new"].methods >= {"GET", "POST"}
        assert rules[f"{name}.edit"].arguments == {arg}
        assert rules[f"{name}.delete"].methods >= {"POST"} and "GET" not in rules[f"{name}.delete"].methods
