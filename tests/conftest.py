"""Shared fixtures: a fresh database per test (SQLite by default, DATABASE_URL when given)."""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import os  # noqa: E402
import uuid  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402
from kumo_support import ACME, FIXTURES, REPO_ROOT, read_fixture, tenant_doc  # noqa: E402, F401
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from system_packages import missing_reason, required  # noqa: E402

from fsctl import db, models  # noqa: E402
from fsctl.config import Settings  # noqa: E402
from fsctl.wiring import tenant_file  # noqa: E402


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip a test whose Debian packages are missing (fail instead under `make test`)."""
    names = tuple(name for marker in item.iter_markers("system_package") for name in marker.args)
    reason = missing_reason(names) if names else None
    if reason is None:
        return
    if required():
        pytest.fail(f"{reason} (KUMO_SYSTEM_PACKAGES_REQUIRED is set)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _no_secrets_in_the_checkout():
    """A test must never leave kumo's generated secrets in the repository's own instance/ folder.

    Settings() without `instance_dir` (or `xml_curl_auth="off"`) generates them there; such a test
    would pass here and leave a credential behind in the developer's checkout.
    """
    from fsctl.config import DEFAULT_INSTANCE_DIR

    names = [DEFAULT_INSTANCE_DIR / name for name in ("fs-http-credentials", "esl-password")]
    before = {path for path in names if path.exists()}
    yield
    created = [path for path in names if path.exists() and path not in before]
    for path in created:
        path.unlink()
    if created:
        pytest.fail(
            f"the test wrote {[p.name for p in created]} into the checkout's instance/: pass instance_dir"
        )


@pytest.fixture(autouse=True)
def _only_posted_fields_read(monkeypatch):
    """A lookup served through the app must read only fields the switch posts (fsctl.xmlcurl.posted):
    kumo treats any other as absent and only logs it, so a feature's test could pass on a default."""
    from fsctl.xmlcurl import posted

    unposted: list[tuple[str, str]] = []
    monkeypatch.setattr(posted, "unposted_read", lambda section, key: unposted.append((section, key)))
    yield
    if unposted:
        pytest.fail(f"lookup fields read but not posted by the switch (fsctl.xmlcurl.posted): {unposted}")


@pytest.fixture
def fixtures_dir() -> Path:
    """The real captured FreeSWITCH traffic."""
    return FIXTURES


@pytest.fixture
def database_url(tmp_path) -> str:
    """A throw-away database: a new SQLite file, or a new PostgreSQL database under DATABASE_URL's server."""
    base = os.environ.get("DATABASE_URL")
    if not base or base.startswith("sqlite"):
        # An empty file, as a freshly created PostgreSQL database is there: kumo never creates one
        # itself outside `fsctl db upgrade`; tests then build their schema.
        path = tmp_path / "kumo-test.sqlite3"
        path.touch(mode=0o600)
        yield f"sqlite:///{path}"
        return
    url = make_url(base)
    name = f"kumo_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def engine(database_url):
    eng = db.make_engine(database_url)
    models.Base.metadata.create_all(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def session_factory(engine):
    return db.make_session_factory(engine)


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    # Open lookups: these tests post without credentials (the secure default has tests of its own).
    return Settings(
        database_url=database_url,
        http_listen=("127.0.0.1", 0),
        http_workers=1,
        instance_dir=tmp_path / "instance",
        xml_curl_auth="off",
    )


@pytest.fixture
def make_tenant(session_factory):
    """Apply a tenant file (acme by default, keys overridden) and return its domain."""

    def _make(**overrides: Any) -> str:
        doc = tenant_doc(**overrides)
        with db.session_scope(session_factory) as session:
            return tenant_file().apply(session, doc).domain

    return _make
