"""Workers die with their parent: a `kill -9` of `fsctl serve` leaves no orphan
holding the port, so the next start binds it."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from test_service import free_port, http, running_service, split_response

HEALTH = b"GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n"


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(p) for p in (task / "children").read_text().split()}
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purpose (it holds no socket).
    return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()


def test_kill_9_of_the_parent_takes_the_workers_and_a_restart_binds(database_url, engine):
    port = free_port()
    workers: set[int] = set()
    try:
        with running_service(database_url, workers=2, port=port) as (_port, process):
            workers = _children(process.pid)
            assert len(workers) == 2
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
            deadline = time.monotonic() + 5
            while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
                time.sleep(0.1)
            orphans = {pid for pid in workers if _alive(pid)}
            assert not orphans, f"workers {orphans} outlived their parent"
        with running_service(database_url, workers=2, port=port) as (_port, _process):
            assert split_response(http(port, HEALTH))[0] == 200
    finally:
        for pid in workers:  # never leave an orphan of this test behind, whatever happened
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
