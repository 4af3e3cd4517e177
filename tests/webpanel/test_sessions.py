"""Sign-out ends the session on the server: a cookie copied before it is refused after it;
so are the cookies of an account whose password or role changed or that was disabled."""

from __future__ import annotations

from panel_helpers import PASSWORD, PanelClient
from sqlalchemy import select

from fsctl import models
from webpanel.extensions import db

COOKIE = "kumo_session"


def copy_of(app, panel: PanelClient) -> PanelClient:
    """Another browser holding the very same session cookie (a stolen or copied cookie)."""
    other = PanelClient(app.test_client())
    other.client.set_cookie(COOKIE, panel.client.get_cookie(COOKIE).value)
    return other


def tenant_user(app, admin: PanelClient) -> tuple[int, PanelClient]:
    admin.post("/users/new", {"extension": "201", "name": "Hanako"})
    with app.app_context():
        user_id = db.session.scalar(select(models.User.id).where(models.User.extension == "201"))
    admin.post(f"/users/{user_id}/login", {"email": "hanako@acme.example", "password": PASSWORD})
    person = PanelClient(app.test_client())
    assert person.login("hanako@acme.example").status_code == 302
    return user_id, person


def signed_out(panel: PanelClient, url: str = "/") -> bool:
    response = panel.get(url)
    return response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_cookie_copied_before_sign_out_is_refused_after_it(app, admin):
    stolen = copy_of(app, admin)
    assert stolen.get("/users/").status_code == 200
    assert admin.post("/logout").status_code == 302
    assert signed_out(stolen, "/users/")
    assert signed_out(admin, "/users/")
    # Signing in again works, and the old cookie stays dead.
    assert PanelClient(app.test_client()).login("admin@acme.example").status_code == 302
    assert signed_out(stolen, "/users/")


def test_a_role_change_ends_the_sessions_of_that_account(app, admin):
    _user_id, person = tenant_user(app, admin)
    assert person.get("/users/me").status_code == 200
    with app.app_context():
        account = db.session.scalar(
            select(models.PanelAccount).where(models.PanelAccount.email == "hanako@acme.example")
        )
        account.role = models.AccountRole.ADMIN
        db.session.commit()
    assert signed_out(person, "/users/me")


def test_a_disabled_sign_in_ends_its_sessions_and_cannot_sign_in(app, admin):
    user_id, person = tenant_user(app, admin)
    stolen = copy_of(app, person)
    response = admin.post(f"/users/{user_id}/login/disable")
    assert response.status_code == 302
    assert signed_out(person, "/users/me") and signed_out(stolen, "/users/me")
    assert person.login("hanako@acme.example").status_code == 401
    page = admin.get(f"/users/{user_id}").get_data(as_text=True)
    assert "無効" in page
    admin.post(f"/users/{user_id}/login/enable")
    assert person.login("hanako@acme.example").status_code == 302
    assert person.get("/users/me").status_code == 200
    assert signed_out(stolen, "/users/me")
    with app.app_context():
        actions = db.session.scalars(select(models.AuditEntry.action)).all()
    assert "account.disable" in actions and "account.enable" in actions


def test_another_tenants_admin_cannot_disable_a_sign_in(app, admin, client):
    from panel_helpers import set_status, signup, tenant_of

    user_id, person = tenant_user(app, admin)
    other = PanelClient(app.test_client())
    signup(other, company="Beta Ltd", email="admin@beta.example")
    set_status(app, tenant_of(app, "admin@beta.example").domain, "active")
    assert other.post(f"/users/{user_id}/login/disable").status_code == 404
    assert person.get("/users/me").status_code == 200
