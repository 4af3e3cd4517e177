"""The alembic chain builds exactly the models' schema, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from fsctl import migrate
from fsctl.db import make_engine


def test_upgrade_from_empty_matches_the_models_and_downgrades(database_url):
    migrate.upgrade(database_url)
    config = migrate.alembic_config(database_url)
    command.check(config)  # raises when the models and the migrated schema differ
    engine = make_engine(database_url)
    foreign_keys = {fk["name"] for fk in inspect(engine).get_foreign_keys("users")}
    assert "fk_users_forward_always_id_destinations" in foreign_keys
    engine.dispose()
    command.downgrade(config, "base")
    migrate.upgrade(database_url)
