"""The gateways page: registration, channels in use and refusals today, per tenant."""

from __future__ import annotations

import datetime as dt

from panel_helpers import PanelClient, set_status, signup, tenant_of

from fsctl import models
from webpanel.extensions import db


def add_gateways(app, tenant_id: int, prefix: str) -> tuple[int, int]:
    """A registering gateway (registered, one call up, two refusals today) and a static one."""
    now = dt.datetime.now(dt.UTC)
    with app.app_context():
        honsha = models.Gateway(
            tenant_id=tenant_id,
            name=f"{prefix}honsha",
            auth=models.GatewayAuth.CREDENTIALS,
            channels=4,
            a1_hash="0" * 32,
        )
        osaka = models.Gateway(
            tenant_id=tenant_id, name=f"{prefix}osaka", auth=models.GatewayAuth.ADDRESS, channels=8,
            address="203.0.113.10", cidr="203.0.113.8/29",
        )  # fmt: skip
        db.session.add_all([honsha, osaka])
        db.session.flush()
        db.session.add_all(
            [
                models.LiveRegistration(
                    tenant_id=tenant_id, extension=honsha.name, call_id=f"{prefix}reg",
                    network_address="198.51.100.7", expires_at=now + dt.timedelta(minutes=5),
                ),
                models.LiveCall(uuid=f"{prefix}call", tenant_id=tenant_id, direction="in"),
                models.GatewayChannel(uuid=f"{prefix}call", gateway_id=honsha.id, tenant_id=tenant_id),
                models.GatewayRefusal(gateway_id=honsha.id, tenant_id=tenant_id, call_uuid=f"{prefix}r1", at=now),
                models.GatewayRefusal(gateway_id=honsha.id, tenant_id=tenant_id, call_uuid=f"{prefix}r2", at=now),
            ]
        )  # fmt: skip
        db.session.commit()
        return honsha.id, osaka.id


def test_gateway_status_of_the_tenant_only(app, admin):
    honsha, osaka = add_gateways(app, tenant_of(app, "admin@acme.example").id, "a-")
    page = admin.get("/gateways/").get_data(as_text=True)
    row = page.split(f'id="gateway-{honsha}"')[1].split("</tr>")[0]
    assert "a-honsha" in row and "登録済み" in row and "198.51.100.7" in row
    assert "1 / 4" in row and "<td>2</td>" in row
    static = page.split(f'id="gateway-{osaka}"')[1].split("</tr>")[0]
    assert "固定アドレス 203.0.113.10" in static and "0 / 8" in static and "<td>0</td>" in static

    other = PanelClient(app.test_client())
    signup(other, company="Beta Ltd", email="admin@beta.example")
    beta = tenant_of(app, "admin@beta.example")
    set_status(app, beta.domain, "active")
    add_gateways(app, beta.id, "b-")
    theirs = other.get("/gateways/").get_data(as_text=True)
    assert "b-honsha" in theirs and "a-honsha" not in theirs and f"gateway-{honsha}" not in theirs
    assert "b-honsha" not in admin.get("/gateways/").get_data(as_text=True)
