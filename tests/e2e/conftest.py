"""End-to-end fixtures: kumo deployed as an operator deploys it, driven by SIPp through a real switch.

Per test session: a throw-away database (SQLite, or PostgreSQL when DATABASE_URL names one) migrated
with `fsctl db upgrade` and filled with `fsctl apply`; `fsctl serve` on free ports; kumo's own
freeswitch/ deployed with deploy.sh plus a generated vars.d/local.xml; FreeSWITCH started from it;
an event-socket log of everything the switch does. Without a FreeSWITCH (or SIPp) every test here
skips with one reason; with KUMO_E2E_REQUIRED=1 that is a failure instead.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from billing_smtp import SmtpSink
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from e2e import esl, switch
from e2e.phones import Phone, SippFactory, free_udp_port, reserve_ports
from e2e.tenants import TENANTS

E2E_DIR = Path(__file__).resolve().parent
REPO_ROOT = switch.REPO_ROOT
VENV_BIN = Path(sys.executable).parent
REQUIRED = os.environ.get("KUMO_E2E_REQUIRED") == "1"


def _unavailable() -> str:
    located = switch.locate()
    if located.reason:
        return located.reason
    if not switch.have_sipp():
        return "no SIPp: apt-get install sip-tester (make e2e-deps)"
    return ""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    mine = [item for item in items if E2E_DIR in Path(str(item.path)).parents]
    if not mine:
        return
    reason = _unavailable()
    if not reason:
        return
    if REQUIRED:
        raise pytest.UsageError(f"KUMO_E2E_REQUIRED=1 but the end-to-end tests cannot run: {reason}")
    marker = pytest.mark.skip(reason=f"end-to-end tests need a FreeSWITCH and SIPp: {reason}")
    for item in mine:
        item.add_marker(marker)


# -- the session: database, kumo, switch ------------------------------------------------------------


@pytest.fixture(scope="session")
def e2e_database_url(tmp_path_factory) -> Iterator[str]:
    """Like tests/conftest.py's database_url, for the whole session."""
    yield from throwaway_database(tmp_path_factory.mktemp("e2e-db"), "kumo_e2e")


def throwaway_database(directory: Path, prefix: str) -> Iterator[str]:
    """A new SQLite file in `directory`, or a new database on DATABASE_URL's PostgreSQL server
    named `prefix`_<random>, dropped when the generator is closed."""
    base = os.environ.get("DATABASE_URL")
    if not base or base.startswith("sqlite"):
        yield f"sqlite:///{directory / 'kumo.sqlite3'}"
        return
    url = make_url(base)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def service_env(
    database_url: str,
    listen: tuple[str, str, str],
    http_password: str,
    esl_password: str,
    dirs: dict[str, Path],
) -> dict[str, str]:
    """The environment of an `fsctl serve` (and its CLI) in the end-to-end runs: `listen` = its
    HTTP address, the event socket(s) it connects to, its outbound-socket address; `dirs` holds
    recordings, audio, fax, sounds and voicemail."""
    http, esl_address, outbound = listen
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        FSCTL_HTTP_LISTEN=http,
        FSCTL_XML_CURL_AUTH=f"freeswitch:{http_password}",
        FSCTL_ESL_ADDRESS=esl_address,
        FSCTL_ESL_PASSWORD=esl_password,
        FSCTL_OUTBOUND_LISTEN=outbound,
        FSCTL_RECORDINGS_DIR=str(dirs["recordings"]),
        FSCTL_AUDIO_DIR=str(dirs["audio"]),
        FSCTL_FAX_DIR=str(dirs["fax"]),
        FSCTL_SOUNDS_DIR=str(dirs["sounds"]),
        FSCTL_VOICEMAIL_DIR=str(dirs["voicemail"]),
    )
    return env


def _sounds_dir() -> Path:
    """kumo's generated prompts, made once and kept in build/ (33 s to generate; idempotent)."""
    root = Path(os.environ.get("KUMO_E2E_SOUNDS") or REPO_ROOT / "build" / "e2e" / "sounds")
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [str(VENV_BIN / "fsctl"), "prompts", "generate", "--root", str(root)],
        check=True,
        capture_output=True,
        text=True,
    )
    # mod_local_stream refuses to load without at least one file in its directory (moh stream).
    music = root / "music" / "8000"
    music.mkdir(parents=True, exist_ok=True)
    if not (music / "e2e-moh.wav").exists():
        _tone_wav(music / "e2e-moh.wav", 8000, 523, 2.0)
    return root


def _tone_wav(path: Path, rate: int, hz: int, seconds: float) -> None:
    import math
    from array import array

    frames = array(
        "h", (int(8000 * math.sin(2 * math.pi * hz * i / rate)) for i in range(int(rate * seconds)))
    )
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames.tobytes())


class Kumo(switch.LoggedProcess):
    """`fsctl serve` as a subprocess, plus the CLI and the database it uses."""

    def __init__(self, workdir: Path, database_url: str, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.database_url = database_url
        self.env = env
        self.proc: subprocess.Popen | None = None
        self.log_file = workdir / "fsctl-serve.log"
        self.engine: Engine = create_engine(database_url)

    def fsctl(self, *args: str, check: bool = True, stdin: str | None = None) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [str(VENV_BIN / "fsctl"), *args],
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            cwd=self.workdir,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"fsctl {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def apply(self, doc: dict[str, Any]) -> None:
        path = self.workdir / f"tenant-{doc['domain']}.yaml"
        path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
        self.fsctl("apply", str(path))

    @property
    def http(self) -> str:
        return self.env["FSCTL_HTTP_LISTEN"]

    def start(self) -> None:
        assert self.proc is None
        log = open(self.log_file, "ab")  # noqa: SIM115 - kept open for the process's life
        self.proc = subprocess.Popen(
            [str(VENV_BIN / "fsctl"), "serve", "--workers", "1"],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            cwd=self.workdir,
        )
        log.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"fsctl serve exited:\n{self.log_tail()}")
            try:
                self.health()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"fsctl serve did not answer /healthz:\n{self.log_tail()}")

    def health(self) -> dict[str, str]:
        with urllib.request.urlopen(f"http://{self.http}/healthz", timeout=2) as resp:
            return json.loads(resp.read())

    def wait_esl_connected(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.health().get("esl") == "connected":
                return
            time.sleep(0.2)
        raise RuntimeError(f"kumo did not connect to the switch's event socket:\n{self.log_tail()}")

    def rows(self, sql: str, **params: Any) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(text(sql), params))


class E2E:
    """Everything one test needs: the switch, kumo, its events, phones and the carrier."""

    def __init__(
        self, workdir: Path, sw: switch.Switch, kumo: Kumo, events: esl.EventLog, ports: dict[str, int]
    ):
        self.workdir = workdir
        self.switch = sw
        self.kumo = kumo
        self.events = events
        self.ports = ports
        self.sipp = SippFactory(workdir, "127.0.0.1")
        self.registrar = f"127.0.0.1:{ports['sip']}"
        self.carrier_profile = f"127.0.0.1:{ports['carrier_profile']}"
        self.carrier_port = ports["carrier"]
        self.registered: list[Phone] = []

    def phone(
        self,
        domain: str,
        extension: str,
        password: str | None = None,
        display: str = "",
        source: str = "127.0.0.1",
    ) -> Phone:
        """A phone for a user of one of the session's tenants (its password from tests/e2e/tenants.py)."""
        if password is None:
            password = TENANTS[domain].password(extension)
        port = free_udp_port(source)
        return Phone(
            self.sipp, self.registrar, extension, domain, password, display, port=port, source=source
        )

    def registered_phone(self, domain: str, extension: str, display: str = "") -> Phone:
        """A phone registered now and unregistered when the test ends."""
        phone = self.phone(domain, extension, display=display)
        phone.register()
        self.registered.append(phone)
        return phone

    def carrier(self) -> Phone:
        """The SIPp carrier: answers on the port the switch's `carrier` gateway points at."""
        return Phone(self.sipp, self.carrier_profile, "carrier", "127.0.0.1", "", port=self.carrier_port)

    def carrier_answers(self, calls: int, ring_ms: int = 100, timeout_s: int = 30):
        """The SIPp carrier answering `calls` calls, concurrently if they come so."""
        run = self.sipp.start(
            "uas_many",
            "",
            self.carrier_port,
            duration_ms=ring_ms,
            timeout_s=timeout_s,
            server=True,
            calls=calls,
        )
        self.sipp.wait_listening(run, self.carrier_port)
        return run

    def carrier_call(
        self,
        number: str,
        caller: str = "09011112222",
        talk_ms: int = 1000,
        refused: bool = False,
        source: str = "127.0.0.1",
        display: str | None = None,
        until_hung_up: bool = False,
    ):
        """The carrier sends a call for `number` into the carrier profile (from `source`); `display`
        is the From display name (the caller's number unless given: "Anonymous" for a withheld one)."""
        keys = {"user": caller, "to_user": number, "display": caller if display is None else display}
        scenario = "carrier_uac_refused" if refused else "carrier_uac"
        if until_hung_up:  # answered, then ended by the switch
            scenario = "carrier_uac_until_bye"
        run = self.sipp.start(
            scenario, self.carrier_profile, free_udp_port(source), keys, duration_ms=talk_ms, local_ip=source
        )
        return run.wait() if refused else run

    def wait_until(self, check, timeout: float = 10.0, what: str = "") -> Any:
        """Poll kumo's database (state written from events by another process) until `check()` is truthy."""
        return wait_until(check, timeout, what)


def wait_until(check, timeout: float = 10.0, what: str = "") -> Any:
    """Poll until `check()` is truthy (kumo's database, written by another process); its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or check}")
        time.sleep(0.1)


@pytest.fixture(scope="session")
def e2e(tmp_path_factory, e2e_database_url) -> Iterator[E2E]:
    workdir = tmp_path_factory.mktemp("kumo-e2e")
    located = switch.locate()
    install_dir = switch.install(located, workdir / "fs")
    sounds = _sounds_dir()
    (workdir / "tone.ulaw").write_bytes(_ulaw_tone_bytes())
    # RFC 2833 key presses as captured packets, shipped by Debian's sip-tester (sipp/*dtmf*.xml).
    for pcap in Path("/usr/share/sip-tester").glob("dtmf_2833_*.pcap"):
        shutil.copy(pcap, workdir / pcap.name)

    ports = reserve_ports(tcp=("http", "esl", "outbound"), udp=("carrier",), sip=("sip", "carrier_profile"))
    http_password = secrets.token_hex(12)
    esl_password = secrets.token_hex(12)
    dirs = {name: workdir / name for name in ("recordings", "audio", "cdr-spool", "fax")}
    for d in dirs.values():
        d.mkdir()
    state = workdir / "state"
    dirs.update(sounds=sounds, voicemail=state / "storage" / "voicemail" / "default")
    listen = tuple(f"127.0.0.1:{ports[name]}" for name in ("http", "esl", "outbound"))
    env = service_env(
        e2e_database_url,
        listen,
        http_password,
        esl_password,
        dirs,
    )
    # Users served `cacheable` (off by default): the harder case for isolation, for a change
    # deciding the very next registration, and for failing closed on a stop.
    env["FSCTL_DIRECTORY_CACHE_MS"] = "60000"
    # Voicemail e-mails go to a sink in this process (tests/billing_smtp.py).
    smtp = SmtpSink().start()
    env.update(
        FSCTL_SMTP_HOST="127.0.0.1", FSCTL_SMTP_PORT=str(smtp.port), FSCTL_SMTP_FROM="voicemail@pbx.e2e.test"
    )
    kumo = Kumo(workdir, e2e_database_url, env)
    kumo.fsctl("db", "upgrade")
    for tenant in TENANTS.values():
        kumo.apply(tenant.doc)

    conf = workdir / "conf"
    switch.deploy(
        conf,
        {
            "kumo_platform_domain": "pbx.e2e.test",
            "kumo_xml_url_1": f"http://127.0.0.1:{ports['http']}/fs/xml",
            "kumo_xml_url_2": f"http://127.0.0.1:{ports['http']}/fs/xml",
            "kumo_cdr_url_1": f"http://127.0.0.1:{ports['http']}/fs/cdr",
            "kumo_cdr_url_2": f"http://127.0.0.1:{ports['http']}/fs/cdr",
            "kumo_http_credentials": f"freeswitch:{http_password}",
            "kumo_cdr_spool_dir": str(dirs["cdr-spool"]),
            "kumo_esl_password": esl_password,
            "kumo_esl_port": str(ports["esl"]),
            "kumo_local_ip": "127.0.0.1",
            "kumo_external_ip": "127.0.0.1",
            "kumo_sip_port": str(ports["sip"]),
            "kumo_rtp_start_port": "16384",
            "kumo_rtp_end_port": "32000",
            "kumo_carrier_host": f"127.0.0.1:{ports['carrier']}",
            "kumo_carrier_cidr": "127.0.0.1/32",
            "kumo_carrier_sip_port": str(ports["carrier_profile"]),
            # The SIPp carrier only runs during a call; an unanswered OPTIONS ping would mark the
            # gateway down and fail the next outbound call (sofia.c, gateway ping).
            "kumo_carrier_ping": "0",
            "kumo_audio_dir": str(dirs["audio"]),
            "kumo_recordings_dir": str(dirs["recordings"]),
            "kumo_fax_dir": str(dirs["fax"]),
        },
    )
    sw = switch.Switch(
        install_dir, located.runtime, conf, state, sounds, "127.0.0.1", ports["esl"], esl_password
    )
    events = None
    try:
        kumo.start()
        sw.start()
        kumo.wait_esl_connected()
        _wait_profiles(sw)
        events = esl.EventLog("127.0.0.1", ports["esl"], esl_password)
        env_obj = E2E(workdir, sw, kumo, events, ports)
        env_obj.smtp = smtp
        yield env_obj
    finally:
        smtp.stop()
        if events is not None:
            events.close()
        sw.stop()
        kumo.stop()
        kumo.engine.dispose()


def _ulaw_tone_bytes() -> bytes:
    """Two seconds of a 440 Hz tone as raw G.711 mu-law (what the SIPp phones stream)."""
    import math

    out = bytearray()
    for i in range(16000):
        sample = int(6000 * math.sin(2 * math.pi * 440 * i / 8000))
        out.append(_linear_to_ulaw(sample))
    return bytes(out)


def _linear_to_ulaw(sample: int) -> int:
    # G.711 mu-law encoding (ITU-T G.711, the classic segment/bias algorithm).
    bias, clip = 0x84, 32635
    sign = 0x80 if sample < 0 else 0
    if sample < 0:
        sample = -sample
    sample = min(sample, clip) + bias
    exponent = 7
    mask = 0x4000
    while exponent > 0 and not sample & mask:
        exponent -= 1
        mask >>= 1
    mantissa = (sample >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def _wait_profiles(sw: switch.Switch, timeout: float = 30) -> None:
    """sofia starts its profiles in threads after the core is ready: wait for both to run."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = sw.api("sofia status")
        if all(f"{name}" in status and "RUNNING" in status for name in ("internal", "carrier")):
            lines = [line for line in status.splitlines() if "profile" in line]
            if sum("RUNNING" in line for line in lines) >= 2:
                return
        time.sleep(0.2)
    raise RuntimeError(f"sofia profiles did not start:\n{sw.api('sofia status')}\n{sw.log_tail()}")


# -- what a failing test prints ---------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _e2e_record(request, e2e: E2E) -> Iterator[None]:
    request.node._e2e_marks = (e2e, e2e.events.mark(), e2e.switch.log_size(), len(e2e.sipp.runs))
    yield
    for run in e2e.sipp.runs:
        if run.proc.poll() is None:
            run.proc.kill()
            run.wait()
    gone = []
    while e2e.registered:
        phone = e2e.registered.pop()
        phone.unregister()
        gone.append((phone.domain, phone.extension))
    if gone and e2e.kumo.proc is not None:
        # kumo writes registrations from events once a second (batched): the next test starts from
        # a table that has caught up, not from this test's rows still waiting to be deleted.
        e2e.wait_until(lambda: not any(_live_rows(e2e, d, x) for d, x in gone), what="registrations written")


def _live_rows(e2e: E2E, domain: str, extension: str) -> list:
    return e2e.kumo.rows(
        "SELECT r.call_id FROM live_registrations r JOIN tenants t ON t.id = r.tenant_id "
        "WHERE t.domain = :d AND r.extension = :e",
        d=domain,
        e=extension,
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    outcome = yield
    report = outcome.get_result()
    extra = getattr(item, "_e2e_sections", None)  # a fixture of its own (the cluster tests)
    if report.when == "call" and report.failed and extra is not None:
        report.sections.extend(extra())
    marks = getattr(item, "_e2e_marks", None)
    if report.when != "call" or not report.failed or marks is None:
        return
    env, event_mark, log_offset, run_index = marks
    for run in env.sipp.runs[run_index:]:
        report.sections.append((f"SIP trace {run.name} (exit {run.returncode})", run.trace() + run.errors()))
    report.sections.append(("switch events", env.events.summary(event_mark)))
    log = env.switch.log_since(log_offset).splitlines()
    report.sections.append(("switch log (end)", "\n".join(log[-200:])))
    report.sections.append(("kumo log (end)", env.kumo.log_tail(60)))
