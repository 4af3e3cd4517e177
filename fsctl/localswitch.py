"""A FreeSWITCH on this machine for `make run` and the end-to-end tests: find it, configure it, run it.

Where FreeSWITCH comes from, in this order:
1. `KUMO_FREESWITCH=<install dir>` (bin/freeswitch and mod/ of a FreeSWITCH 1.10/1.11 with the
   modules kumo loads);
2. the prebuilt runtime `../shared/fs-runtime` beside the repository, unpacked by its own
   `fs-runtime install` (which apt-installs its libraries);
3. a `freeswitch` binary on the PATH, with its module folder (<prefix>/mod, or Debian's
   /usr/lib/freeswitch/mod).

This module is the only place outside tests/e2e that names the shared folder; tests/test_self_contained.py
allows it here and nowhere else in fsctl/.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fsctl.config import PROJECT_ROOT

# The one lookup of the shared runtime outside the end-to-end fixtures: `make run` on a
# machine prepared like CI's gets a switch without any setting.
SHARED_RUNTIME = PROJECT_ROOT.parent / "shared" / "fs-runtime"
DEBIAN_MOD_DIR = Path("/usr/lib/freeswitch/mod")
HOW_TO_GET_ONE = (
    "set KUMO_FREESWITCH=<install dir> (bin/freeswitch, mod/), or put a `freeswitch` binary on the "
    "PATH, or provide the prebuilt runtime folder fs-runtime beside the repository (README.md, the top)"
)


@dataclass
class Located:
    """Where the switch binaries are; `runtime` is the fs-runtime script when there is one."""

    install_dir: Path | None
    runtime: Path | None
    reason: str = ""
    # "KUMO_FREESWITCH", "fs-runtime" or "PATH": what was found, for the person reading the output.
    source: str = ""
    mod_dir: Path | None = None

    @property
    def found(self) -> bool:
        return not self.reason


def locate(
    environ: Mapping[str, str] | None = None,
    shared: Path = SHARED_RUNTIME,
    which: Callable[[str], str | None] = shutil.which,
) -> Located:
    """The FreeSWITCH to use, or the one reason there is none (the order is in the module docstring)."""
    env = os.environ if environ is None else environ
    script = shared / "fs-runtime"
    runtime = script if script.is_file() else None
    explicit = env.get("KUMO_FREESWITCH")
    if explicit:
        path = Path(explicit)
        if not (path / "bin" / "freeswitch").is_file():
            return Located(None, None, f"KUMO_FREESWITCH={explicit} has no bin/freeswitch")
        # fs-runtime can start any install dir laid out like its own (bin/, lib/, mod/).
        return Located(path, runtime, source="KUMO_FREESWITCH", mod_dir=path / "mod")
    if runtime is not None:
        return Located(None, runtime, source="fs-runtime")
    binary = which("freeswitch")
    if binary:
        prefix = Path(binary).resolve().parent.parent
        for mod_dir in (prefix / "mod", prefix / "lib" / "freeswitch" / "mod", DEBIAN_MOD_DIR):
            if (mod_dir / "mod_sofia.so").is_file():
                return Located(prefix, None, source="PATH", mod_dir=mod_dir)
        return Located(None, None, f"{binary} has no module folder with mod_sofia.so")
    return Located(None, None, "no FreeSWITCH: " + HOW_TO_GET_ONE)


def install(located: Located, into: Path) -> Path:
    """The install dir: as found, or fs-runtime unpacked into `into` (idempotent, sha256-checked)."""
    if located.install_dir is not None:
        return located.install_dir
    assert located.runtime is not None, located.reason
    result = subprocess.run(
        [str(located.runtime), "install", str(into)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"fs-runtime install failed:\n{result.stdout}\n{result.stderr}")
    return into


def vars_include(values: Mapping[str, str], comment: str = "") -> str:
    """A vars.d/ include setting each variable."""
    lines = ["<include>"]
    if comment:
        lines.append(f"  <!-- {comment} -->")
    for name, value in values.items():
        # The pre-processor reads data="..." up to the next double quote (vars.xml).
        if any(c in value for c in '"<>&\r\n'):
            raise ValueError(f'{name}: a value with " < > & or a newline cannot go into vars.d/')
        lines.append(f'  <X-PRE-PROCESS cmd="set" data="{name}={value}"/>')
    lines.append("</include>")
    return "\n".join(lines) + "\n"


# A node's name is FreeSWITCH's switchname and kumo's switch_nodes.name.
NODE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def node_vars(node_name: str, proxy_cidrs: Sequence[str], carrier_proxy: str) -> dict[str, str]:
    """The vars.d/ values that make a switch a node of a cluster behind Kamailio (freeswitch/README.md):
    its switchname, the proxies it trusts (apply-proxy-acl) and Kamailio as its carrier gateway's
    proxy (calls to the carrier and to other nodes' tenants leave through Kamailio)."""
    if not NODE_NAME.match(node_name):
        raise ValueError(f"node name {node_name!r}: lower-case letters, digits and '-', at most 63")
    for cidr in proxy_cidrs:
        ipaddress.ip_network(cidr, strict=False)  # ValueError names the bad value
    if not carrier_proxy or any(c in carrier_proxy for c in " ,;<>\"'"):
        raise ValueError(f"carrier proxy {carrier_proxy!r}: host or host:port of Kamailio")
    return {
        "kumo_node_name": node_name,
        "kumo_proxy_cidr": ",".join(proxy_cidrs),
        "kumo_carrier_host": carrier_proxy,
    }


def deploy(
    conf_dir: Path, local_vars: Mapping[str, str] | None = None, secrets_xml: str | None = None
) -> None:
    """kumo's freeswitch/ through its own deploy.sh (secrets into vars.d/kumo-secrets.xml), then
    vars.d/local.xml with `local_vars` when given (always rewritten: the caller decides its values)."""
    args = ["bash", str(PROJECT_ROOT / "freeswitch" / "deploy.sh"), str(conf_dir)]
    if secrets_xml is not None:
        args.append("-")
    result = subprocess.run(args, input=secrets_xml, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"deploy.sh failed:\n{result.stdout}\n{result.stderr}")
    if local_vars is not None:
        write_private(conf_dir / "vars.d" / "local.xml", vars_include(local_vars))


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner reads (it may hold addresses and credentials)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    path.chmod(0o600)


def esl_api(host: str, port: int, password: str, command: str, timeout: float = 5.0) -> str:
    """One `api` command over the event socket; the body of its answer (mod_event_socket.c framing)."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        reader = sock.makefile("rb")

        def frame() -> tuple[dict[str, str], bytes]:
            headers: dict[str, str] = {}
            while True:
                line = reader.readline()
                if not line:
                    raise OSError("event socket closed")
                line = line.rstrip(b"\n")
                if not line:
                    if headers:
                        break
                    continue
                name, _, value = line.decode("utf-8", "replace").partition(":")
                headers[name.strip()] = value.strip()
            length = int(headers.get("Content-Length", "0"))
            return headers, reader.read(length) if length else b""

        frame()  # auth/request
        sock.sendall(f"auth {password}\n\n".encode())
        headers, _ = frame()
        if not headers.get("Reply-Text", "").startswith("+OK"):
            raise OSError(f"event socket refused the password: {headers.get('Reply-Text')}")
        sock.sendall(f"api {command}\n\n".encode())
        while True:
            headers, body = frame()
            if headers.get("Content-Type") == "api/response":
                return body.decode("utf-8", "replace")


STATE_SUBDIRS = ("log", "db", "run", "storage", "recordings", "cache", "temp", "scripts", "htdocs", "certs")


@dataclass
class Switch:
    """A FreeSWITCH started from a conf dir with all its writable folders under `state_dir`."""

    install_dir: Path
    runtime: Path | None
    conf_dir: Path
    state_dir: Path
    sounds_dir: Path
    esl_host: str
    esl_port: int
    esl_password: str
    mod_dir: Path | None = None
    pid: int = 0
    env: dict[str, str] = field(default_factory=dict)

    @property
    def log_file(self) -> Path:
        return self.state_dir / "log" / "freeswitch.log"

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            FS_ESL_HOST=self.esl_host,
            FS_ESL_PORT=str(self.esl_port),
            FS_ESL_PASSWORD=self.esl_password,
            FS_SOUNDS_DIR=str(self.sounds_dir),
            FS_START_TIMEOUT="90",
            FS_STOP_TIMEOUT="10",
        )
        env.update(self.env)
        return env

    def start(self) -> None:
        if self.runtime is not None:
            result = subprocess.run(
                [str(self.runtime), "start", str(self.install_dir), str(self.conf_dir), str(self.state_dir)],
                env=self._env(),
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                raise RuntimeError(f"FreeSWITCH did not start:\n{result.stdout}\n{result.stderr}")
        else:
            self._start_direct()
        self.pid = int((self.state_dir / "run" / "freeswitch.pid").read_text().strip())

    def _start_direct(self) -> None:
        """What `fs-runtime start` does, for a FreeSWITCH without the script beside it."""
        for name in STATE_SUBDIRS:
            (self.state_dir / name).mkdir(parents=True, exist_ok=True)
        d = self.install_dir
        mod_dir = self.mod_dir or d / "mod"
        env = self._env()
        if (d / "lib").is_dir():
            env["LD_LIBRARY_PATH"] = f"{d / 'lib'}:{env.get('LD_LIBRARY_PATH', '')}"
        binary = d / "bin" / "freeswitch"
        args = [str(binary), "-ncwait", "-nonat", "-nonatmap", "-base", str(d)]
        args += ["-conf", str(self.conf_dir), "-mod", str(mod_dir), "-sounds", str(self.sounds_dir)]
        for name in STATE_SUBDIRS:
            args += [f"-{name}", str(self.state_dir / name)]
        # -ncwait forks and returns once the core is up; the daemon keeps none of our pipes.
        with open(self.state_dir / "log" / "freeswitch.out", "wb") as out:
            subprocess.run(args, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out, check=True)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if "is ready" in self.api("status"):
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError("FreeSWITCH did not become ready:\n" + self.log_tail())

    def api(self, command: str) -> str:
        return esl_api(self.esl_host, self.esl_port, self.esl_password, command)

    def running(self) -> bool:
        if not self.pid:
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def stop(self) -> None:
        if self.runtime is not None:
            subprocess.run(
                [str(self.runtime), "stop", str(self.state_dir)],
                env=self._env(),
                capture_output=True,
                check=False,
            )
        if self.running():
            try:
                self.api("fsctl shutdown")
            except OSError:
                pass
            deadline = time.monotonic() + 15
            while self.running() and time.monotonic() < deadline:
                time.sleep(0.2)
            if self.running():
                os.kill(self.pid, signal.SIGKILL)

    def log_tail(self, lines: int = 120) -> str:
        try:
            text = self.log_file.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no switch log)"
        return "\n".join(text.splitlines()[-lines:])

    def wait_profiles(self, names: tuple[str, ...] = ("internal", "carrier"), timeout: float = 30) -> None:
        """sofia starts its profiles in threads after the core is ready: wait for them to run."""
        deadline = time.monotonic() + timeout
        status = ""
        while time.monotonic() < deadline:
            status = self.api("sofia status")
            running = [line for line in status.splitlines() if "profile" in line and "RUNNING" in line]
            if all(any(name in line for line in running) for name in names):
                return
            time.sleep(0.2)
        raise RuntimeError(f"sofia profiles did not start:\n{status}\n{self.log_tail()}")


def tone_wav(path: Path, rate: int = 8000, hz: int = 523, seconds: float = 2.0) -> None:
    """A sine tone as a WAV file (music on hold when no music is installed)."""
    import math
    import wave
    from array import array

    frames = array(
        "h", (int(8000 * math.sin(2 * math.pi * hz * i / rate)) for i in range(int(rate * seconds)))
    )
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames.tobytes())
