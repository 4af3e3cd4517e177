"""`fsctl panel` starts the panel as its own process (gevent WSGI server) on the address given."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_fsctl_panel_serves_and_stops_on_sigterm(database_url, tmp_path):
    port = _free_port()
    fsctl = Path(sys.executable).with_name("fsctl")
    env = dict(os.environ, WEBPANEL_SECRET_KEY="process-test", DATABASE_URL=database_url)
    process = subprocess.Popen(
        [str(fsctl), "--database-url", database_url, "panel", "--listen", f"127.0.0.1:{port}", "--upgrade"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        body = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as response:
                    body = response.read().decode()
                    break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.3)
        assert body is not None, process.stdout.read().decode() if process.poll() is not None else "no answer"
        assert "ログイン" in body and 'name="csrf_token"' in body
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
    assert process.returncode is not None
