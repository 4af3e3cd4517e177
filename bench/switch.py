"""CPU per REGISTER through a real FreeSWITCH: `python -m bench.switch` (`make bench-switch`).

The same users registering at the same steady rate (SIPp, digest auth, each REGISTER challenged
once) against, in one run:
- `static`: FreeSWITCH answering the directory from static XML (the users written into its
  directory, xml_curl not asked for the directory): the ceiling kumo is compared with;
- `kumo_uncached`: FreeSWITCH asking kumo (`fsctl serve`, xml_curl, FSCTL_DIRECTORY_CACHE_MS=0) for
  every REGISTER: switch + kumo CPU;
- `kumo`: kumo with users `cacheable` (FSCTL_DIRECTORY_CACHE_MS=60000, an operator's opt-in; off by
  default, see fsctl.config), flushed on every change, so the switch keeps the users it was given.
CPU is user+system time of the switch's and kumo's processes (and kumo's workers) over the load,
read from /proc, divided by the REGISTERs answered 200. Goal: kumo's total at or below static.

Then, per language (ja, en): the time from the switch answering a call to a voicemail box until the
recording starts (the beep), from the switch's own events (CHANNEL_ANSWER .. RECORD_START) over
kumo's generated prompts, beside what fsctl.media.beep_budget predicts from the files. Goal: <= 8 s
with the extension spoken.

kumo's database is a throw-away one per run: SQLite, or a PostgreSQL database created (and dropped)
on the server DATABASE_URL names when it names one.

FreeSWITCH comes from where tests/e2e finds it (KUMO_FREESWITCH or the shared runtime beside the
repository); the helpers are the end-to-end tests' own (tests/e2e/switch.py, phones.py).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from e2e import esl  # noqa: E402
from e2e import switch as fs  # noqa: E402
from e2e.conftest import throwaway_database  # noqa: E402
from e2e.phones import free_udp_port, reserve_ports  # noqa: E402

from fsctl.media import beep_budget  # noqa: E402

VENV_BIN = Path(sys.executable).parent
DOMAIN = "bench.switch.test"
SCENARIO = Path(__file__).resolve().parent / "sipp" / "register_csv.xml"


def _cpu_seconds(pid: int) -> float:
    """utime + stime of one process (and of its threads), from /proc/<pid>/stat."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _family(pid: int) -> list[int]:
    """A process and its children (kumo's HTTP workers)."""
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            pids += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            pass
    return pids


def _counters(url: str) -> dict[str, float]:
    """kumo's Prometheus counters (/metrics), by name with labels."""
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    counters = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            counters[name] = float(value)
    return counters


def _users(n: int) -> list[tuple[str, str]]:
    return [(str(1000 + i), f"Bench-{1000 + i}-pass") for i in range(n)]


def _static_directory(conf: Path, users: list[tuple[str, str]]) -> None:
    """The users as FreeSWITCH static XML, and xml_curl no longer asked for the directory."""
    lines = ["<include>", f'  <domain name="{DOMAIN}">', "    <users>"]
    for ext, password in users:
        a1 = hashlib.md5(f"{ext}:{DOMAIN}:{password}".encode()).hexdigest()  # noqa: S324 - SIP digest
        lines.append(f'      <user id="{ext}"><params><param name="a1-hash" value="{a1}"/></params></user>')
    lines += ["    </users>", "  </domain>", "</include>"]
    (conf / "directory" / "default.xml").write_text("\n".join(lines) + "\n")
    curl = conf / "autoload_configs" / "xml_curl.conf.xml"
    curl.write_text(_DIRECTORY_BINDING.sub("", curl.read_text()))


# The shipped xml_curl.conf.xml has one binding per section and kumo instance (fsctl.xmlcurl.posted).
_DIRECTORY_BINDING = re.compile(r'(?s)\n *<binding name="kumo-\d-directory">.*?</binding>')
_POST_VAR = re.compile(r'\n *<param name="enable-post-var" value="[^"]*"/>')


def _post_all(conf: Path) -> None:
    """xml_curl posting every field of a lookup (no enable-post-var), as kumo's bindings did before."""
    curl = conf / "autoload_configs" / "xml_curl.conf.xml"
    curl.write_text(_POST_VAR.sub("", curl.read_text()))


def _load(workdir: Path, registrar: str, users: list[tuple[str, str]], rate: int, count: int) -> int:
    """SIPp REGISTERs at `rate`/s, `count` in all; returns how many got 200."""
    csv = workdir / "users.csv"
    lines = (f"{ext};{DOMAIN};[authentication username={ext} password={pw}]\n" for ext, pw in users)
    csv.write_text("SEQUENTIAL\n" + "".join(lines))
    stats = workdir / "sipp-stats.csv"
    args = ["sipp", "-sf", str(SCENARIO), "-inf", str(csv), "-i", "127.0.0.1", "-p", str(free_udp_port())]
    args += [
        "-r",
        str(rate),
        "-m",
        str(count),
        "-nostdin",
        "-timeout",
        "300s",
        "-trace_stat",
        "-stf",
        str(stats),
    ]
    args += [registrar]
    subprocess.run(args, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    lines = stats.read_text().splitlines()
    header, last = lines[0].split(";"), lines[-1].split(";")
    return int(last[header.index("SuccessfulCall(C)")])


def _local_vars(ports: dict[str, int], sip: int, http_password: str, esl_password: str) -> dict[str, str]:
    return {
        "kumo_xml_url_1": f"http://127.0.0.1:{ports['http']}/fs/xml",
        "kumo_xml_url_2": f"http://127.0.0.1:{ports['http']}/fs/xml",
        "kumo_cdr_url_1": f"http://127.0.0.1:{ports['http']}/fs/cdr",
        "kumo_cdr_url_2": f"http://127.0.0.1:{ports['http']}/fs/cdr",
        "kumo_http_credentials": f"freeswitch:{http_password}",
        "kumo_esl_password": esl_password,
        "kumo_esl_port": str(ports["esl"]),
        "kumo_local_ip": "127.0.0.1",
        "kumo_external_ip": "127.0.0.1",
        "kumo_sip_port": str(sip),
        "kumo_carrier_sip_port": str(ports["carrier_profile"]),
        "kumo_carrier_host": "127.0.0.1:9",
        "kumo_carrier_cidr": "127.0.0.1/32",
        "kumo_carrier_ping": "0",
    }


def _postgresql() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith("postgresql")


def _database(workdir: Path):
    """A throw-away database for one variant, as the end-to-end tests make theirs: SQLite in
    `workdir`, or one on DATABASE_URL's server, dropped after."""
    return contextmanager(throwaway_database)(workdir, "kumo_bench")


def _kumo_env(
    database_url: str, ports: dict[str, int], http_password: str, esl_password: str
) -> dict[str, str]:
    return dict(
        os.environ,
        DATABASE_URL=database_url,
        FSCTL_HTTP_LISTEN=f"127.0.0.1:{ports['http']}",
        FSCTL_XML_CURL_AUTH=f"freeswitch:{http_password}",
        FSCTL_ESL_ADDRESS=f"127.0.0.1:{ports['esl']}",
        FSCTL_ESL_PASSWORD=esl_password,
        FSCTL_OUTBOUND_LISTEN=f"127.0.0.1:{ports['outbound']}",
    )


def _run_variant(name: str, base: Path, located, install_dir: Path, args) -> dict:
    workdir = base / name
    workdir.mkdir()
    with _database(workdir) as database_url:
        return _measure_variant(name, workdir, database_url, located, install_dir, args)


def _measure_variant(name: str, workdir: Path, database_url: str, located, install_dir: Path, args) -> dict:
    users = _users(args.users)
    ports = reserve_ports(tcp=("http", "esl", "outbound"), udp=(), sip=("sip", "carrier_profile"))
    sip = ports["sip"]
    http_password, esl_password = secrets.token_hex(12), secrets.token_hex(12)
    conf = workdir / "conf"
    fs.deploy(conf, _local_vars(ports, sip, http_password, esl_password))
    if args.post_all:
        _post_all(conf)
    kumo = None
    env = _kumo_env(database_url, ports, http_password, esl_password)
    if name == "static":
        _static_directory(conf, users)
    else:
        if name == "kumo_uncached":
            env["FSCTL_DIRECTORY_CACHE_MS"] = "0"
        else:
            env["FSCTL_DIRECTORY_CACHE_MS"] = "60000"  # the opt-in
        subprocess.run([str(VENV_BIN / "fsctl"), "db", "upgrade"], env=env, check=True, capture_output=True)
        doc = {
            "domain": DOMAIN,
            "name": "Bench",
            "timezone": "Asia/Tokyo",
            "status": "active",
            "users": [{"extension": e, "name": f"U{e}", "password": p} for e, p in users],
        }
        tenant = workdir / "tenant.yaml"
        tenant.write_text(yaml.safe_dump(doc))
        subprocess.run(
            [str(VENV_BIN / "fsctl"), "apply", str(tenant)], env=env, check=True, capture_output=True
        )
        log = open(workdir / "serve.log", "ab")  # noqa: SIM115 - the process's output
        kumo = subprocess.Popen([str(VENV_BIN / "fsctl"), "serve"], env=env, stdout=log, stderr=log)
        _wait_http(f"http://127.0.0.1:{ports['http']}/healthz")
    switch = fs.Switch(
        install_dir,
        located.runtime,
        conf,
        workdir / "state",
        workdir / "sounds",
        "127.0.0.1",
        ports["esl"],
        esl_password,
    )
    (workdir / "sounds" / "music" / "8000").mkdir(parents=True)
    try:
        switch.start()
        if kumo is not None:
            # kumo's event socket retries with a growing pause (the switch started after it): until
            # it is connected kumo serves no cacheable user, and the run would measure that instead.
            _wait_http(f"http://127.0.0.1:{ports['http']}/healthz", 60, _esl_connected)
        # Warm-up (first lookups, module caches), not measured.
        _load(workdir, f"127.0.0.1:{sip}", users, args.rate, min(50, args.count))
        pids = [switch.pid] + (_family(kumo.pid) if kumo else [])
        metrics_url = f"http://127.0.0.1:{ports['http']}/metrics"
        counted_before = _counters(metrics_url) if kumo else {}
        before = {pid: _cpu_seconds(pid) for pid in pids}
        started = time.monotonic()
        ok = _load(workdir, f"127.0.0.1:{sip}", users, args.rate, args.count)
        wall = time.monotonic() - started
        switch_cpu = _cpu_seconds(switch.pid) - before[switch.pid]
        kumo_cpu = sum(_cpu_seconds(pid) - before[pid] for pid in pids[1:])
        # kumo's parent runs the event socket (register events, live state); its children answer lookups.
        kumo_parent_cpu = _cpu_seconds(pids[1]) - before[pids[1]] if kumo else 0.0
        counted = (
            {k: v - counted_before.get(k, 0.0) for k, v in _counters(metrics_url).items()} if kumo else {}
        )
    finally:
        switch.stop()
        if kumo is not None:
            kumo.send_signal(signal.SIGTERM)
            kumo.wait(20)
    per = max(ok, 1)
    return {
        "variant": name,
        "registers_ok": ok,
        "wall_seconds": round(wall, 1),
        "switch_ms_per_register": round(1000 * switch_cpu / per, 3),
        "kumo_ms_per_register": round(1000 * kumo_cpu / per, 3),
        "kumo_events_ms_per_register": round(1000 * kumo_parent_cpu / per, 3),
        "kumo_lookups_ms_per_register": round(1000 * (kumo_cpu - kumo_parent_cpu) / per, 3),
        "total_ms_per_register": round(1000 * (switch_cpu + kumo_cpu) / per, 3),
        # What kumo was asked per REGISTER: directory lookups and events from the switch.
        "lookups_per_register": round(
            sum(v for k, v in counted.items() if k.startswith("kumo_xml_lookups_total")) / per, 2
        ),
        "events_per_register": round(counted.get("kumo_esl_events_total", 0.0) / per, 2),
        "kumo_lookups": {k: v for k, v in counted.items() if k.startswith("kumo_xml_lookups_total") and v},
    }


SOUNDS = REPO / "build" / "e2e" / "sounds"  # shared with tests/e2e (half a minute to make)
BOX = "101"


def _sounds() -> Path:
    subprocess.run(
        [str(VENV_BIN / "fsctl"), "prompts", "generate", "--root", str(SOUNDS)],
        check=True,
        capture_output=True,
    )
    # mod_local_stream refuses to load without at least one file in its directory (moh stream).
    music = SOUNDS / "music" / "8000"
    music.mkdir(parents=True, exist_ok=True)
    if not any(music.iterdir()):
        tone = ["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", str(music / "e2e-moh.wav")]
        subprocess.run([*tone, "synth", "2", "sine", "523", "vol", "0.25"], check=True)
    return SOUNDS


def _boxes(lang: str) -> list[str]:
    """A three-digit box, and the six-digit one whose extension takes longest to say."""
    return [BOX, beep_budget.slowest_extension(SOUNDS, lang)]


def _predicted_beep() -> dict[str, dict[str, float]]:
    """What fsctl.media.beep_budget computes from the files for the same boxes."""
    return {
        lang: {box: round(beep_budget.answer_to_beep(SOUNDS, lang, box), 2) for box in _boxes(lang)}
        for lang in ("ja", "en")
    }


def _beep_times(base: Path, located, install_dir: Path) -> dict[str, dict[str, float]]:
    """Seconds from answer to RECORD_START of calls to unregistered users' voicemail, per language and box."""
    workdir = base / "voicemail"
    workdir.mkdir()
    with _database(workdir) as database_url:
        return _measure_beeps(workdir, database_url, located, install_dir)


def _measure_beeps(
    workdir: Path, database_url: str, located, install_dir: Path
) -> dict[str, dict[str, float]]:
    sounds = _sounds()
    ports = reserve_ports(tcp=("http", "esl", "outbound"), udp=(), sip=("sip", "carrier_profile"))
    sip = ports["sip"]
    http_password, esl_password = secrets.token_hex(12), secrets.token_hex(12)
    conf = workdir / "conf"
    fs.deploy(conf, _local_vars(ports, sip, http_password, esl_password))
    env = _kumo_env(database_url, ports, http_password, esl_password)
    env["FSCTL_SOUNDS_DIR"] = str(sounds)
    subprocess.run([str(VENV_BIN / "fsctl"), "db", "upgrade"], env=env, check=True, capture_output=True)
    for lang in ("ja", "en"):
        doc = {
            "domain": f"{lang}.{DOMAIN}",
            "name": f"Beep {lang}",
            "timezone": "Asia/Tokyo",
            "status": "active",
            "language": lang,
            "users": [
                *(
                    {
                        "extension": box,
                        "name": "Box",
                        "password": f"Bench-box-{box}-pass",
                        "voicemail": {"enabled": True, "pin": "2468"},
                        "forward": {"unregistered": {"voicemail": box}},
                    }
                    for box in _boxes(lang)
                ),
                {"extension": "102", "name": "Caller", "password": "Bench-caller-102-pass"},
            ],
        }
        tenant = workdir / f"tenant-{lang}.yaml"
        tenant.write_text(yaml.safe_dump(doc, allow_unicode=True))
        subprocess.run(
            [str(VENV_BIN / "fsctl"), "apply", str(tenant)], env=env, check=True, capture_output=True
        )
    log = open(workdir / "serve.log", "ab")  # noqa: SIM115 - the process's output
    kumo = subprocess.Popen(
        [str(VENV_BIN / "fsctl"), "serve", "--workers", "1"], env=env, stdout=log, stderr=log
    )
    switch = fs.Switch(
        install_dir, located.runtime, conf, workdir / "state", sounds, "127.0.0.1", ports["esl"], esl_password
    )
    (workdir / "tone.ulaw").write_bytes(bytes([0xFF]) * 16000)  # mu-law silence: the phone's stream
    out: dict[str, dict[str, float]] = {}
    try:
        _wait_http(f"http://127.0.0.1:{ports['http']}/healthz")
        switch.start()
        events = esl.EventLog("127.0.0.1", ports["esl"], esl_password)
        try:
            for lang, box in [(la, b) for la in ("ja", "en") for b in _boxes(la)]:
                mark = events.mark()
                args = ["sipp", "-sf", str(REPO / "tests" / "e2e" / "sipp" / "uac.xml"), "-i", "127.0.0.1"]
                args += ["-p", str(free_udp_port()), "-mp", str(free_udp_port() & ~1), "-m", "1", "-nostdin"]
                args += [
                    "-d",
                    "40000",
                    "-timeout",
                    "90s",
                    "-key",
                    "user",
                    "102",
                    "-key",
                    "domain",
                    f"{lang}.{DOMAIN}",
                ]
                args += ["-key", "display", "102", "-key", "to_user", box, "-au", "102"]
                args += ["-ap", "Bench-caller-102-pass", "-auth_uri", f"{lang}.{DOMAIN}", f"127.0.0.1:{sip}"]
                call = subprocess.Popen(
                    args, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                )
                answer = events.wait_for(
                    esl.event_is("CHANNEL_ANSWER", Caller_Destination_Number=box), 30, mark
                )
                record = events.wait_for(
                    esl.event_is("RECORD_START", Unique_ID=answer["Unique-ID"]), 60, mark
                )
                out.setdefault(lang, {})[box] = round(
                    (int(record["Event-Date-Timestamp"]) - int(answer["Event-Date-Timestamp"])) / 1e6, 2
                )
                switch.api(f"uuid_kill {answer['Unique-ID']}")
                call.kill()
                call.wait()
        finally:
            events.close()
    finally:
        switch.stop()
        kumo.send_signal(signal.SIGTERM)
        kumo.wait(20)
    return out


def _wait_http(url: str, timeout: float = 30, ready: Callable[[bytes], bool] = lambda _body: True) -> None:
    """Until `url` answers, with a body `ready` accepts."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if ready(response.read()):
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer (or not as wanted)")


def _esl_connected(body: bytes) -> bool:
    """kumo's /healthz says its event socket is connected."""
    try:
        return json.loads(body).get("esl") == "connected"
    except ValueError:
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=int(os.environ.get("BENCH_SWITCH_USERS", "200")))
    parser.add_argument("--rate", type=int, default=int(os.environ.get("BENCH_SWITCH_RATE", "50")))
    parser.add_argument("--count", type=int, default=int(os.environ.get("BENCH_SWITCH_REGISTERS", "1500")))
    parser.add_argument(
        "--post-all",
        action="store_true",
        default=os.environ.get("BENCH_SWITCH_POST_ALL") == "1",
        help="xml_curl posts every field (no enable-post-var), for comparison",
    )
    parser.add_argument("--no-voicemail", action="store_true", help="skip the answer-to-beep timing")
    parser.add_argument("--only-voicemail", action="store_true", help="only the answer-to-beep timing")
    args = parser.parse_args(argv)
    located = fs.locate()
    if located.reason or not fs.have_sipp():
        print(f"bench.switch: skipped: {located.reason or 'no sipp'}")
        return 0
    with tempfile.TemporaryDirectory(prefix="kumo-bench-switch-") as tmp:
        base = Path(tmp)
        install_dir = fs.install(located, base / "fs")
        variants = () if args.only_voicemail else ("static", "kumo_uncached", "kumo")
        results = [_run_variant(v, base, located, install_dir, args) for v in variants]
        beep = {} if args.no_voicemail else _beep_times(base, located, install_dir)
    database = "postgresql" if _postgresql() else "sqlite"
    report = {"database": database, "users": args.users, "rate_per_second": args.rate, "results": results}
    report["xml_curl_posts"] = "every field" if args.post_all else "kumo's fields (fsctl.xmlcurl.posted)"
    report["voicemail_answer_to_beep_seconds"] = beep
    if beep:
        report["voicemail_answer_to_beep_predicted_seconds"] = _predicted_beep()
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
