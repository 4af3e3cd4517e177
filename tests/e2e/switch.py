"""Find, configure, start and stop the FreeSWITCH the end-to-end tests run against.

Finding, installing, deploying and running the switch is fsctl/localswitch.py, shared with `make run`:
where FreeSWITCH comes from is written there, the only place besides these fixtures
that names the fs-runtime folder (tests/test_self_contained.py). What stays here is what only tests
need: the switch's API through the tests' own event-socket client, and reading its log.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

from e2e import esl
from fsctl import localswitch
from fsctl.localswitch import SHARED_RUNTIME, Located, install, locate  # noqa: F401 - the fixtures' API

REPO_ROOT = Path(__file__).resolve().parents[2]


def deploy(conf_dir: Path, local_vars: Mapping[str, str]) -> None:
    """kumo's freeswitch/ through its own deploy.sh, then vars.d/local.xml with this run's values."""
    localswitch.deploy(conf_dir, local_vars)


class Switch(localswitch.Switch):
    """A running FreeSWITCH: its state dir, event socket (the tests' own client) and log."""

    def api(self, command: str) -> str:
        return esl.api(self.esl_host, self.esl_port, self.esl_password, command)

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


def have_sipp() -> bool:
    return shutil.which("sipp") is not None
