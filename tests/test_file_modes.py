"""Files kumo creates are private: 0600 files, 0700 folders.

The files half; the API half (no PIN read back) is tests/webpanel/test_api_secrets.py.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from kumo_support import REPO_ROOT
from sqlalchemy import text

from fsctl.db import make_engine


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _fsctl(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, **env}
    return subprocess.run(
        [sys.executable, "-m", "fsctl.cli", *args],
        cwd=REPO_ROOT,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
        # What a default shell gives: the service must not depend on the operator's umask.
        preexec_fn=lambda: os.umask(0o022),
    )


def test_the_database_and_its_wal_and_shm_are_0600(tmp_path):
    path = tmp_path / "data" / "kumo.sqlite3"
    result = _fsctl("db", "upgrade", DATABASE_URL=f"sqlite:///{path}")
    assert result.returncode == 0, result.stderr
    assert _mode(path) == 0o600
    assert _mode(path.parent) == 0o700
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE scratch (x INTEGER)"))
        conn.execute(text("INSERT INTO scratch VALUES (1)"))
        for suffix in ("-wal", "-shm"):
            side = path.with_name(path.name + suffix)
            assert side.exists() and _mode(side) == 0o600, suffix
    engine.dispose()


def test_what_a_command_writes_is_private_whatever_the_umask(tmp_path, database_url, engine):
    # fsctl cdr import makes DIR/rejected/ for the unusable file: under kumo's umask, 0700.
    spool = tmp_path / "spool"
    spool.mkdir()
    (spool / "broken.cdr.json").write_bytes(b'{"variables": ')
    result = _fsctl("cdr", "import", str(spool), DATABASE_URL=database_url)
    assert result.returncode == 0, result.stderr
    assert _mode(spool / "rejected") == 0o700
