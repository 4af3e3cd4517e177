"""Engine and session set-up, shared by every process; the config-version bump lives here."""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, event, inspect, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from fsctl import models

log = logging.getLogger(__name__)

# Seconds to establish a PostgreSQL connection (libpq connect_timeout); lookups have a shorter deadline.
CONNECT_TIMEOUT = 5


def sqlite_file(database_url: str) -> Path | None:
    """The file of a SQLite URL; None for other databases and in-memory SQLite."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database.removeprefix("file:"))


def make_engine(database_url: str, create: bool = False, **kwargs: object) -> Engine:
    """Create an engine; for SQLite also foreign keys, WAL and a busy timeout.

    A SQLite file is opened read-write but never created: a worker restarted after the file was removed
    must fail loudly, not serve from a new empty database. Only `fsctl db upgrade` (and tests that
    build their own schema) pass `create=True`, which also makes the folder (0700).
    """
    url, options = engine_arguments(database_url, create=create)
    extra_connect_args = kwargs.pop("connect_args", None) or {}
    connect_args = {**options.pop("connect_args", {}), **extra_connect_args}  # type: ignore[dict-item]
    if connect_args:
        options["connect_args"] = connect_args
    engine = create_engine(url, **{**options, **kwargs})
    prepare_engine(engine)
    return engine


def engine_arguments(database_url: str, create: bool = False) -> tuple[URL, dict[str, Any]]:
    """The URL and create_engine() options every kumo process opens `database_url` with.

    For a caller that creates the engine itself (the panel's Flask-SQLAlchemy, from its
    SQLALCHEMY_DATABASE_URI and SQLALCHEMY_ENGINE_OPTIONS), then hands it to `prepare_engine`.
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        path = sqlite_file(database_url)
        if path is not None and create:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            # An empty file is a valid SQLite database; created here so its mode is ours whatever the
            # umask. SQLite gives the -wal and -shm files the database file's mode.
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        elif path is not None and not url.database.startswith("file:"):
            # SQLite's URI form: mode=rw opens an existing file only.
            query = {**url.query, "mode": "rw", "uri": "true"}
            url = url.set(database="file:" + quote(str(path)), query=query)
        return url, {}
    connect_args: dict[str, Any] = {}
    if url.get_backend_name() == "postgresql":
        # A server that accepts and never answers (paused, partitioned) must not hang a process forever.
        connect_args["connect_timeout"] = CONNECT_TIMEOUT
    return url, {"pool_pre_ping": True, "connect_args": connect_args}


def prepare_engine(engine: Engine) -> None:
    """What every connection of a kumo engine needs: SQLite's pragmas (foreign keys, WAL, busy timeout)."""
    if engine.url.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # SQLite ignores foreign keys unless asked, per connection.
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL still survives a crash of any process; only an OS crash or power loss can
    # lose the last commits. FULL made every small write (live call state, one per event) wait on
    # an fsync (~0.4 ms each). PostgreSQL is the production database.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """A sessionmaker whose sessions bump the config version of every tenant they change."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# Child rows without a tenant_id of their own, and how to find the row that has one.
_PARENT_OF = {
    models.RingGroupMember: (models.RingGroup, "ring_group_id"),
    models.SchedulePeriod: (models.Schedule, "schedule_id"),
    models.ScheduleClosure: (models.Schedule, "schedule_id"),
    models.IvrOption: (models.IvrMenu, "ivr_menu_id"),
}


def _tenant_ids_touched(session: Session, obj: object) -> set[int]:
    if isinstance(obj, models.Tenant):
        return {obj.id} if obj.id is not None else set()
    if isinstance(obj, models.Number):
        # A number moving between tenants changes both tenants' routing.
        ids = {obj.tenant_id} if obj.tenant_id else set()
        ids.update(v for v in (inspect(obj).attrs.tenant_id.history.deleted or ()) if v)
        return ids
    tenant_id = getattr(obj, "tenant_id", None)
    if tenant_id is not None:
        return {tenant_id}
    parent = _PARENT_OF.get(type(obj))
    if parent is not None:
        parent_cls, key = parent
        parent_id = getattr(obj, key, None)
        owner = session.get(parent_cls, parent_id) if parent_id is not None else None
        if owner is not None and owner.tenant_id is not None:
            return {owner.tenant_id}
    return set()


_CONFIG_FLUSHES = "kumo_config_flushes"


def config_flushes(session: Session, tenant_id: int) -> int:
    """How many flushes of this session so far changed the tenant's configuration (bumped its version).

    `fsctl apply` compares the count before and after: "unchanged" means exactly "no version bump".
    """
    return session.info.get(_CONFIG_FLUSHES, Counter())[tenant_id]


@event.listens_for(Session, "before_flush")
def _bump_config_versions(session: Session, _context, _instances) -> None:
    """Every flush that changes a tenant's configuration bumps tenants.config_version once.

    Lookup caches in every serving process key on that version, so the next lookup after the commit
    sees the change, whichever process serves it.
    """
    touched: set[int] = set()
    # session.dirty builds a new set on every access: read it once (a 1,000-user apply was O(n^2) here).
    dirty = session.dirty
    for obj in (*session.new, *dirty, *session.deleted):
        if isinstance(obj, models.AuditEntry) or getattr(obj, "__tenant_config__", True) is False:
            # Audit rows and models marked `__tenant_config__ = False` (panel logins, tokens, ...)
            # are not routing configuration: changing them must not empty the lookup caches.
            continue
        if obj in dirty and not session.is_modified(obj):
            continue
        touched |= _tenant_ids_touched(session, obj)
    if touched:
        session.info.setdefault(_CONFIG_FLUSHES, Counter()).update(touched)
    for tenant_id in touched:
        tenant = session.get(models.Tenant, tenant_id)
        if tenant is not None and tenant not in session.new:
            # A SQL expression, not a Python read-modify-write: two writers never lose a bump.
            tenant.config_version = models.Tenant.config_version + 1


def tenant_by_domain(session: Session, domain: str) -> models.Tenant | None:
    """The tenant owning a SIP domain (domains are stored lower-case)."""
    return session.scalar(select(models.Tenant).where(models.Tenant.domain == domain.lower()))
