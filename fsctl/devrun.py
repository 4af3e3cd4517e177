"""`fsctl run` (what `make run` runs): the demo tenant, the service, the panel and, when this machine
has a FreeSWITCH, the switch configured from kumo's freeswitch/, all in the foreground; Ctrl-C stops
everything it started.

What it writes, once, under the instance folder (all private, 0600 files in a 0700 folder):
- `demo-sip-passwords.json`: the demo extensions' SIP passwords, generated on first run (the
  passwords in dialplans/examples/demo.yaml are never used: no working default credential);
- `freeswitch/conf/vars.d/local.xml`: the site values of this machine's switch (addresses, ports,
  folders, no carrier unless KUMO_CARRIER_HOST names one); delete it to have it written again;
- `run.json`: addresses of the running PBX, read by `make demo-call`.
The demo tenant's panel administrator gets a generated password, printed once and stored hashed.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fsctl import localswitch
from fsctl.config import PROJECT_ROOT, SWITCH_STORAGE_VARS, Settings, storage_dir

log = logging.getLogger(__name__)

DEMO_FILE = PROJECT_ROOT / "dialplans" / "examples" / "demo.yaml"
DEMO_PASSWORDS_FILE = "demo-sip-passwords.json"
RUN_FILE = "run.json"
DEMO_ADMIN_LOCAL = "admin"
# The two extensions the summary shows and `make demo-call` uses (demo.yaml: 101 calls, 102 answers).
DEMO_EXTENSIONS = ("101", "102")
PANEL_DEFAULT = "127.0.0.1:8000"
# An unroutable documentation address (RFC 5737): the carrier gateway exists but leads nowhere and
# the `carriers` ACL admits nobody, until KUMO_CARRIER_HOST configures a real one.
NO_CARRIER = "192.0.2.1"


# -- the demo tenant -----------------------------------------------------------------------------


def demo_passwords(instance_dir: Path) -> dict[str, str]:
    """The demo extensions' SIP passwords (key: extension) and voicemail PINs (key: "<ext>-pin", for
    users with voicemail), generated into the instance folder on first use."""
    users = yaml.safe_load(DEMO_FILE.read_text(encoding="utf-8"))["users"]
    path = Path(instance_dir) / DEMO_PASSWORDS_FILE
    stored: dict[str, str] = {}
    if path.exists():
        stored = json.loads(path.read_text(encoding="utf-8"))
    wanted = {str(u["extension"]): lambda: secrets.token_urlsafe(12) for u in users}
    wanted.update(
        {
            f"{u['extension']}-pin": lambda: f"{secrets.randbelow(10**6):06d}"
            for u in users
            if "voicemail" in u
        }
    )
    missing = [key for key in wanted if key not in stored]
    if missing:
        for key in missing:
            stored[key] = wanted[key]()
        Path(instance_dir).mkdir(mode=0o700, parents=True, exist_ok=True)
        localswitch.write_private(path, json.dumps(stored, indent=2) + "\n")
        log.warning("generated the demo extensions' SIP passwords and PINs into %s (mode 0600)", path)
    return stored


def demo_document(instance_dir: Path) -> dict:
    """demo.yaml with this instance's generated SIP passwords and voicemail PINs (the file has none)."""
    doc = yaml.safe_load(DEMO_FILE.read_text(encoding="utf-8"))
    passwords = demo_passwords(instance_dir)
    for user in doc["users"]:
        extension = str(user["extension"])
        user["password"] = passwords[extension]
        if isinstance(user.get("voicemail"), dict):
            user["voicemail"]["pin"] = passwords[f"{extension}-pin"]
    return doc


def ensure_demo_admin(session_factory, domain: str) -> tuple[str, str | None]:
    """The demo tenant's panel administrator: (e-mail, new password) when created now, else
    (e-mail, None). The password exists only in this return value; the database holds its hash."""
    import datetime as dt

    from sqlalchemy import select

    from fsctl import models
    from fsctl.accounts import hash_password
    from fsctl.db import session_scope

    email = f"{DEMO_ADMIN_LOCAL}@{domain}"
    with session_scope(session_factory) as session:
        tenant = session.scalar(select(models.Tenant).where(models.Tenant.domain == domain))
        if tenant is None:
            raise RuntimeError(f"no tenant {domain}: apply the demo tenant first")
        existing = session.scalar(
            select(models.PanelAccount).where(
                models.PanelAccount.tenant_id == tenant.id,
                models.PanelAccount.role == models.AccountRole.ADMIN,
            )
        )
        if existing is not None:
            return existing.email, None
        # Letters, digits and '-'/'_' (token_urlsafe) always mix kinds: accounts.password_problem.
        password = secrets.token_urlsafe(12) + "7"
        session.add(
            models.PanelAccount(
                email=email,
                password_hash=hash_password(password),
                role=models.AccountRole.ADMIN,
                tenant_id=tenant.id,
                display_name="demo admin",
                created_at=dt.datetime.now(dt.UTC),
            )
        )
        session.add(models.AuditEntry(actor="fsctl run", action="account.create", detail=email))
        return email, password


# -- ports ---------------------------------------------------------------------------------------


class PortTaken(RuntimeError):
    pass


def check_port(host: str, port: int, kind: str, what: str, variable: str) -> None:
    """Bind and release the port, so a port already taken stops us with a message that says which."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM)
    try:
        if kind == "tcp":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        reason = "is already in use" if exc.errno == errno.EADDRINUSE else f"cannot be bound ({exc.strerror})"
        raise PortTaken(
            f"{what}: {kind.upper()} {host}:{port} {reason}; stop what uses it or set {variable}"
        ) from None
    finally:
        sock.close()


def _split(value: str, default_port: int) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    return (host.strip("[]"), int(port)) if host else (value, default_port)


# -- the switch ----------------------------------------------------------------------------------


@dataclass
class SwitchPlan:
    """Where `fsctl run` puts the switch and what it tells it."""

    root: Path
    sip_ip: str
    sip_port: int
    carrier_port: int
    sounds_dir: Path
    environ: Mapping[str, str] = field(default_factory=dict)

    @property
    def conf_dir(self) -> Path:
        return self.root / "conf"

    @property
    def state_dir(self) -> Path:
        return self.root / "state"

    @property
    def install_dir(self) -> Path:
        return self.root / "fs"

    def service_env(self) -> dict[str, str]:
        """Folders the service must share with the switch (unless the operator set them, one by one
        or all at once with FSCTL_SHARED_STORAGE_DIR)."""
        local = {
            "FSCTL_VOICEMAIL_DIR": str(self.state_dir / "storage" / "voicemail" / "default"),
            "FSCTL_RECORDINGS_DIR": str(self.root / "recordings"),
            "FSCTL_FAX_DIR": str(self.root / "fax"),
            "FSCTL_AUDIO_DIR": str(self.root / "audio"),
        }
        # The operator's own FSCTL_*_DIR are laid over these by the callers.
        shared = {"FSCTL_SHARED_STORAGE_DIR": self.environ.get("FSCTL_SHARED_STORAGE_DIR", "")}
        folders = {variable: storage_dir(variable, default, shared) for variable, default in local.items()}
        return {"FSCTL_SOUNDS_DIR": str(self.sounds_dir), **folders}


def site_vars(plan: SwitchPlan, settings: Settings, service_env: Mapping[str, str]) -> dict[str, str]:
    """vars.d/local.xml of the local switch. No credentials here: deploy.sh writes kumo's generated
    ones into vars.d/kumo-secrets.xml on every start, and local.xml (read after it) would win."""
    http_host, http_port = settings.http_listen
    xml = f"http://{http_host}:{http_port}/fs/xml"
    cdr = f"http://{http_host}:{http_port}/fs/cdr"
    env = plan.environ
    carrier = env.get("KUMO_CARRIER_HOST", "")
    values = {
        "kumo_xml_url_1": xml,
        "kumo_xml_url_2": xml,
        "kumo_cdr_url_1": cdr,
        "kumo_cdr_url_2": cdr,
        "kumo_esl_port": str(settings.esl_address[1]),
        "kumo_local_ip": plan.sip_ip,
        "kumo_external_ip": plan.sip_ip,
        "kumo_sip_port": str(plan.sip_port),
        "kumo_carrier_sip_port": str(plan.carrier_port),
        "kumo_carrier_host": carrier or NO_CARRIER,
        "kumo_carrier_cidr": env.get("KUMO_CARRIER_CIDR", "")
        or f"{(carrier or NO_CARRIER).split(':')[0]}/32",
        **{name: service_env[variable] for variable, name in SWITCH_STORAGE_VARS.items()},
    }
    if not carrier:
        # Nobody answers OPTIONS at the placeholder: without this the gateway pings forever.
        values["kumo_carrier_ping"] = "0"
    return values


def host_address() -> str:
    """The address other machines reach this host at (the source address of a default route)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # no packet is sent: connect() on UDP only picks a route
            return s.getsockname()[0]
        except OSError:
            return "127.0.0.1"


def read_vars(path: Path) -> dict[str, str]:
    """name -> value of the `set` lines of a vars include (empty when there is no file)."""
    import re

    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return {}
    return dict(re.findall(r'cmd="set"\s+data="([A-Za-z0-9_]+)=([^"]*)"', text))


def plan_switch(settings: Settings, environ: Mapping[str, str]) -> SwitchPlan:
    root = Path(settings.instance_dir) / "freeswitch"
    sip = environ.get("KUMO_SIP_ADDRESS", "127.0.0.1")
    if sip == "host":
        sip = host_address()
    sip_ip, sip_port = _split(sip, int(environ.get("KUMO_SIP_PORT", "5060")))
    carrier_port = int(environ.get("KUMO_CARRIER_SIP_PORT", "5080"))
    # local.xml is written once and may have been edited since: what it says is what the switch
    # uses, so the port checks and the summary follow it rather than this run's environment.
    written = read_vars(root / "conf" / "vars.d" / "local.xml")
    sip_ip = written.get("kumo_local_ip", sip_ip)
    sip_port = int(written.get("kumo_sip_port", sip_port))
    carrier_port = int(written.get("kumo_carrier_sip_port", carrier_port))
    return SwitchPlan(
        root=root,
        sip_ip=sip_ip,
        sip_port=sip_port,
        carrier_port=carrier_port,
        sounds_dir=Path(environ.get("FSCTL_SOUNDS_DIR") or PROJECT_ROOT / "build" / "sounds"),
        environ=environ,
    )


def prepare_switch(
    plan: SwitchPlan, settings: Settings, located: localswitch.Located, out
) -> localswitch.Switch:
    """Install (fs-runtime), deploy, site vars once, prompts if missing; the Switch, not yet started."""
    from fsctl.secrets import fs_vars

    for folder in (
        plan.root,
        plan.state_dir,
        plan.root / "recordings",
        plan.root / "audio",
        plan.root / "fax",
    ):
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    install_dir = localswitch.install(located, plan.install_dir)
    first = not (plan.conf_dir / "vars.d" / "local.xml").exists()
    # deploy.sh backs a non-empty folder up before replacing it; this folder is kumo's own, so the
    # backups would only pile up: the old tree goes, vars.d/ (local.xml, the operator's edits) stays.
    kept = _set_aside_vars(plan.conf_dir)
    localswitch.deploy(plan.conf_dir, secrets_xml=fs_vars(settings))
    _restore_vars(kept, plan.conf_dir / "vars.d")
    service_env = {**plan.service_env(), **{k: v for k, v in plan.environ.items() if k in plan.service_env()}}
    if first:
        local = plan.conf_dir / "vars.d" / "local.xml"
        localswitch.write_private(
            local,
            localswitch.vars_include(
                site_vars(plan, settings, service_env),
                "Written once by `fsctl run` (make run); edit freely, delete to have it written again.",
            ),
        )
        print(f"switch site values written to {local}", file=out)
    _ensure_prompts(plan.sounds_dir, out)
    password = settings.esl_password or ""
    return localswitch.Switch(
        install_dir,
        located.runtime,
        plan.conf_dir,
        plan.state_dir,
        plan.sounds_dir,
        settings.esl_address[0],
        settings.esl_address[1],
        password,
        mod_dir=located.mod_dir,
    )


def _set_aside_vars(conf_dir: Path) -> Path | None:
    """Move conf_dir/vars.d aside and remove the rest of conf_dir; the folder moved, if any."""
    import shutil

    if not conf_dir.is_dir():
        return None
    kept = None
    if (conf_dir / "vars.d").is_dir():
        kept = conf_dir.parent / "vars.d.kept"
        if kept.exists():
            shutil.rmtree(kept)  # left by an interrupted start; conf_dir/vars.d is the newer copy
        (conf_dir / "vars.d").rename(kept)
    shutil.rmtree(conf_dir)
    return kept


def _restore_vars(kept: Path | None, vars_d: Path) -> None:
    """Put the set-aside vars.d files back (deploy.sh has just written kumo-secrets.xml: it wins)."""
    import shutil

    if kept is None:
        return
    for item in kept.iterdir():
        if item.name != "kumo-secrets.xml" and item.is_file():
            shutil.copy2(item, vars_d / item.name)
    shutil.rmtree(kept)


def _ensure_prompts(sounds_dir: Path, out) -> None:
    """kumo's prompts (fsctl prompts generate skips the files that exist), and one music file:
    mod_local_stream refuses to load when its directory has none."""
    sounds_dir.mkdir(parents=True, exist_ok=True)
    fsctl = Path(sys.executable).parent / "fsctl"
    if not any(sounds_dir.glob("*/*/kumo")):
        print(f"generating kumo's prompts into {sounds_dir} (the first time: about half a minute)", file=out)
        out.flush()
    result = subprocess.run(
        [str(fsctl), "prompts", "generate", "--root", str(sounds_dir)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        print(
            "prompts could not be generated (make media-deps installs open-jtalk and espeak-ng); "
            f"voicemail and menus will be silent:\n{result.stderr.strip()[-500:]}",
            file=out,
        )
    music = sounds_dir / "music" / "8000"
    music.mkdir(parents=True, exist_ok=True)
    if not any(music.glob("*.wav")):
        localswitch.tone_wav(music / "kumo-demo-hold.wav")


# -- the processes -------------------------------------------------------------------------------


@dataclass
class Running:
    """What `fsctl run` started; stop() ends all of it."""

    procs: list[subprocess.Popen] = field(default_factory=list)
    switch: localswitch.Switch | None = None

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self.switch is not None:
            self.switch.stop()
            self.switch = None


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: the process exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers (a 503 /healthz while the switch is away is an answer)
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def summary(info: Mapping) -> str:
    """What a person needs to try the PBX, printed once when everything runs."""
    lines = ["", "=" * 72, "kumo is running. Ctrl-C stops everything.", ""]
    lines.append(f"  panel       {info['panel_url']}")
    admin = info["admin"]
    if admin.get("password"):
        lines.append(f"  sign in     {admin['email']}  password {admin['password']}")
        lines.append("              (shown this once; only its hash is stored)")
    else:
        lines.append(f"  sign in     {admin['email']} (its password was shown when `make run` created it)")
    lines.append(f"  service     {info['service_url']}/healthz")
    sip = info.get("sip")
    if sip:
        lines.append(f"  SIP server  {sip['address']}:{sip['port']} (UDP), domain {info['domain']}")
        for ext in info["extensions"]:
            pin = f", voicemail PIN {ext['pin']}" if ext.get("pin") else ""
            lines.append(
                f"  extension   {ext['extension']}  user {ext['extension']}  password {ext['password']}{pin}"
            )
        lines.append("  try it      `make demo-call` (two SIPp phones: 101 calls 102), or two softphones:")
        lines.append(
            "              dial 102 from 101; *99102 leaves 102 a message, *98 on 102 hears it (PIN);"
        )
        lines.append("              transfer a call to 700-719 to park it, dial the slot to take it back;")
        lines.append("              **102 picks up a call ringing on 102 (dialplans/features.yaml)")
        if sip["address"].startswith("127."):
            lines.append(
                "              SIP listens on loopback; KUMO_SIP_ADDRESS=host for phones on other machines"
            )
    else:
        lines.append("  SIP server  none: no FreeSWITCH on this machine.")
        lines.append(f"              {info.get('no_switch_reason', '')}")
    lines.append("=" * 72)
    return "\n".join(lines) + "\n"


def run(
    settings: Settings,
    apply_document: Callable[[Settings, object, str], int],
    sessions: Callable[[Settings], Any],
    environ: Mapping[str, str] | None = None,
    out=None,
) -> int:
    """The foreground `make run`; returns when interrupted (SIGINT/SIGTERM) or a process ends.

    `apply_document(settings, document, actor)` applies the demo tenant file (0 = applied) and
    `sessions(settings)` opens the database, both as `fsctl apply` does (the CLI passes its own)."""
    from fsctl.secrets import resolve_service_secrets

    out = out or sys.stdout
    env = dict(os.environ if environ is None else environ)
    settings = resolve_service_secrets(settings)
    fsctl = str(Path(sys.executable).parent / "fsctl")
    child_env = dict(env)
    child_env.update(
        DATABASE_URL=settings.database_url,
        FSCTL_INSTANCE_DIR=str(settings.instance_dir),
        FSCTL_HTTP_LISTEN=f"{settings.http_listen[0]}:{settings.http_listen[1]}",
    )
    # The operator's dashboard shows this service's health (webpanel.views.operator.dashboard).
    service_host = "127.0.0.1" if settings.http_listen[0] in ("0.0.0.0", "") else settings.http_listen[0]
    child_env.setdefault("WEBPANEL_SERVICE_URLS", f"http://{service_host}:{settings.http_listen[1]}")
    panel_listen = env.get("WEBPANEL_LISTEN", PANEL_DEFAULT)
    panel_host, panel_port = _split(panel_listen, 8000)

    doc = demo_document(Path(settings.instance_dir))
    if apply_document(settings, doc, "seed-demo") != 0:
        return 1
    admin_email, admin_password = ensure_demo_admin(sessions(settings), doc["domain"])

    located = localswitch.locate(env)
    plan = plan_switch(settings, env) if located.found else None
    try:
        check_port(panel_host, panel_port, "tcp", "the panel", "WEBPANEL_LISTEN")
        check_port(*settings.http_listen, "tcp", "the lookup service", "FSCTL_HTTP_LISTEN")
        if plan is not None:
            check_port(plan.sip_ip, plan.sip_port, "udp", "the switch's SIP profile", "KUMO_SIP_PORT")
            check_port(plan.sip_ip, plan.carrier_port, "udp", "the carrier profile", "KUMO_CARRIER_SIP_PORT")
            check_port(*settings.esl_address, "tcp", "the switch's event socket", "FSCTL_ESL_ADDRESS")
    except PortTaken as exc:
        print(f"fsctl run: {exc}", file=sys.stderr)
        return 2

    running = Running()
    stopping = {"signal": 0}

    def on_signal(signum, _frame):
        stopping["signal"] = signum
        # Ctrl-C while the switch starts or the service comes up: stop at once, not after the wait.
        raise KeyboardInterrupt

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        if plan is not None:
            print(
                f"FreeSWITCH ({located.source}): deploying kumo's freeswitch/ into {plan.conf_dir}", file=out
            )
            sw = prepare_switch(plan, settings, located, out)
            child_env.update({k: child_env.get(k) or v for k, v in plan.service_env().items()})
            running.switch = sw
            sw.start()
            print(f"FreeSWITCH started (pid {sw.pid}, log {sw.log_file})", file=out)
        else:
            print(f"No FreeSWITCH: {located.reason}. Running the service and the panel only.", file=out)
        # New sessions: Ctrl-C reaches only us, and we stop the children in order (service after
        # the panel, the switch last) instead of all of them dying at once mid-write.
        popen = {"env": child_env, "stdin": subprocess.DEVNULL, "start_new_session": True}
        service = subprocess.Popen([fsctl, "serve"], **popen)
        running.procs.append(service)
        panel = subprocess.Popen([fsctl, "panel", "--listen", panel_listen], **popen)
        running.procs.append(panel)
        service_url = f"http://{settings.http_listen[0]}:{settings.http_listen[1]}"
        wait_http(f"{service_url}/healthz", service)
        wait_http(f"http://{panel_host}:{panel_port}/", panel)
        if running.switch is not None:
            running.switch.wait_profiles(("internal",))
        passwords = demo_passwords(Path(settings.instance_dir))
        info = {
            "panel_url": f"http://{panel_host}:{panel_port}/",
            "service_url": service_url,
            "admin": {"email": admin_email, "password": admin_password},
            "domain": doc["domain"],
            "extensions": [
                {"extension": e, "password": passwords[e], "pin": passwords.get(f"{e}-pin", "")}
                for e in DEMO_EXTENSIONS
            ],
            "pids": {
                "service": service.pid,
                "panel": panel.pid,
                "switch": running.switch.pid if running.switch else 0,
            },
        }
        if plan is not None:
            info["sip"] = {"address": plan.sip_ip, "port": plan.sip_port}
        else:
            info["no_switch_reason"] = localswitch.HOW_TO_GET_ONE
        # demo-call reads where the PBX is; no password goes into this file.
        public = {k: v for k, v in info.items() if k not in ("admin", "extensions")}
        localswitch.write_private(Path(settings.instance_dir) / RUN_FILE, json.dumps(public, indent=2) + "\n")
        out.write(summary(info))
        out.flush()
        while not stopping["signal"]:
            if any(p.poll() is not None for p in running.procs):
                print("fsctl run: a process ended; stopping the rest", file=out)
                break
            if running.switch is not None and not running.switch.running():
                print("fsctl run: FreeSWITCH ended; stopping the rest", file=out)
                break
            time.sleep(0.3)
        return 0
    except KeyboardInterrupt:
        return 0
    except RuntimeError as exc:
        print(f"fsctl run: {exc}", file=sys.stderr)
        return 1
    finally:
        # A second Ctrl-C must not cut the stopping short and leave a child behind (each stop has
        # its own time limit, then SIGKILL).
        for signum in previous:
            signal.signal(signum, signal.SIG_IGN)
        print("stopping ...", file=out)
        out.flush()
        running.stop()
        try:
            (Path(settings.instance_dir) / RUN_FILE).unlink()
        except OSError:
            pass
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        print("stopped", file=out)
        out.flush()
