"""`fsctl run` (what `make run` runs) with the real switch: it deploys freeswitch/ into the instance
folder, starts the switch, prints the demo credentials; `make demo-call` (e2e.demo_call) registers
101 and 102 and places a call between them; Ctrl-C stops the switch, the service and the panel."""

from __future__ import annotations

import io
import json
import signal
import stat
import subprocess
import sys
from pathlib import Path

from test_make_run import alive, run_env, wait_for_summary

from e2e.demo_call import demo_call
from e2e.phones import free_udp_port
from fsctl.devrun import RUN_FILE

VENV_BIN = Path(sys.executable).parent
REPO_ROOT = Path(__file__).resolve().parents[3]


def test_make_run_takes_a_demo_call_and_ctrl_c_stops_everything(tmp_path):
    database_url = f"sqlite:///{tmp_path / 'kumo.sqlite3'}"
    env = run_env(
        tmp_path,
        database_url,
        KUMO_SIP_PORT=str(free_udp_port()),
        KUMO_CARRIER_SIP_PORT=str(free_udp_port()),
        # The prompts the e2e session generates and keeps (33 s the first time).
        FSCTL_SOUNDS_DIR=str(REPO_ROOT / "build" / "e2e" / "sounds"),
    )
    del env["KUMO_FREESWITCH"]  # the switch this machine has (the folder's conftest skips without one)
    subprocess.run([str(VENV_BIN / "fsctl"), "db", "upgrade"], env=env, check=True, capture_output=True)
    proc = subprocess.Popen(
        [str(VENV_BIN / "fsctl"), "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    instance = tmp_path / "instance"
    try:
        text = wait_for_summary(proc, timeout=240)
        assert f"SIP server  127.0.0.1:{env['KUMO_SIP_PORT']} (UDP)" in text
        passwords = json.loads((instance / "demo-sip-passwords.json").read_text())
        assert f"101  user 101  password {passwords['101']}" in text
        local = instance / "freeswitch" / "conf" / "vars.d" / "local.xml"
        assert stat.S_IMODE(local.stat().st_mode) == 0o600
        assert f"kumo_sip_port={env['KUMO_SIP_PORT']}" in local.read_text()

        report = io.StringIO()
        assert demo_call(instance, database_url, talk_ms=1000, out=report), report.getvalue()
        printed = report.getvalue()
        assert "101: registered" in printed and "102: registered" in printed
        assert "101 calls 102: answered (200)" in printed
        assert "hang-up cause recorded by kumo: NORMAL_CLEARING" in printed

        pids = json.loads((instance / RUN_FILE).read_text())["pids"]
        assert pids["switch"] and all(alive(pid) for pid in pids.values())
        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) == 0
        assert not [name for name, pid in pids.items() if alive(pid)], f"left running: {pids}"
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
        print(proc.stdout.read() if proc.stdout else "")
