"""Database access on the lookup hot path: raw DB-API queries on one connection per process.

FreeSWITCH blocks a thread on every lookup, so the hot path skips the ORM: one indexed query per
lookup, on a connection kept open in autocommit mode (every query sees every committed change, from
any process, with no snapshot held between lookups).
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from typing import Any

import gevent
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from fsctl.db import make_engine, make_session_factory, sqlite_file

log = logging.getLogger(__name__)

_QMARK = re.compile(r"\?")
# /healthz answers within a second; the database gets most of it.
HEALTH_TIMEOUT = 0.8


class LookupStore:
    """One process's read path: `fetch_one`/`fetch_all` with `?` placeholders, and ORM sessions."""

    def __init__(
        self, database_url: str | None = None, engine: Engine | None = None, statement_timeout: float = 0
    ):
        self.engine = engine if engine is not None else make_engine(database_url or "sqlite://")
        # PostgreSQL statement_timeout (seconds, 0 = none) of this process's lookup connection.
        self.statement_timeout = statement_timeout
        self.session_factory: sessionmaker[Session] = make_session_factory(self.engine)
        self._paramstyle = self.engine.dialect.paramstyle
        self._connection = None
        self._sql_cache: dict[str, str] = {}

    def _convert(self, sql: str) -> str:
        converted = self._sql_cache.get(sql)
        if converted is None:
            converted = sql if self._paramstyle == "qmark" else _QMARK.sub("%s", sql)
            self._sql_cache[sql] = converted
        return converted

    def _dbapi(self):
        if self._connection is None:
            raw = self.engine.raw_connection()
            driver = raw.driver_connection
            if self.engine.dialect.name == "sqlite":
                driver.isolation_level = None
            else:
                driver.autocommit = True
                if self.statement_timeout > 0:
                    # The server ends a query that outlives the lookup deadline.
                    cursor = raw.cursor()
                    cursor.execute(f"SET statement_timeout = {int(self.statement_timeout * 1000)}")
                    cursor.close()
            self._connection = raw
        return self._connection

    def _run(self, sql: str, params: Sequence[Any], fetch_all: bool):
        for attempt in (1, 2):
            connection = self._dbapi()
            try:
                cursor = connection.cursor()
                try:
                    cursor.execute(self._convert(sql), tuple(params))
                    return cursor.fetchall() if fetch_all else cursor.fetchone()
                finally:
                    cursor.close()
            except Exception:
                # A dropped database connection: reconnect once, then let the caller answer "not found".
                self.reset()
                if attempt == 2:
                    raise
                log.warning("database connection lost on the lookup path; reconnecting")
        return None

    def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> tuple | None:
        """First row of a query with `?` placeholders, or None."""
        return self._run(sql, params, fetch_all=False)

    def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """All rows of a query with `?` placeholders."""
        return list(self._run(sql, params, fetch_all=True))

    def ping(self) -> bool:
        """True when the database answers and holds kumo's schema."""
        return self.database_state() == "ok"

    def database_state(self, timeout: float = HEALTH_TIMEOUT) -> str:
        """ok, missing (no SQLite file), not migrated (no schema) or unreachable; never raises, and
        answers within `timeout` seconds however the database hangs."""
        path = sqlite_file(self.engine.url.render_as_string(hide_password=False))
        if path is not None and not path.exists():
            return "missing"
        try:
            with gevent.Timeout(timeout):
                return self._schema_state()
        except gevent.Timeout:
            # The connection is stuck mid-query: drop it, the next query opens a new one.
            self.reset()
            log.warning("database health check: no answer within %.1f s", timeout)
            return "unreachable"

    def _schema_state(self) -> str:
        try:
            # A table every migrated database has: an empty or foreign database is no kumo database.
            self.fetch_one("SELECT 1 FROM tenants WHERE 1 = 0")
            return "ok"
        except Exception as exc:  # noqa: BLE001 - health check reports, never raises
            reason = str(exc).splitlines()[0][:200]
        try:
            self.fetch_one("SELECT 1")
        except Exception:  # noqa: BLE001
            log.warning("database health check failed: %s", reason)
            return "unreachable"
        log.warning("database has no kumo schema (run `fsctl db upgrade`): %s", reason)
        return "not migrated"

    def reset(self) -> None:
        """Drop the connection (after an error or a fork); the next query opens a new one."""
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.invalidate()
            except Exception:  # noqa: BLE001 - already broken
                log.debug("closing a broken connection failed", exc_info=True)

    def dispose(self) -> None:
        self.reset()
        self.engine.dispose()


class LruCache:
    """A small bounded mapping; keys must include the tenant's config_version so stale entries never match."""

    def __init__(self, max_entries: int = 50_000):
        self.max_entries = max_entries
        self._data: OrderedDict[Hashable, Any] = OrderedDict()

    def get(self, key: Hashable) -> Any:
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    def put(self, key: Hashable, value: Any) -> None:
        self._data[key] = value
        self._data.move_to_end(key)
        if len(self._data) > self.max_entries:
            self._data.popitem(last=False)

    def clear(self) -> None:
        self._data.clear()

    def __len__(self) -> int:
        return len(self._data)
