"""The tenant file's Section seam: a feature's part of the file is checked, applied and exported through it."""

from __future__ import annotations

import ast
import copy
from pathlib import Path
from typing import Any

import pytest
from kumo_support import REPO_ROOT, tenant_doc
from marshmallow import fields
from sqlalchemy import select

from fsctl import db, models
from fsctl.numbering import default_plan
from fsctl.tenant_file import (
    ApplyContext,
    ConfigError,
    Document,
    FieldError,
    Known,
    SchemaPart,
    Section,
    TenantFile,
)


class Greetings(Section):
    """A made-up feature: a tenant-wide greeting and a badge per user, kept in memory."""

    name = "greetings"

    def __init__(self) -> None:
        self.store: dict[str, dict[str, Any]] = {}
        self.settled_with: list[list[str]] = []

    def schema(self) -> SchemaPart:
        return SchemaPart(
            top={"greeting": fields.String(load_default="")},
            user={"badge": fields.String(load_default=None)},
        )

    def numbers(self, data: Document) -> set[str]:
        return {"0312345999"} if data["greeting"] else set()

    def check(self, data: Document, known: Known) -> list[FieldError]:
        errors = []
        if "rude" in data["greeting"]:
            errors.append(FieldError(("greeting",), "must be polite", "impolite", {"word": "rude"}))
        for index, user in enumerate(data["users"]):
            if user["badge"] is not None and user["badge"] in known["user"]:
                errors.append(FieldError(("users", index, "badge"), "a badge is not an extension"))
        return errors

    def apply(self, context: ApplyContext, tenant: models.Tenant) -> None:
        if context.data["greeting"] == "refuse when applied":
            context.error(("greeting",), "refused by the feature", "refused", {})
            return
        badges = {u["extension"]: u["badge"] for u in context.data["users"] if u["badge"]}
        self.store[tenant.domain] = {"greeting": context.data["greeting"], "badges": badges}

    def settle(self, context: ApplyContext, tenant: models.Tenant) -> None:
        self.settled_with.append(sorted(user.extension for user in tenant.users))

    def export(self, tenant: models.Tenant, document: Document) -> None:
        stored = self.store.get(tenant.domain, {"greeting": "", "badges": {}})
        document["greeting"] = stored["greeting"]
        for entry in document["users"]:
            if entry["extension"] in stored["badges"]:
                entry["badge"] = stored["badges"][entry["extension"]]


def _with_greeting(greeting: str = "ようこそ", **overrides: Any) -> dict[str, Any]:
    doc = tenant_doc(greeting=greeting, **overrides)
    doc["users"][1]["badge"] = "night shift"
    return doc


def _apply(session_factory, file: TenantFile, doc: dict[str, Any]):
    with db.session_scope(session_factory) as session:
        return file.apply(session, copy.deepcopy(doc))


def _export(session_factory, file: TenantFile) -> dict[str, Any]:
    with db.session_scope(session_factory) as session:
        tenant = session.scalar(select(models.Tenant).where(models.Tenant.domain == "acme.kumo.test"))
        return file.export(tenant)


def test_a_section_is_checked_applied_settled_and_exported(session_factory):
    greetings = Greetings()
    file = TenantFile(default_plan(), [greetings])
    result = _apply(session_factory, file, _with_greeting())
    assert result.created
    assert greetings.store["acme.kumo.test"] == {"greeting": "ようこそ", "badges": {"102": "night shift"}}
    assert greetings.settled_with == [["101", "102"]]

    exported = _export(session_factory, file)
    assert exported["greeting"] == "ようこそ"
    assert exported["users"][1]["badge"] == "night shift"
    assert "badge" not in exported["users"][0]
    # The export applies again unchanged (the section's part included).
    assert not _apply(session_factory, file, exported).changed

    # Settled after the core removed the users the file no longer names.
    exported["ring_groups"][0]["members"] = ["101"]
    _apply(session_factory, file, {**exported, "users": exported["users"][:1]})
    assert greetings.settled_with[-1] == ["101"]


def test_a_section_check_refuses_the_file_with_its_own_errors(session_factory):
    doc = _with_greeting("a rude hello")
    doc["users"][0]["badge"] = "102"
    with pytest.raises(ConfigError) as refused:
        _apply(session_factory, TenantFile(default_plan(), [Greetings()]), doc)
    assert refused.value.errors == [
        FieldError(("greeting",), "must be polite", "impolite", {"word": "rude"}),
        FieldError(("users", 0, "badge"), "a badge is not an extension"),
    ]
    assert str(refused.value.errors[1]) == "users[0].badge: a badge is not an extension"


def test_an_error_reported_while_applying_refuses_everything(session_factory):
    with pytest.raises(ConfigError) as refused:
        _apply(
            session_factory, TenantFile(default_plan(), [Greetings()]), _with_greeting("refuse when applied")
        )
    assert [(e.path, e.code) for e in refused.value.errors] == [(("greeting",), "refused")]
    with db.session_scope(session_factory) as session:
        assert session.scalar(select(models.Tenant)) is None


def test_numbers_a_section_gives_the_tenant_count_as_its_own(session_factory):
    doc = _with_greeting()
    doc["users"][0]["caller_id"] = "0312345999"
    _apply(session_factory, TenantFile(default_plan(), [Greetings()]), doc)
    with pytest.raises(ConfigError) as refused:
        _apply(session_factory, TenantFile(default_plan(), [Greetings()]), {**doc, "greeting": ""})
    (error,) = refused.value.errors
    assert error.path == ("users", 0, "caller_id") and error.code == "not_own_number"
    assert error.params == {"number": "0312345999"}


def test_without_the_section_its_part_of_the_file_is_unknown(session_factory):
    with pytest.raises(ConfigError) as refused:
        _apply(session_factory, TenantFile(default_plan()), _with_greeting())
    paths = {error.path for error in refused.value.errors}
    assert ("greeting",) in paths and ("users", 1, "badge") in paths


FEATURES = ("fsctl.gateways", "fsctl.billing", "fsctl.media", "fsctl.security", "fsctl.wiring", "fsctl.cli")


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_the_tenant_file_names_no_feature():
    """Every import of the package, function bodies included: features plug in, the core never names them."""
    package = REPO_ROOT / "fsctl" / "tenant_file"
    named = {
        (path.name, module)
        for path in package.glob("*.py")
        for module in _imports(path)
        if module.startswith(FEATURES) or module.startswith("webpanel")
    }
    assert named == set()
