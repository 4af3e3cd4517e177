"""Alembic environment: one migration chain for SQLite and PostgreSQL, URL from fsctl's settings."""

from __future__ import annotations

import warnings

from alembic import context

from fsctl.db import make_engine
from fsctl.models import Base

# SQLite cannot reflect an expression index, so `alembic check` there skips comparing this one
# (PostgreSQL compares it); the warning would say so on every SQLite check.
warnings.filterwarnings("ignore", message=r".*expression-based index '?ix_numbers_e164_without_plus")

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
        return
    # The one place a database is created.
    engine = make_engine(config.get_main_option("sqlalchemy.url"), create=True)
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection) -> None:
    # render_as_batch: SQLite can only change a table by copying it; alembic's batch mode does that.
    context.configure(
        connection=connection, target_metadata=target_metadata, render_as_batch=True, compare_type=True
    )
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # A batch migration copies a table and drops the old one. With foreign keys on, SQLite's DROP
        # TABLE first deletes every row, firing ON DELETE SET NULL/CASCADE in the tables that point at
        # it (users.forward_*_id -> destinations would be emptied). The pragma is ignored inside a
        # transaction, so it is set before one starts; the copy is checked before foreign keys return.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        # The copy is then renamed to the table's name. Since SQLite 3.26 a rename first checks
        # every view, and the kamailio_* views name the table just dropped ("error in view ...: no
        # such table"); the legacy rename skips that check, and the views find the table again.
        connection.exec_driver_sql("PRAGMA legacy_alter_table=ON")
    try:
        with context.begin_transaction():
            context.run_migrations()
            if sqlite and (broken := connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()):
                raise RuntimeError(f"migration left dangling foreign keys: {broken[:5]}")
    finally:
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.exec_driver_sql("PRAGMA legacy_alter_table=OFF")


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `fsctl db upgrade`")
run_migrations_online()
