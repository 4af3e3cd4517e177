"""Renaming a ring group or schedule: every destination in the document that names it follows."""

from __future__ import annotations

from typing import Any


def rename_references(node: Any, kind: str, old: str, new: str) -> Any:
    """Rewrite {kind: old} destinations (and users' personal `schedule`) to the new name, in place."""
    if isinstance(node, dict):
        if len(node) == 1 and node.get(kind) == old:
            node[kind] = new
            return node
        for key, value in node.items():
            if kind == "schedule" and key == "schedule" and value == old and isinstance(value, str):
                node[key] = new
            else:
                rename_references(value, kind, old, new)
    elif isinstance(node, list):
        for item in node:
            rename_references(item, kind, old, new)
    return node
