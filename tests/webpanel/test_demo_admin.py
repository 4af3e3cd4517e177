"""The demo administrator `make run` creates (fsctl.devrun.ensure_demo_admin) signs in to the panel
with the password printed once, and sees the demo tenant."""

from __future__ import annotations

from panel_helpers import PanelClient

from fsctl.cli import _session_factory, apply_file_document
from fsctl.config import Settings
from fsctl.devrun import demo_document, ensure_demo_admin


def test_the_demo_admin_signs_in_with_the_printed_password(app, database_url, tmp_path):
    settings = Settings(database_url=database_url, instance_dir=tmp_path / "kumo-instance")
    assert apply_file_document(settings, demo_document(settings.instance_dir), "test") == 0
    email, password = ensure_demo_admin(_session_factory(settings), "demo.kumo.test")

    panel = PanelClient(app.test_client())
    assert panel.login(email, "not-the-password").status_code == 401
    signed_in = panel.login(email, password)
    assert signed_in.status_code in (302, 303), signed_in.get_data(as_text=True)[:500]
    page = panel.get("/", follow_redirects=True).get_data(as_text=True)
    assert "株式会社デモ" in page or "demo.kumo.test" in page
