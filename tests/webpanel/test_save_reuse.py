"""save_tenant keeps the rows the page preloaded only while nothing was committed since."""

from __future__ import annotations

from panel_helpers import tenant_of
from sqlalchemy import event

from fsctl import db as fsctl_db
from fsctl import models
from fsctl.wiring import tenant_file
from webpanel.extensions import db
from webpanel.tenantdoc import current_document, save_tenant


def _add_user(session_factory, domain: str, extension: str) -> None:
    """Another process (fsctl apply, another panel worker) adds a user and commits."""
    with fsctl_db.session_scope(session_factory) as session:
        document = tenant_file().export(fsctl_db.tenant_by_domain(session, domain))
        document["users"].append({"extension": extension, "name": "並行", "password": "Concurrent-pass-1"})
        assert tenant_file().apply(session, document).changed


def _park(document: dict) -> None:
    document["park"] = {"slots": "700-709"}


def test_a_change_committed_after_the_page_loaded_is_not_overwritten(app, admin, session_factory):
    tenant = tenant_of(app, "admin@acme.example")
    seen: list[list[str]] = []

    def change(document: dict) -> None:
        seen.append([u["extension"] for u in document["users"]])
        _park(document)

    with app.app_context():
        # A view holds its tenant (g.tenant) while it works: the rows preload read stay in the session.
        row = db.session.get(models.Tenant, tenant.id)
        page = current_document(row)  # what the view read
        _add_user(session_factory, tenant.domain, "301")
        save_tenant(tenant.id, change, actor="test", action="settings.update", summary="park")
        assert row.id == tenant.id
    assert "301" not in [u["extension"] for u in page["users"]]
    assert seen and "301" in seen[0]
    with app.app_context():
        document = current_document(db.session.get(models.Tenant, tenant.id))
    assert "301" in [u["extension"] for u in document["users"]]
    assert document["park"] == {"slots": "700-709"}


def test_a_save_right_after_the_page_loaded_reads_the_tenant_once(app, admin, engine, session_factory):
    tenant = tenant_of(app, "admin@acme.example")
    _add_user(session_factory, tenant.domain, "301")
    user_selects: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM users" in statement:
            user_selects.append(statement)

    with app.app_context():
        row = db.session.get(models.Tenant, tenant.id)
        current_document(row)
        panel_engine = db.engines[None]
        event.listen(panel_engine, "before_cursor_execute", count)
        try:
            save_tenant(tenant.id, _park, actor="test", action="settings.update", summary="park")
        finally:
            event.remove(panel_engine, "before_cursor_execute", count)
    assert user_selects == []
    assert row.id == tenant.id
    with app.app_context():
        assert current_document(db.session.get(models.Tenant, tenant.id))["park"] == {"slots": "700-709"}


def test_a_save_right_after_the_page_loaded_starts_from_that_export(app, admin, session_factory, monkeypatch):
    """The tenant is exported once for a page and its save (later pages at the same version reuse
    it too), and the page's own copy may be changed freely: the save still sees the tenant as
    stored, and audits only what its change did."""
    from fsctl.wiring import tenant_file

    tenant = tenant_of(app, "admin@acme.example")
    _add_user(session_factory, tenant.domain, "301")
    exports: list[int] = []
    real_export = tenant_file().export

    def counting_export(row):
        exports.append(row.id)
        return real_export(row)

    monkeypatch.setattr(tenant_file(), "export", counting_export)
    with app.app_context():
        users = current_document(db.session.get(models.Tenant, tenant.id))["users"]
    assert [u["extension"] for u in users] == ["301"]
    with app.app_context():
        row = db.session.get(models.Tenant, tenant.id)
        page = current_document(row)
        page["users"].clear()  # the view's copy, not the save's starting point
        save_tenant(tenant.id, _park, actor="test", action="settings.update", summary="park")
        assert row.id == tenant.id
    assert exports == [tenant.id]
    with app.app_context():
        document = current_document(db.session.get(models.Tenant, tenant.id))
        audit = db.session.query(models.AuditEntry).order_by(models.AuditEntry.id.desc()).first()
    assert exports == [tenant.id, tenant.id]  # a new version: exported again
    assert document["park"] == {"slots": "700-709"} and document["users"] == users
    assert '"park' in audit.detail and "users" not in audit.detail


def test_a_change_flushed_but_rolled_back_is_never_served_as_a_version(app, admin, session_factory):
    tenant = tenant_of(app, "admin@acme.example")
    with app.app_context():
        row = db.session.get(models.Tenant, tenant.id)
        row.name = "never committed"
        db.session.flush()  # the version moves inside this transaction
        assert current_document(row)["name"] == "never committed"
        db.session.rollback()
    _add_user(session_factory, tenant.domain, "301")  # another commit takes that version number
    with app.app_context():
        document = current_document(db.session.get(models.Tenant, tenant.id))
    assert document["name"] != "never committed" and [u["extension"] for u in document["users"]] == ["301"]
