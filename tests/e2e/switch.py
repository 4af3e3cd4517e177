"""Find, configure, start and stop the FreeSWITCH the end-to-end tests run against.

Finding, installing, deploying and running the switch is fsctl/localswitch.py, shared with `make run`:
where FreeSWITCH comes from is written there, the only place besides these fixtures
that names the fs-runtime folder (tests/test_self_contained.py). What stays here is what only tests
need: the switch's API through the tests' own event-socket client, and reading its log.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
from collections.abc import Mapping
from pathlib import Path

from e2e import esl
from fsctl import localswitch
from fsctl.localswitch import SHARED_RUNTIME, Located, install, locate  # noqa: F401 - the fixtures' API

REPO_ROOT = Path(__file__).resolve().parents[2]


def deploy(conf_dir: Path, local_vars: Mapping[str, str]) -> None:
    """kumo's freeswitch/ through its own deploy.sh, then vars.d/local.xml with this run's values."""
    localswitch.deploy(conf_dir, local_vars)


class LogReader:
    """Reading a process's log file from a remembered offset (what a failing test prints)."""

    log_file: Path

    def log_size(self) -> int:
        try:
            return self.log_file.stat().st_size
        except OSError:
            return 0

    def log_since(self, offset: int) -> str:
        try:
            with open(self.log_file, "rb") as f:
                f.seek(offset)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""


class LoggedProcess(LogReader):
    """A server the tests started as a subprocess writing to `log_file` (kumo, Kamailio)."""

    proc: subprocess.Popen | None

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def log_tail(self, lines: int = 80) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class Switch(LogReader, localswitch.Switch):
    """A running FreeSWITCH: its state dir, event socket (the tests' own client) and log."""

    def api(self, command: str) -> str:
        return esl.api(self.esl_host, self.esl_port, self.esl_password, command)


def have_sipp() -> bool:
    return shutil.which("sipp") is not None
