"""kumo's customer control panel (Flask): tenants run their phone system, the operator runs the platform.

fsctl never imports this package; the panel imports fsctl and writes every tenant change through
fsctl.tenant_file (the tenant file's apply), the same validation as `fsctl apply`.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

from fsctl.config import settings_from_env

log = logging.getLogger(__name__)

DEFAULT_LISTEN = "127.0.0.1:8000"


def _secret_key(instance_path: Path) -> str:
    """SECRET_KEY from the environment, else one generated once into instance/ (mode 0600)."""
    from_env = os.environ.get("WEBPANEL_SECRET_KEY") or os.environ.get("SECRET_KEY")
    if from_env:
        return from_env
    path = instance_path / "webpanel-secret-key"
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
        log.info("generated a secret key in %s", path)
    return path.read_text().strip()


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """The panel application; `test_config` overrides settings (tests never patch os.environ)."""
    test_config = dict(test_config or {})
    settings = settings_from_env()
    # The same folder the service keeps its generated credentials in (FSCTL_INSTANCE_DIR).
    instance_path = test_config.pop("INSTANCE_PATH", None) or str(settings.instance_dir)
    app = Flask(__name__, instance_path=instance_path)
    cookie_secure = os.environ.get("WEBPANEL_COOKIE_SECURE", "1") != "0"
    app.config.update(
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        SESSION_COOKIE_NAME="kumo_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Secure by default; browsers treat http://127.0.0.1 and localhost as secure for cookies.
        SESSION_COOKIE_SECURE=cookie_secure,
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=12),
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        WEBPANEL_LISTEN=os.environ.get("WEBPANEL_LISTEN", DEFAULT_LISTEN),
        # Comma-separated addresses/networks of reverse proxies whose X-Forwarded-For is believed.
        WEBPANEL_TRUSTED_PROXIES=os.environ.get("WEBPANEL_TRUSTED_PROXIES", ""),
        # Where the panel is reached (https://panel.example.com): the host of password-reset links.
        WEBPANEL_BASE_URL=os.environ.get("WEBPANEL_BASE_URL", ""),
        # Comma-separated base URLs of the fsctl services (http://10.0.0.5:8080) whose /healthz the
        # operator's dashboard shows (database and switch connection of each).
        WEBPANEL_SERVICE_URLS=os.environ.get("WEBPANEL_SERVICE_URLS", ""),
        ARGON2_FAST=False,
    )
    app.config.update(test_config)
    if "SECRET_KEY" not in test_config:
        app.config["SECRET_KEY"] = _secret_key(Path(app.instance_path))

    from webpanel.extensions import init_db
    from webpanel.i18n import init_i18n
    from webpanel.security import init_security

    if app.config["ARGON2_FAST"]:
        # Tests only: cheap argon2 parameters keep hundreds of sign-ins fast.
        from argon2 import PasswordHasher

        from fsctl.accounts import use_hasher

        use_hasher(PasswordHasher(time_cost=1, memory_cost=256, parallelism=1))

    init_db(app)
    init_i18n(app)
    from webpanel.error_words import field_words

    app.jinja_env.globals["field_words"] = field_words  # the error summary names each field
    init_security(app)

    from webpanel import errors, views

    errors.init_errors(app)
    views.register(app)
    return app
