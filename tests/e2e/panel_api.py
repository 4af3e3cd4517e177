"""The panel as an operator runs it (`fsctl panel`), beside the e2e switch, with an API token of one
tenant as its administrator would make one: for tests that change a tenant through the API and
then judge the next call."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import secrets
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator

from sqlalchemy import text

from e2e.conftest import VENV_BIN
from e2e.phones import free_tcp_port


@contextlib.contextmanager
def running_panel(e2e, domain: str, name: str) -> Iterator[tuple[str, str]]:
    """(base URL, API token of `domain`); the panel's output goes to <workdir>/panel-<name>.log."""
    token = "kumo_e2e_" + secrets.token_urlsafe(24)
    with e2e.kumo.engine.begin() as conn:
        tenant_id = conn.execute(text("SELECT id FROM tenants WHERE domain = :d"), {"d": domain}).scalar_one()
        conn.execute(
            text(
                "INSERT INTO api_tokens (tenant_id, name, token_hash, created_by, created_at) "
                "VALUES (:t, 'e2e', :h, :by, :now)"
            ),
            {
                "t": tenant_id,
                "h": hashlib.sha256(token.encode()).hexdigest(),
                "by": f"e2e@{name}",
                "now": dt.datetime.now(dt.UTC),
            },
        )
    port = free_tcp_port()
    env = dict(e2e.kumo.env, WEBPANEL_SECRET_KEY=secrets.token_hex(16), WEBPANEL_COOKIE_SECURE="0")
    with open(e2e.workdir / f"panel-{name}.log", "ab") as log:
        proc = subprocess.Popen(
            [str(VENV_BIN / "fsctl"), "panel", "--listen", f"127.0.0.1:{port}"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            cwd=e2e.workdir,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            e2e.wait_until(lambda: answers(f"{base}/api/openapi.json"), timeout=30, what="the panel")
            yield base, token
        finally:
            proc.terminate()
            proc.wait(10)


def answers(url: str) -> bool:
    """Whether anything answers HTTP at `url` (an error status is an answer)."""
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
