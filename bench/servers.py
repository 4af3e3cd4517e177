"""The processes a benchmark run starts: `fsctl serve` and nginx, on 127.0.0.1 only, always stopped.

Each server runs in its own session (process group) so that stopping it also stops its workers,
and only the processes started here are ever signalled.
"""

from __future__ import annotations

import grp
import http.client
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

HOST = "127.0.0.1"
LOGS = Path(__file__).resolve().parent / "out" / "logs"


def ensure_tools() -> dict[str, str]:
    """Paths of wrk and nginx; installs Debian's packages (apt-get, as root) when one is missing."""
    found = {name: _which(name) for name in ("wrk", "nginx")}
    if all(found.values()):
        return found  # type: ignore[return-value]
    missing = [name for name, path in found.items() if not path]
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise SystemExit(f"bench needs {' and '.join(missing)}: apt-get install -y wrk nginx (as root)")
    print(f"installing {' '.join(missing)} from Debian's packages ...", flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, timeout=600)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk", "nginx"], check=True, env=env, timeout=900)
    found = {name: _which(name) for name in ("wrk", "nginx")}
    if not all(found.values()):
        raise SystemExit("wrk or nginx still missing after apt-get install")
    return found  # type: ignore[return-value]


def _which(name: str) -> str | None:
    return shutil.which(name) or next(
        (str(p) for p in (Path("/usr/sbin") / name, Path("/usr/local/sbin") / name) if p.exists()), None
    )


def fsctl_command() -> list[str]:
    """The venv's fsctl (next to the running interpreter), else `python -m fsctl.cli`."""
    script = Path(sys.executable).parent / "fsctl"
    return [str(script)] if script.exists() else [sys.executable, "-m", "fsctl.cli"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def post(port: int, path: str, body: bytes, timeout: float = 5.0) -> tuple[int, bytes]:
    """One POST on a new connection (like mod_xml_curl); (status, body)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(
            "POST",
            path,
            body,
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "Connection": "close",
            },
        )
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def get(port: int, path: str, timeout: float = 2.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


class Server:
    """A started process group with a log file; `stop()` is idempotent and always ends it."""

    name = "server"

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.log_path = workdir / f"{self.name}-{self.port}.log"

    def _spawn(self, argv: list[str], env: dict[str, str] | None = None) -> None:
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def cpu_seconds(self) -> float:
        """User + system CPU so far of the server's process and every descendant (fsctl's workers,
        nginx's), from /proc: what the server spent, whatever else shares the machine."""
        if self.process is None:
            return 0.0
        total, pending = 0.0, [self.process.pid]
        while pending:
            pid = pending.pop()
            try:
                stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
                for task in Path(f"/proc/{pid}/task").iterdir():
                    pending += [int(child) for child in (task / "children").read_text().split()]
            except OSError:
                continue  # ended meanwhile
        return total

    def _check_alive(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")

    def stop(self, grace: float = 5.0) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        try:
            self._stop(process, grace)
        finally:
            self._keep_log()

    def _keep_log(self) -> None:
        """A copy of the server's log in bench/out/logs (the work dir is removed at the end)."""
        try:
            LOGS.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.log_path, LOGS / self.log_path.name)
        except OSError:
            pass

    def _stop(self, process: subprocess.Popen, grace: float) -> None:
        if process.poll() is None:
            self._signal(process, signal.SIGTERM)
            try:
                process.wait(grace)
            except subprocess.TimeoutExpired:
                pass
        # The group may still hold workers even when the leader is gone.
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            process.wait(2)
        except subprocess.TimeoutExpired:
            pass

    def _signal(self, process: subprocess.Popen, sig: int) -> None:
        try:
            os.kill(process.pid, sig)
        except ProcessLookupError:
            pass

    def worker_pids(self) -> list[int]:
        """Processes of this server's group (leader first), for profiling."""
        if self.process is None:
            return []
        pgid = self.process.pid
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if os.getpgid(int(entry.name)) == pgid:
                        pids.append(int(entry.name))
                except (ProcessLookupError, PermissionError):
                    continue
        return sorted(pids)


class FsctlServer(Server):
    name = "fsctl"

    def __init__(self, workdir: Path, database_url: str, workers: int):
        super().__init__(workdir)
        self.workers = workers
        # Open lookups (the load clients send no credentials); the instance folder stays in the work dir.
        env = dict(
            os.environ,
            DATABASE_URL=database_url,
            FSCTL_XML_CURL_AUTH="off",
            FSCTL_INSTANCE_DIR=str(workdir / "instance"),
        )
        self._spawn(
            [
                *fsctl_command(),
                "serve",
                "--no-esl",
                "--http-listen",
                f"{HOST}:{self.port}",
                "--workers",
                str(workers),
            ],
            env,
        )

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Until the service answers and its workers' dialplan snapshots are warm (they load every
        tenant in the background when they start: fsctl.xmlcurl.dialplan.DialplanResponder.warm), so
        the figures are the steady state a running service has, not its first minute."""
        deadline = time.monotonic() + timeout
        warm_answers = 0
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                status, body = get(self.port, "/healthz")
                if status == 200:
                    state = json.loads(body).get("snapshots", "warm")
                    # Each answer comes from one worker: several warm answers in a row cover them all.
                    warm_answers = warm_answers + 1 if state in ("warm", "cold") else 0
                    if warm_answers >= 4 * self.workers:
                        return
            except (OSError, ValueError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"fsctl was not ready (warm) within {timeout:.0f} s:\n{self.log_tail()}")


NGINX_CONF = """\
{user}worker_processes auto;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    client_body_buffer_size 64k;
    keepalive_timeout 10s;
    server {{
        listen {host}:{port} backlog=4096;
        root {dir}/www;
        location = /fs/xml {{
            default_type "text/xml; charset=utf-8";
            try_files /directory.xml =404;
            # The static module answers POST with 405; the error page re-serves the file as 200, so a
            # POST gets the same bytes a GET would.
            error_page 405 =200 $uri;
        }}
    }}
}}
"""


def _nginx_user() -> str:
    """Workers drop to nobody when nginx starts as root (its files are made world-readable)."""
    if os.geteuid() != 0:
        return ""
    try:
        pwd.getpwnam("nobody")
        group = next(g for g in ("nogroup", "nobody") if _group_exists(g))
        return f"user nobody {group};\n"
    except (KeyError, StopIteration):
        return "user root;\n"


def _group_exists(name: str) -> bool:
    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


class NginxServer(Server):
    name = "nginx"

    def __init__(self, workdir: Path, nginx: str, document: bytes):
        super().__init__(workdir)
        root = workdir / f"nginx-{self.port}"
        (root / "www").mkdir(parents=True)
        (root / "www" / "directory.xml").write_bytes(document)
        conf = root / "nginx.conf"
        conf.write_text(NGINX_CONF.format(user=_nginx_user(), dir=root, host=HOST, port=self.port))
        for path in (workdir, root, root / "www"):
            path.chmod(0o755)
        (root / "www" / "directory.xml").chmod(0o644)
        self.document = document
        self.pid_file = root / "nginx.pid"
        self._spawn(
            [
                nginx,
                "-p",
                str(root),
                "-e",
                str(root / "nginx-error.log"),
                "-c",
                str(conf),
                "-g",
                "daemon off;",
            ]
        )

    def wait_ready(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                status, body = post(self.port, "/fs/xml", b"section=directory")
                if status == 200 and body == self.document:
                    return
                raise RuntimeError(f"nginx answered POST with {status} and {len(body)} bytes, not the file")
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"nginx did not start within {timeout:.0f} s:\n{self.log_tail()}")

    def _signal(self, process: subprocess.Popen, sig: int) -> None:
        # SIGQUIT: graceful shutdown of the master and its workers.
        super()._signal(process, signal.SIGQUIT if sig == signal.SIGTERM else sig)
