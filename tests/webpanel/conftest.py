"""Fixtures for the panel: an app on the test's throw-away database, clients signed in per role."""

from __future__ import annotations

import pytest
from panel_helpers import PanelClient, make_operator, set_status, signup, tenant_of

from webpanel import create_app
from webpanel.extensions import db


@pytest.fixture
def app(database_url, engine, tmp_path):
    application = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test-secret",
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "ARGON2_FAST": True,
        }
    )
    yield application
    with application.app_context():
        db.session.remove()
        db.engines[None].dispose()


@pytest.fixture
def client(app) -> PanelClient:
    return PanelClient(app.test_client())


@pytest.fixture
def admin(app) -> PanelClient:
    """A signed-up tenant ('Acme Trading', admin@acme.example), made active, its admin signed in."""
    panel = PanelClient(app.test_client())
    signup(panel)
    set_status(app, tenant_of(app, "admin@acme.example").domain, "active")
    return panel


@pytest.fixture
def operator(app) -> PanelClient:
    panel = PanelClient(app.test_client())
    panel.login(make_operator(app))
    return panel
