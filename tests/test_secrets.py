"""Secure by default (docs/decisions.md): no credential has a working default; the service generates
the credentials it shares with the switch, `make fs-config` hands the same values to the switch,
running open is explicit."""

from __future__ import annotations

import base64
import os
import stat
import subprocess
import sys
from pathlib import Path

from kumo_support import REPO_ROOT
from test_directory import captured
from test_freeswitch_config import FS_DIR, SAMPLE_ENV, Preprocessed
from test_service import http, post, running_service, split_response

from fsctl.config import Settings, settings_from_env
from fsctl.secrets import ESL_PASSWORD_FILE, HTTP_CREDENTIALS_FILE, fs_vars, resolve_service_secrets


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_serve_without_settings_demands_a_generated_credential(database_url, make_tenant, tmp_path):
    make_tenant()
    instance = tmp_path / "instance"
    lookup = captured("directory-sip_auth-register.txt")
    with running_service(database_url, auth=None, env_extra={"FSCTL_INSTANCE_DIR": str(instance)}) as (
        port,
        process,
    ):
        assert split_response(http(port, post("/fs/xml", lookup)))[0] == 401
        assert split_response(http(port, post("/fs/cdr?uuid=0f0f0f0f-1111", b"{}")))[0] == 401
        credentials = (instance / HTTP_CREDENTIALS_FILE).read_text().strip()
        user, _, password = credentials.partition(":")
        assert user and len(password) >= 24
        token = base64.b64encode(credentials.encode()).decode()
        answer = http(port, post("/fs/xml", lookup, {"Authorization": f"Basic {token}"}))
        assert split_response(answer)[0] == 200 and b'<user id="101"' in answer
        process.terminate()
        log = process.communicate(timeout=10)[0].decode()
    assert _mode(instance / HTTP_CREDENTIALS_FILE) == 0o600
    assert _mode(instance / ESL_PASSWORD_FILE) == 0o600
    assert _mode(instance) == 0o700
    assert str(instance / HTTP_CREDENTIALS_FILE) in log  # says where


def test_running_open_needs_off_and_is_logged_loudly(database_url, make_tenant):
    make_tenant()
    with running_service(database_url, auth="off") as (port, process):
        assert (
            split_response(http(port, post("/fs/xml", captured("directory-sip_auth-register.txt"))))[0] == 200
        )
        process.terminate()
        log = process.communicate(timeout=10)[0].decode()
    assert "WARNING" in log and "FSCTL_XML_CURL_AUTH=off" in log and "OPEN" in log


def test_no_esl_password_default_it_is_generated_once(tmp_path):
    assert settings_from_env({}).esl_password is None
    assert settings_from_env({}).xml_curl_auth is None
    first = resolve_service_secrets(Settings(instance_dir=tmp_path))
    again = resolve_service_secrets(Settings(instance_dir=tmp_path))
    assert first.esl_password == again.esl_password
    assert first.esl_password != "ClueCon" and len(first.esl_password) >= 24
    assert first.xml_curl_auth == again.xml_curl_auth
    assert _mode(tmp_path / ESL_PASSWORD_FILE) == 0o600
    # Explicit settings (the end-to-end tests pass both) win over the files.
    explicit = resolve_service_secrets(
        Settings(instance_dir=tmp_path, esl_password="given-esl", xml_curl_auth="fs:given")
    )
    assert (explicit.esl_password, explicit.xml_curl_auth) == ("given-esl", "fs:given")


def test_fs_config_gives_the_switch_the_same_credentials(tmp_path):
    instance = tmp_path / "instance"
    env = {**os.environ, "FSCTL_INSTANCE_DIR": str(instance)}
    for name in ("FSCTL_XML_CURL_AUTH", "FSCTL_ESL_PASSWORD"):
        env.pop(name, None)
    # What the Makefile's fs-config runs: fsctl secrets fs-vars | deploy.sh DIR -
    secrets = subprocess.run(
        [sys.executable, "-m", "fsctl.cli", "secrets", "fs-vars"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        check=True,
    ).stdout
    target = tmp_path / "conf"
    deployed = subprocess.run(
        ["bash", str(FS_DIR / "deploy.sh"), str(target), "-"],
        input=secrets,
        capture_output=True,
        check=False,
    )
    assert deployed.returncode == 0, deployed.stderr
    installed = target / "vars.d" / "kumo-secrets.xml"
    assert _mode(installed) == 0o600
    switch = Preprocessed(target / "freeswitch.xml", SAMPLE_ENV).vars
    assert switch["kumo_http_credentials"] == (instance / HTTP_CREDENTIALS_FILE).read_text().strip()
    assert switch["kumo_esl_password"] == (instance / ESL_PASSWORD_FILE).read_text().strip()
    # Only the carrier's account is left for the operator to fill in.
    assert b"kumo_esl_password" not in deployed.stderr and b"kumo_http_credentials" not in deployed.stderr
    # The same values the service resolves from the same folder.
    service = resolve_service_secrets(Settings(instance_dir=instance))
    assert (service.xml_curl_auth, service.esl_password) == (
        switch["kumo_http_credentials"],
        switch["kumo_esl_password"],
    )


def test_fs_vars_refuses_a_credential_the_switch_cannot_read(tmp_path):
    bad = Settings(instance_dir=tmp_path, xml_curl_auth='fs:pa"ss', esl_password="x")
    try:
        fs_vars(bad)
    except ValueError as exc:
        assert "double quote" in str(exc) or '"' in str(exc)
    else:
        raise AssertionError("a credential with a double quote went into vars.d")
