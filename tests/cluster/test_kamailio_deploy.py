"""kamailio/deploy.sh writes the brute-force ban settings Kamailio enforces: kumo's own FSCTL_* values
by default, its options over them, a bad value named; Kamailio accepts the result."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parents[2] / "kamailio" / "deploy.sh"
SITE = ["--listen", "127.0.0.1:45060", "--carrier", "127.0.0.4:5060", "--carrier-cidr", "127.0.0.4/32"]
# what kamailio.cfg reads, by name
BAN_SETTINGS = ("KUMO_AUTH_FAIL_THRESHOLD", "KUMO_AUTH_FAIL_WINDOW", "KUMO_BAN_SECONDS", "KUMO_TRUST_SECONDS")


def _deploy(tmp_path: Path, *options: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("FSCTL_AUTH", "FSCTL_BAN"))}
    environ.update(env or {})
    db = f"sqlite:///{tmp_path / 'kumo.sqlite3'}"
    args = ["bash", str(DEPLOY), str(tmp_path / "conf"), *SITE, "--db-url", db, *options]
    return subprocess.run(args, capture_output=True, text=True, env=environ, check=False)


def _ban_settings(tmp_path: Path) -> dict[str, str]:
    values = {}
    for line in (tmp_path / "conf" / "kamailio-local.cfg").read_text().splitlines():
        if line.startswith("#!substdef"):
            _, name, value, _ = line.split('"')[1].split("!")
            values[name] = value
    return values


def test_kumos_defaults_when_nothing_is_set(tmp_path):
    assert _deploy(tmp_path).returncode == 0
    assert _ban_settings(tmp_path) == dict(zip(BAN_SETTINGS, ("4", "300", "3600", "604800"), strict=True))


def test_kumos_environment_then_the_options_decide(tmp_path):
    env = {"FSCTL_AUTH_FAIL_THRESHOLD": "6", "FSCTL_AUTH_FAIL_WINDOW": "600", "FSCTL_BAN_SECONDS": "7200"}
    assert _deploy(tmp_path, env=env).returncode == 0
    assert _ban_settings(tmp_path) == dict(zip(BAN_SETTINGS, ("6", "600", "7200", "604800"), strict=True))
    result = _deploy(tmp_path, "--ban-seconds", "60", "--trust-seconds", "3600", env=env)
    assert result.returncode == 0, result.stderr
    assert _ban_settings(tmp_path) == dict(zip(BAN_SETTINGS, ("6", "600", "60", "3600"), strict=True))


@pytest.mark.parametrize(
    ("options", "env", "named"),
    [
        (("--auth-fail-threshold", "0"), {}, "--auth-fail-threshold: a positive number (got '0')"),
        ((), {"FSCTL_BAN_SECONDS": "1h"}, "--ban-seconds: a positive number (got '1h')"),
    ],
)
def test_a_bad_value_is_named(tmp_path, options, env, named):
    result = _deploy(tmp_path, *options, env=env)
    assert result.returncode == 2 and named in result.stderr


@pytest.mark.skipif(
    shutil.which("kamailio", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin"])) is None,
    reason="no Kamailio (make kamailio-deps)",
)
def test_kamailio_accepts_the_configuration(tmp_path):
    assert (
        _deploy(tmp_path, "--auth-fail-threshold", "5", "--ctl-socket", str(tmp_path / "ctl")).returncode == 0
    )
    kamailio = shutil.which("kamailio", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin"]))
    check = subprocess.run(
        [kamailio, "-c", "-f", str(tmp_path / "conf" / "kamailio.cfg")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr
