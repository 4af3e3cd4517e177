"""Two administrators saving different parts at the same moment: both changes survive."""

from __future__ import annotations

import threading
import time

import pytest
from panel_helpers import tenant_of

from fsctl import models
from webpanel.extensions import db
from webpanel.tenantdoc import current_document, save_tenant


def test_concurrent_saves_do_not_lose_each_others_change(app, admin, database_url):
    if not database_url.startswith("postgresql"):
        # Under the tests' gevent, SQLite's lock wait blocks the only OS thread; PostgreSQL's does not.
        pytest.skip("needs PostgreSQL (DATABASE_URL): row locks and a cooperative driver")
    tenant_id = tenant_of(app, "admin@acme.example").id
    errors: list[BaseException] = []
    seen: list[bool] = []

    def slow_international(document: dict) -> None:
        document["international_calls"] = True
        time.sleep(0.5)  # holds the tenant's lock while the other save starts

    def park(document: dict) -> None:
        seen.append(document["international_calls"])
        document["park"] = {"slots": "700-709"}

    def run(change) -> None:
        try:
            with app.app_context():
                save_tenant(tenant_id, change, actor="test", action="settings.update", summary="concurrent")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    first = threading.Thread(target=run, args=(slow_international,))
    second = threading.Thread(target=run, args=(park,))
    first.start()
    time.sleep(0.1)
    second.start()
    first.join(20)
    second.join(20)
    assert not errors
    # The second save waited for the first and edited the document as the first left it.
    assert seen == [True]
    with app.app_context():
        tenant = db.session.get(models.Tenant, tenant_id)
        document = current_document(tenant)
    assert document["international_calls"] is True and document["park"] == {"slots": "700-709"}
