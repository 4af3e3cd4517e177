"""The panel's Flask extensions: Flask-SQLAlchemy over fsctl's own declarative base, Flask-Babel,
Flask-WTF's CSRF protection."""

from __future__ import annotations

from flask import Flask
from flask_babel import Babel
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from fsctl import models
from fsctl.db import engine_arguments, prepare_engine

# model_class=Base: the panel maps the very same tables as fsctl (no second model), and its sessions
# are sqlalchemy Sessions, so fsctl.db's before_flush config-version bump applies to them too.
db = SQLAlchemy(model_class=models.Base, session_options={"expire_on_commit": False})
babel = Babel()
# Every form post carries the session's signed token (csrf_field()); the JSON API, which authenticates
# with a bearer token and never with the session cookie, is exempt (webpanel.views.register).
csrf = CSRFProtect()


def init_db(app: Flask) -> None:
    """Flask-SQLAlchemy opening the database as every fsctl process does (fsctl.db.engine_arguments).

    Through its public settings: the URL (a SQLite file opened read-write, never created) and the
    engine options (PostgreSQL's connect timeout, pre-ping); then each engine gets the service's
    per-connection set-up (fsctl.db.prepare_engine). Without SQLite's foreign-keys pragma SQLite would
    silently ignore ON DELETE CASCADE and SET NULL.
    """
    url, options = engine_arguments(app.config["SQLALCHEMY_DATABASE_URI"])
    app.config["SQLALCHEMY_DATABASE_URI"] = url.render_as_string(hide_password=False)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**options, **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {})}
    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            prepare_engine(engine)
