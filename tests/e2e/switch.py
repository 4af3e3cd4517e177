"""Find, configure, start and stop the FreeSWITCH the end-to-end tests run against.

Where FreeSWITCH comes from (DECISIONS 23, 25): `KUMO_FREESWITCH=<install dir>` (bin/freeswitch and
mod/ of any FreeSWITCH 1.10/1.11 with the modules kumo loads), else the prebuilt runtime in
`<repo>/../shared/fs-runtime` when it exists. This module is the only place in the repository that
names that folder; tests/test_repository_self_contained.py enforces it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from e2e import esl

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_RUNTIME = REPO_ROOT.parent / "shared" / "fs-runtime"


@dataclass
class Located:
    """Where the switch binaries are; `runtime` is the fs-runtime script when there is one."""

    install_dir: Path | None
    runtime: Path | None
    reason: str = ""


def locate() -> Located:
    """The FreeSWITCH to use, or the one reason there is none."""
    explicit = os.environ.get("KUMO_FREESWITCH")
    script = SHARED_RUNTIME / "fs-runtime"
    runtime = script if script.is_file() else None
    if explicit:
        path = Path(explicit)
        if not (path / "bin" / "freeswitch").is_file():
            return Located(None, None, f"KUMO_FREESWITCH={explicit} has no bin/freeswitch")
        return Located(path, runtime)
    if runtime is None:
        return Located(
            None,
            None,
            "no FreeSWITCH: set KUMO_FREESWITCH=<install dir> or provide ../shared/fs-runtime "
            "beside the repository",
        )
    return Located(None, runtime)


def install(located: Located, into: Path) -> Path:
    """The install dir: KUMO_FREESWITCH as is, or fs-runtime unpacked into `into` (libs apt-installed)."""
    if located.install_dir is not None:
        return located.install_dir
    assert located.runtime is not None
    subprocess.run([str(located.runtime), "install", str(into)], check=True, capture_output=True, text=True)
    return into


def deploy(conf_dir: Path, local_vars: dict[str, str]) -> None:
    """kumo's freeswitch/ through its own deploy.sh, then vars.d/local.xml with this run's values."""
    subprocess.run(
        ["bash", str(REPO_ROOT / "freeswitch" / "deploy.sh"), str(conf_dir)],
        check=True,
        capture_output=True,
        text=True,
    )
    lines = ["<include>"]
    for name, value in local_vars.items():
        # The pre-processor reads data="..." up to the next double quote (vars.xml).
        assert '"' not in value and "\n" not in value, name
        lines.append(f'  <X-PRE-PROCESS cmd="set" data="{name}={value}"/>')
    lines.append("</include>")
    local = conf_dir / "vars.d" / "local.xml"
    local.write_text("\n".join(lines) + "\n", encoding="utf-8")
    local.chmod(0o600)


@dataclass
class Switch:
    """A running FreeSWITCH: its state dir, event socket and log."""

    install_dir: Path
    runtime: Path | None
    conf_dir: Path
    state_dir: Path
    sounds_dir: Path
    esl_host: str
    esl_port: int
    esl_password: str
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
        return env

    def start(self) -> None:
        if self.runtime is not None:
            result = subprocess.run(
                [str(self.runtime), "start", str(self.install_dir), str(self.conf_dir), str(self.state_dir)],
                env=self._env(),
                capture_output=True,
                text=True,
            )
            if result.returncode != 0:
                raise RuntimeError(f"FreeSWITCH did not start:\n{result.stdout}\n{result.stderr}")
        else:
            self._start_direct()
        self.pid = int((self.state_dir / "run" / "freeswitch.pid").read_text().strip())

    def _start_direct(self) -> None:
        """What `fs-runtime start` does, for a KUMO_FREESWITCH without the script beside it."""
        s = self.state_dir
        for name in (
            "log",
            "db",
            "run",
            "storage",
            "recordings",
            "cache",
            "temp",
            "scripts",
            "htdocs",
            "certs",
        ):
            (s / name).mkdir(parents=True, exist_ok=True)
        d = self.install_dir
        env = self._env()
        env["LD_LIBRARY_PATH"] = f"{d / 'lib'}:{env.get('LD_LIBRARY_PATH', '')}"
        args = [str(d / "bin" / "freeswitch"), "-ncwait", "-nonat", "-nonatmap", "-base", str(d)]
        args += ["-conf", str(self.conf_dir), "-mod", str(d / "mod"), "-sounds", str(self.sounds_dir)]
        for name in (
            "log",
            "run",
            "db",
            "storage",
            "recordings",
            "cache",
            "temp",
            "scripts",
            "htdocs",
            "certs",
        ):
            args += [f"-{name}", str(s / name)]
        with open(s / "log" / "freeswitch.out", "wb") as out:
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
        return esl.api(self.esl_host, self.esl_port, self.esl_password, command)

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
                [str(self.runtime), "stop", str(self.state_dir)], env=self._env(), capture_output=True
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
