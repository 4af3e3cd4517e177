"""The panel's Flask extensions: Flask-SQLAlchemy over fsctl's own declarative base, Flask-Babel,
Flask-WTF's CSRF protection."""

from __future__ import annotations

from typing import Any

from flask_babel import Babel
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from fsctl import models
from fsctl.db import make_engine


class KumoSQLAlchemy(SQLAlchemy):
    """Flask-SQLAlchemy whose engines come from fsctl.db.make_engine.

    That gives the panel the same SQLite pragmas as the service (foreign keys ON, WAL, busy
    timeout): without them SQLite would silently ignore ON DELETE CASCADE and SET NULL.
    """

    def _make_engine(self, bind_key: str | None, options: dict[str, Any], app: Any) -> Engine:
        options = dict(options)
        url = make_url(options.pop("url"))
        return make_engine(url.render_as_string(hide_password=False), **options)


# model_class=Base: the panel maps the very same tables as fsctl (no second model), and its sessions
# are sqlalchemy Sessions, so fsctl.db's before_flush config-version bump applies to them too.
db = KumoSQLAlchemy(model_class=models.Base, session_options={"expire_on_commit": False})
babel = Babel()
# Every form post carries the session's signed token (csrf_field()); the JSON API, which authenticates
# with a bearer token and never with the session cookie, is exempt (webpanel.views.register).
csrf = CSRFProtect()
