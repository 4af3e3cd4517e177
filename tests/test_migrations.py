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


def test_rebuilding_destinations_keeps_every_link(database_url):
    """The announcement migration copies `destinations` on SQLite: forwards, menus and numbers keep
    their destinations both ways, and the new CHECK still refuses a row with two targets."""
    import pytest
    from kumo_support import tenant_doc
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    from fsctl import db
    from fsctl.wiring import tenant_file

    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    doc = tenant_doc(numbers=[], ring_groups=[], park=None)
    doc["users"][0].update(did=None, caller_id=None)
    doc["users"][1]["forward"] = {"always": {"voicemail": "101"}}
    doc["ivr_menus"] = [
        {"name": "main", "options": {"1": {"user": "101"}}, "timeout_destination": {"hangup": True}}
    ]
    with db.make_session_factory(engine)() as session:
        tenant_file().apply(session, doc)
        session.commit()
    links = (
        "SELECT (SELECT count(*) FROM users WHERE forward_always_id IS NOT NULL),"
        " (SELECT count(*) FROM ivr_menus WHERE timeout_destination_id IS NOT NULL),"
        " (SELECT count(*) FROM ivr_options), (SELECT count(*) FROM destinations)"
    )
    with engine.connect() as conn:
        before = conn.execute(text(links)).one()
    assert before == (1, 1, 1, 3)
    config = migrate.alembic_config(database_url)
    command.downgrade(config, "e41c7d2a9b30")
    migrate.upgrade(database_url)
    with engine.connect() as conn:
        assert conn.execute(text(links)).one() == before
        tenant_id = conn.execute(text("SELECT id FROM tenants")).scalar_one()
        assert conn.execute(text("SELECT language FROM tenants")).scalar_one() == "ja"
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO destinations (tenant_id, kind, announcement, external_number) VALUES (:t, 'announcement', 'x', '0312345678')"
            ),
            {"t": tenant_id},
        )
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO destinations (tenant_id, kind, announcement) VALUES (:t, 'announcement', 'hours')"
            ),
            {"t": tenant_id},
        )
    engine.dispose()
