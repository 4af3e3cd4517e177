"""`make run` (fsctl run): where the switch comes from, its site values, the demo credentials,
what the terminal shows, a taken port, and Ctrl-C stopping everything. Without a switch here; the
run through the real switch with a demo call is tests/e2e/run/test_make_run.py.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fsctl import localswitch
from fsctl.accounts import verify_password
from fsctl.config import Settings
from fsctl.devrun import (
    DEMO_PASSWORDS_FILE,
    NO_CARRIER,
    RUN_FILE,
    demo_document,
    demo_passwords,
    ensure_demo_admin,
    plan_switch,
    site_vars,
    summary,
)

VENV_BIN = Path(sys.executable).parent


# -- where FreeSWITCH comes from -----------------------------------------------------------------


def _install_dir(root: Path, mod: str = "mod") -> Path:
    (root / "bin").mkdir(parents=True)
    (root / "bin" / "freeswitch").write_text("#!/bin/sh\n")
    (root / mod).mkdir(parents=True)
    (root / mod / "mod_sofia.so").write_text("")
    return root


def _shared(tmp_path: Path) -> Path:
    shared = tmp_path / "shared-fs-runtime"
    shared.mkdir()
    (shared / "fs-runtime").write_text("#!/bin/sh\n")
    return shared


def test_kumo_freeswitch_comes_first(tmp_path):
    install = _install_dir(tmp_path / "fs")
    located = localswitch.locate(
        {"KUMO_FREESWITCH": str(install)}, _shared(tmp_path), which=lambda _: "/usr/bin/freeswitch"
    )
    assert (located.install_dir, located.source, located.mod_dir) == (
        install,
        "KUMO_FREESWITCH",
        install / "mod",
    )
    # The runtime script, when there is one, starts it (it knows any install laid out like its own).
    assert located.runtime == tmp_path / "shared-fs-runtime" / "fs-runtime"


def test_kumo_freeswitch_without_a_binary_is_a_reason_not_a_fallback(tmp_path):
    located = localswitch.locate({"KUMO_FREESWITCH": str(tmp_path)}, _shared(tmp_path), which=lambda _: None)
    assert not located.found and "has no bin/freeswitch" in located.reason


def test_the_shared_runtime_comes_before_the_path(tmp_path):
    located = localswitch.locate({}, _shared(tmp_path), which=lambda _: "/usr/bin/freeswitch")
    assert located.found and located.source == "fs-runtime" and located.install_dir is None


def test_a_freeswitch_on_the_path_with_its_modules(tmp_path):
    prefix = _install_dir(tmp_path / "usr", mod="lib/freeswitch/mod")
    binary = str(prefix / "bin" / "freeswitch")
    located = localswitch.locate({}, tmp_path / "none", which=lambda _: binary)
    assert located.source == "PATH" and located.mod_dir == prefix / "lib" / "freeswitch" / "mod"


def test_no_freeswitch_says_how_to_get_one(tmp_path):
    located = localswitch.locate({}, tmp_path / "none", which=lambda _: None)
    assert not located.found
    assert "KUMO_FREESWITCH" in located.reason and "PATH" in located.reason


# -- the switch's site values ---------------------------------------------------------------------


def _settings(tmp_path: Path) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        http_listen=("127.0.0.1", 18080),
        instance_dir=tmp_path / "instance",
        esl_addresses=(("127.0.0.1", 18021),),
        xml_curl_auth="freeswitch:s3cret-http",
        esl_password="s3cret-esl",
    )


def test_site_vars_point_the_switch_at_this_service_with_no_carrier(tmp_path):
    settings = _settings(tmp_path)
    plan = plan_switch(settings, {"KUMO_SIP_PORT": "15060"})
    values = site_vars(plan, settings, plan.service_env())
    assert values["kumo_xml_url_1"] == values["kumo_xml_url_2"] == "http://127.0.0.1:18080/fs/xml"
    assert values["kumo_cdr_url_1"] == "http://127.0.0.1:18080/fs/cdr"
    assert values["kumo_esl_port"] == "18021"
    assert values["kumo_local_ip"] == values["kumo_external_ip"] == "127.0.0.1"
    assert values["kumo_sip_port"] == "15060"
    assert values["kumo_carrier_host"] == NO_CARRIER and values["kumo_carrier_cidr"] == f"{NO_CARRIER}/32"
    assert values["kumo_carrier_ping"] == "0"
    # Credentials go to vars.d/kumo-secrets.xml on every deploy; local.xml (read last) must not
    # hold a copy that would go stale.
    text = localswitch.vars_include(values)
    assert "s3cret" not in text and "credentials" not in text and "password" not in text


def test_an_existing_local_xml_is_what_the_summary_and_port_checks_follow(tmp_path):
    settings = _settings(tmp_path)
    vars_d = settings.instance_dir / "freeswitch" / "conf" / "vars.d"
    vars_d.mkdir(parents=True)
    (vars_d / "local.xml").write_text(
        localswitch.vars_include({"kumo_local_ip": "192.0.2.7", "kumo_sip_port": "5070"})
    )
    plan = plan_switch(settings, {"KUMO_SIP_PORT": "15060"})
    assert (plan.sip_ip, plan.sip_port, plan.carrier_port) == ("192.0.2.7", 5070, 5080)


def test_a_configured_carrier_is_used(tmp_path):
    settings = _settings(tmp_path)
    plan = plan_switch(settings, {"KUMO_CARRIER_HOST": "203.0.113.5:5060"})
    values = site_vars(plan, settings, plan.service_env())
    assert values["kumo_carrier_host"] == "203.0.113.5:5060"
    assert values["kumo_carrier_cidr"] == "203.0.113.5/32"
    assert "kumo_carrier_ping" not in values


def test_deploy_writes_secrets_and_site_values_private(tmp_path):
    conf = tmp_path / "conf"
    localswitch.deploy(
        conf,
        {"kumo_sip_port": "15060"},
        secrets_xml='<include><X-PRE-PROCESS cmd="set" data="a=b"/></include>',
    )
    for name in ("local.xml", "kumo-secrets.xml"):
        assert stat.S_IMODE((conf / "vars.d" / name).stat().st_mode) == 0o600, name
    assert "kumo_sip_port=15060" in (conf / "vars.d" / "local.xml").read_text()
    assert (conf / "freeswitch.xml").is_file()
    with pytest.raises(ValueError):
        localswitch.vars_include({"x": 'a"b'})


def test_a_redeploy_keeps_local_xml_and_leaves_no_backup(tmp_path):
    from fsctl.devrun import _restore_vars, _set_aside_vars

    conf = tmp_path / "freeswitch" / "conf"
    localswitch.deploy(conf, {"kumo_sip_port": "5070"}, secrets_xml="<include><!-- old --></include>")
    (conf / "vars.d" / "mine.xml").write_text("<include/>")
    kept = _set_aside_vars(conf)
    localswitch.deploy(conf, secrets_xml="<include><!-- new --></include>")
    _restore_vars(kept, conf / "vars.d")
    assert "kumo_sip_port=5070" in (conf / "vars.d" / "local.xml").read_text()
    assert stat.S_IMODE((conf / "vars.d" / "local.xml").stat().st_mode) == 0o600
    assert (conf / "vars.d" / "mine.xml").exists()
    assert "new" in (conf / "vars.d" / "kumo-secrets.xml").read_text()
    assert sorted(p.name for p in conf.parent.iterdir()) == ["conf"]


# -- demo credentials ----------------------------------------------------------------------------


def test_demo_passwords_are_generated_once_and_private(tmp_path):
    first = demo_passwords(tmp_path)
    assert set(first) >= {"101", "102", "103", "102-pin"}
    assert len(set(first.values())) == len(first)
    path = tmp_path / DEMO_PASSWORDS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert demo_passwords(tmp_path) == first
    doc = demo_document(tmp_path)
    assert {u["extension"]: u["password"] for u in doc["users"]}["101"] == first["101"]
    assert "Demo" not in json.dumps(first)


def test_the_demo_admin_is_created_once_with_a_hashed_password(database_url, engine, tmp_path):
    from fsctl.cli import _session_factory, apply_file_document

    settings = Settings(database_url=database_url, instance_dir=tmp_path)
    assert apply_file_document(settings, demo_document(tmp_path), "test") == 0
    factory = _session_factory(settings)
    email, password = ensure_demo_admin(factory, "demo.kumo.test")
    assert email == "admin@demo.kumo.test" and password
    with engine.connect() as conn:
        (stored,) = conn.exec_driver_sql(
            "SELECT password_hash FROM panel_accounts WHERE email = 'admin@demo.kumo.test'"
        ).one()
    assert password not in stored and verify_password(stored, password)
    assert ensure_demo_admin(factory, "demo.kumo.test") == (email, None)


# -- what the terminal shows ---------------------------------------------------------------------


def _info(**more):
    info = {
        "panel_url": "http://127.0.0.1:8000/",
        "service_url": "http://127.0.0.1:8080",
        "admin": {"email": "admin@demo.kumo.test", "password": "pw-once-123"},
        "domain": "demo.kumo.test",
        "extensions": [
            {"extension": "101", "password": "sip-101-pw", "pin": ""},
            {"extension": "102", "password": "sip-102-pw", "pin": "123456"},
        ],
    }
    info.update(more)
    return info


def test_the_summary_has_what_a_person_needs_to_try_it():
    text = summary(_info(sip={"address": "127.0.0.1", "port": 5060}))
    for needle in (
        "http://127.0.0.1:8000/",
        "admin@demo.kumo.test",
        "pw-once-123",
        "127.0.0.1:5060",
        "demo.kumo.test",
        "101  user 101  password sip-101-pw",
        "102  user 102  password sip-102-pw, voicemail PIN 123456",
        "make demo-call",
        "Ctrl-C",
    ):
        assert needle in text, needle


def test_the_summary_without_a_switch_says_how_to_get_one():
    text = summary(
        _info(
            admin={"email": "admin@demo.kumo.test", "password": None}, no_switch_reason="set KUMO_FREESWITCH"
        )
    )
    assert "SIP server  none" in text and "set KUMO_FREESWITCH" in text
    assert "sip-101-pw" not in text  # no extension to register anywhere
    assert "password was shown when" in text


# -- the processes ---------------------------------------------------------------------------------


def _free_tcp() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_env(tmp_path: Path, database_url: str, **more: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        FSCTL_INSTANCE_DIR=str(tmp_path / "instance"),
        FSCTL_HTTP_LISTEN=f"127.0.0.1:{_free_tcp()}",
        FSCTL_OUTBOUND_LISTEN=f"127.0.0.1:{_free_tcp()}",
        FSCTL_ESL_ADDRESS=f"127.0.0.1:{_free_tcp()}",
        WEBPANEL_LISTEN=f"127.0.0.1:{_free_tcp()}",
        FSCTL_HTTP_WORKERS="1",
        # A KUMO_FREESWITCH without a switch: "no FreeSWITCH", whatever this machine has.
        KUMO_FREESWITCH=str(tmp_path / "no-freeswitch"),
    )
    env.update(more)
    return env


def wait_for_summary(proc: subprocess.Popen, timeout: float = 120) -> str:
    """stdout up to the end of the summary (the second line of '=')."""
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    rules = 0
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError("fsctl run ended:\n" + "".join(lines))
        lines.append(line)
        if line.startswith("=" * 20):
            rules += 1
            if rules == 2:
                return "".join(lines)
    raise AssertionError("no summary:\n" + "".join(lines))


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie child of a process that died is gone for our purpose.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()[0] != "Z"
    except OSError:
        return False


def descendants(pids: list[int]) -> list[int]:
    """The processes below `pids` (the service's HTTP workers, ...), from /proc."""
    parent_of = {}
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parent_of[int(stat_file.parent.name)] = int(fields[1])
    found, frontier = [], list(pids)
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parent_of.items() if ppid == parent]
        found += children
        frontier += children
    return found


def test_ctrl_c_stops_the_service_and_the_panel(tmp_path, database_url):
    env = run_env(tmp_path, database_url, FSCTL_HTTP_WORKERS="2")
    subprocess.run([str(VENV_BIN / "fsctl"), "db", "upgrade"], env=env, check=True, capture_output=True)
    proc = subprocess.Popen(
        [str(VENV_BIN / "fsctl"), "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        text = wait_for_summary(proc)
        assert "No FreeSWITCH" in text and "SIP server  none" in text
        assert f"http://{env['WEBPANEL_LISTEN']}/" in text
        info = json.loads((tmp_path / "instance" / RUN_FILE).read_text())
        pids = [info["pids"]["service"], info["pids"]["panel"]]
        assert all(alive(pid) for pid in pids)
        workers = descendants(pids)
        assert workers, "two HTTP workers: the service forks"
        pids += workers
        proc.send_signal(signal.SIGINT)
        assert proc.wait(40) == 0
        rest = proc.stdout.read()
        assert "stopped" in rest
        assert not [pid for pid in pids if alive(pid)], "children outlived fsctl run"
        assert not (tmp_path / "instance" / RUN_FILE).exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_port_already_taken_is_named(tmp_path, database_url):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = run_env(tmp_path, database_url, WEBPANEL_LISTEN=f"127.0.0.1:{port}")
        subprocess.run([str(VENV_BIN / "fsctl"), "db", "upgrade"], env=env, check=True, capture_output=True)
        result = subprocess.run(
            [str(VENV_BIN / "fsctl"), "run"], env=env, capture_output=True, text=True, timeout=60
        )
    assert result.returncode == 2
    assert f"the panel: TCP 127.0.0.1:{port} is already in use" in result.stderr
    assert "WEBPANEL_LISTEN" in result.stderr


def test_ctrl_c_while_starting_stops_what_was_started(tmp_path, database_url):
    env = run_env(tmp_path, database_url)
    subprocess.run([str(VENV_BIN / "fsctl"), "db", "upgrade"], env=env, check=True, capture_output=True)
    proc = subprocess.Popen(
        [str(VENV_BIN / "fsctl"), "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + 60
        children: list[int] = []
        while len(children) < 2 and time.monotonic() < deadline:  # service and panel forked
            children = descendants([proc.pid])
            time.sleep(0.05)
        assert not (tmp_path / "instance" / RUN_FILE).exists(), "too late: it had finished starting"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(40) == 0
        assert "kumo is running" not in proc.stdout.read()
        assert not [pid for pid in children if alive(pid)], "children outlived fsctl run"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
