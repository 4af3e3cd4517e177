"""A missing or unmigrated SQLite database is an error, never silently recreated."""

from __future__ import annotations

import json

import pytest
from test_directory import captured
from test_service import http, post, running_service, split_response

from fsctl import migrate
from fsctl.xml.document import NOT_FOUND
from fsctl.xmlcurl.store import LookupStore

HEALTH = b"GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n"


def test_a_missing_file_is_not_created_by_a_lookup_store(tmp_path):
    path = tmp_path / "gone.sqlite3"
    store = LookupStore(f"sqlite:///{path}")
    with pytest.raises(Exception):  # noqa: B017 - sqlite3's "unable to open database file"
        store.fetch_one("SELECT 1")
    assert store.database_state() == "missing"
    store.dispose()
    assert not path.exists()


def test_a_removed_database_is_reported_and_not_recreated(tmp_path):
    path = tmp_path / "kumo.sqlite3"
    url = f"sqlite:///{path}"
    migrate.upgrade(url)  # the one command that creates it
    with running_service(url, workers=2) as (port, _process):
        assert split_response(http(port, HEALTH))[0] == 200
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        # New connections (a restarted worker, a reconnect) find no file.
        for _ in range(3):
            status, _headers, body = split_response(
                http(port, post("/fs/xml", captured("directory-sip_auth-register.txt")))
            )
            assert status == 200 and body == NOT_FOUND
        status, _headers, body = split_response(http(port, HEALTH))
    assert status == 503 and json.loads(body)["database"] in ("missing", "unreachable")
    assert not path.exists()


def test_serve_on_a_missing_database_says_so(tmp_path):
    path = tmp_path / "never.sqlite3"
    with running_service(f"sqlite:///{path}", ready_status=503) as (port, process):
        status, _headers, body = split_response(http(port, HEALTH))
        process.terminate()
        log = process.communicate(timeout=10)[0].decode()
    assert status == 503 and json.loads(body)["database"] == "missing"
    assert "ERROR" in log and "fsctl db upgrade" in log
    assert not path.exists()


def test_an_unmigrated_database_is_not_healthy(tmp_path):
    path = tmp_path / "empty.sqlite3"
    path.touch()
    with running_service(f"sqlite:///{path}", ready_status=503) as (port, _process):
        status, _headers, body = split_response(http(port, HEALTH))
    assert status == 503 and json.loads(body)["database"] == "not migrated"
