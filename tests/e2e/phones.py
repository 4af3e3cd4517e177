"""SIPp phones and a SIPp carrier for the end-to-end tests (scenarios in tests/e2e/sipp/).

Each SIPp run keeps its full SIP message trace (-trace_msg) in the session's work folder; the test
reads SIP answers from it, and a failing test prints it.
"""

from __future__ import annotations

import itertools
import re
import socket
import struct
import subprocess
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

SCENARIOS = Path(__file__).resolve().parent / "sipp"
_counter = itertools.count(1)


def free_udp_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def free_tcp_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def reserve_ports(tcp: tuple[str, ...], udp: tuple[str, ...], sip: tuple[str, ...]) -> dict[str, int]:
    """Free ports by name, all different: `tcp` and `udp` ones free on their protocol, `sip` ones free
    on both (a sofia profile binds UDP and TCP on its sip-port and fails when either is taken). Every
    socket stays bound until all are chosen, so no two names get the same number."""
    held: list[socket.socket] = []
    ports: dict[str, int] = {}
    try:
        for names, kinds in ((sip, (socket.SOCK_DGRAM, socket.SOCK_STREAM)), (tcp, (socket.SOCK_STREAM,))):
            for name in names:
                while name not in ports:
                    first = socket.socket(socket.AF_INET, kinds[0])
                    first.bind(("127.0.0.1", 0))
                    held.append(first)
                    port = first.getsockname()[1]
                    try:
                        for kind in kinds[1:]:
                            other = socket.socket(socket.AF_INET, kind)
                            held.append(other)
                            other.bind(("127.0.0.1", port))
                    except OSError:
                        continue
                    if port not in ports.values():
                        ports[name] = port
        for name in udp:
            while name not in ports:
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                sock.bind(("127.0.0.1", 0))
                held.append(sock)
                if sock.getsockname()[1] not in ports.values():
                    ports[name] = sock.getsockname()[1]
    finally:
        for sock in held:
            sock.close()
    return ports


def free_port_pair(host: str = "127.0.0.1", avoid: int | None = None) -> int:
    """A free even UDP port with its next three free too: SIPp's -mp audio port, +1 its RTCP, +2
    and +3 the video pair it binds as well (it fails with "Unable to bind video RTP socket").

    `avoid`: the SIP port the same SIPp binds. A phone's port is free between its runs, so without
    this the four could include it and SIPp would collide with itself (seen once: video RTP on the
    phone's own SIP port)."""
    for _ in range(200):
        port = free_udp_port(host) & ~1
        if avoid is not None and port <= avoid <= port + 3:
            continue
        socks = []
        try:
            for offset in range(4):
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(sock)
                sock.bind((host, port + offset))
            return port
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    raise RuntimeError("no four free RTP ports")


SIP_TESTER_PCAPS = Path("/usr/share/sip-tester")  # Debian sip-tester: dtmf_2833_<digit>.pcap


def dtmf_pcap(workdir: Path, digit: str, position: int) -> str:
    """sip-tester's captured RFC 2833 key press for `digit`, renumbered for its place in a sequence.

    The captures' RTP sequence numbers fall from 8 (8253) to 2 (8042); FreeSWITCH drops an event
    whose sequence number is below the last one it took as "old" (switch_rtp.c, handle_rfc2833), so
    "8642" arrived as "84". Each press gets rising sequence numbers and timestamps instead; the UDP
    checksum is zeroed (allowed for IPv4) rather than recomputed."""
    name = f"dtmf_{position}_{digit}.pcap"
    data = bytearray((SIP_TESTER_PCAPS / f"dtmf_2833_{digit}.pcap").read_bytes())
    link = struct.unpack_from("<I", data, 20)[0]
    layer2 = 14 if link == 1 else 16  # Ethernet, else Linux cooked capture
    offset, first = 24, None
    while offset < len(data):
        length = struct.unpack_from("<I", data, offset + 8)[0]
        packet = offset + 16
        udp = packet + layer2 + (data[packet + layer2] & 0x0F) * 4
        rtp = udp + 8
        seq = struct.unpack_from(">H", data, rtp + 2)[0]
        first = seq if first is None else first
        struct.pack_into(
            ">HI", data, rtp + 2, 20000 + position * 100 + (seq - first), 200000 + position * 16000
        )
        struct.pack_into(">H", data, udp + 6, 0)
        offset = packet + length
    (workdir / name).write_bytes(bytes(data))
    return name


@dataclass
class SippRun:
    """One SIPp process; `wait()` returns once it ended (it always ends: -timeout)."""

    name: str
    proc: subprocess.Popen
    trace_file: Path
    error_file: Path
    server: bool = False
    returncode: int | None = None

    def wait(self, timeout: float = 60) -> SippRun:
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.returncode = self.proc.wait()
        return self

    @property
    def ok(self) -> bool:
        # 97 = "exit on internal command": the server scenarios' stop_now, reached only at the end
        # of their main call (uas.xml).
        return self.returncode == 0 or (self.server and self.returncode == 97)

    def trace(self) -> str:
        try:
            return self.trace_file.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def errors(self) -> str:
        try:
            return self.error_file.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def messages(self, direction: str = "received") -> list[str]:
        """SIP messages SIPp received (or sent), in order."""
        # SIPp 3.6 writes a line of dashes and the time, then "UDP message received [n] bytes :"
        # or "UDP message sent (n bytes):", a blank line, then the message.
        parts = re.split(r"^UDP message (received|sent) [^\n]*bytes ?\)?:\n", self.trace(), flags=re.M)
        out = []
        for kind, body in zip(parts[1::2], parts[2::2], strict=False):
            if kind == direction:
                # drop the next entry's dashes-and-time line
                out.append(re.sub(r"\n-{5,}[^\n]*\s*$", "", body).strip("\n"))
        return out

    def responses(self, method: str = "INVITE") -> list[int]:
        """Status codes received for `method` requests, in order."""
        codes = []
        for msg in self.messages("received"):
            first = msg.splitlines()[0] if msg else ""
            m = re.match(r"SIP/2\.0 (\d{3})", first)
            if m and re.search(rf"^CSeq:\s*\d+\s+{method}\b", msg, flags=re.M | re.I):
                codes.append(int(m.group(1)))
        return codes

    def final_response(self, method: str = "INVITE") -> int | None:
        finals = [c for c in self.responses(method) if c >= 200 and c != 401 and c != 407]
        return finals[-1] if finals else None

    def requests(self, method: str) -> list[str]:
        return [m for m in self.messages("received") if m.startswith(f"{method} ")]


@dataclass
class SippFactory:
    """Runs SIPp scenarios against the switch from one work folder (which holds tone.ulaw)."""

    workdir: Path
    switch_host: str
    runs: list[SippRun] = field(default_factory=list)

    def start(
        self,
        scenario: str,
        remote: str,
        port: int,
        keys: dict[str, str] | None = None,
        auth: tuple[str, str, str] | None = None,
        duration_ms: int = 0,
        timeout_s: int = 30,
        local_ip: str = "127.0.0.1",
        server: bool = False,
        call_id: str | None = None,
        calls: int | None = None,
    ) -> SippRun:
        if calls is None and not server:
            calls = 1  # server scenarios for phones end themselves (uas.xml: unsolicited NOTIFYs)
        n = next(_counter)
        path = Path(scenario) if scenario.endswith(".xml") else SCENARIOS / f"{scenario}.xml"
        name = f"{n:03d}-{path.stem}-{port}"
        trace = self.workdir / f"{name}.trace"
        errors = self.workdir / f"{name}.errors"
        args = ["sipp", "-sf", str(path), "-i", local_ip, "-p", str(port)]
        args += ["-mi", local_ip, "-mp", str(free_port_pair(local_ip, avoid=port)), "-nostdin", "-nr"]
        if calls:
            args += ["-m", str(calls)]
        args += ["-timeout", f"{timeout_s}s", "-timeout_error", "-d", str(duration_ms)]
        args += ["-trace_msg", "-message_file", str(trace), "-trace_err", "-error_file", str(errors)]
        for key, value in (keys or {}).items():
            args += ["-key", key, value]
        if auth is not None:
            user, password, realm = auth
            args += ["-au", user, "-ap", password, "-auth_uri", realm]
        if call_id is not None:
            # A fixed Call-ID (no % sequences): a phone keeps one registration dialog across runs.
            args += ["-cid_str", call_id]
        if not server:
            args.append(remote)
        proc = subprocess.Popen(
            args,
            cwd=self.workdir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        run = SippRun(name, proc, trace, errors, server)
        self.runs.append(run)
        return run

    def wait_listening(self, run: SippRun, port: int, timeout: float = 20.0) -> None:
        """Until a server-mode SIPp has bound its UDP port (read from /proc: binding it ourselves
        to probe would race with SIPp's own bind)."""
        needle = f":{port:04X}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if run.proc.poll() is not None:
                raise AssertionError(f"SIPp on port {port} exited with {run.proc.returncode}: {run.errors()}")
            with open("/proc/net/udp", encoding="ascii") as table:
                if any(line.split()[1].endswith(needle) for line in list(table)[1:]):
                    return
            time.sleep(0.05)
        raise AssertionError(f"SIPp did not bind 127.0.0.1:{port}")


def natted_scenario(workdir: Path, scenario: str, private_address: str) -> str:
    """`scenario` (a name in tests/e2e/sipp or a file) as a phone behind a NAT router sends it: its
    Via and Contact name `private_address` (host:port on the office LAN) instead of the address its
    packets come from, which only the router knows. Written once into the run's work folder."""
    path = Path(scenario) if scenario.endswith(".xml") else SCENARIOS / f"{scenario}.xml"
    natted = workdir / f"{path.stem}-nat-{private_address.replace(':', '-')}.xml"
    if not natted.exists():
        text = path.read_text(encoding="ascii")
        # [local_ip]:[local_port] is used exactly in Via and Contact lines; the SDP names [media_ip].
        natted.write_text(text.replace("[local_ip]:[local_port]", private_address), encoding="ascii")
    return str(natted)


@dataclass
class Phone:
    """A SIP account on one UDP port: registers, calls, answers."""

    sipp: SippFactory
    registrar: str  # host:port of the switch's internal profile
    extension: str
    domain: str
    password: str
    display: str = ""
    port: int = field(default_factory=free_udp_port)
    call_id: str = ""
    # The phone's own address: brute-force bans are per source address (127.0.0.0/8 is all local).
    source: str = "127.0.0.1"
    # A phone behind a NAT router: the host:port it believes it has (on the office LAN), which its
    # Via and Contact name while its packets come from `source`:`port` (natted_scenario).
    private_address: str = ""

    def __post_init__(self) -> None:
        self.call_id = f"reg-{self.extension}-{self.port}@kumo-e2e"
        self._cseq = 1

    def natted(self, scenario: str) -> str:
        """`scenario` as this phone sends it: rewritten when it is behind a NAT router."""
        if not self.private_address:
            return scenario
        return natted_scenario(self.sipp.workdir, scenario, self.private_address)

    def _keys(self, **more: str) -> dict[str, str]:
        keys = {"user": self.extension, "domain": self.domain, "display": self.display or self.extension}
        keys.update(more)
        return keys

    def _register(self, scenario: str, expires: int, password: str | None = None) -> SippRun:
        keys = self._keys(expires=str(expires), cseq_base=str(self._cseq), cseq_next=str(self._cseq + 1))
        self._cseq += 2
        auth = (self.extension, password or self.password, self.domain)
        return self.sipp.start(
            self.natted(scenario),
            self.registrar,
            self.port,
            keys,
            auth,
            call_id=self.call_id,
            local_ip=self.source,
        ).wait()

    def register(self, expires: int = 3600) -> SippRun:
        run = self._register("register", expires)
        assert run.ok, f"{self.extension}@{self.domain} did not register: {run.responses('REGISTER')}"
        return run

    def register_refused(self, password: str | None = None) -> SippRun:
        return self._register("register_refused", 3600, password)

    def register_forbidden(self) -> SippRun:
        """The first REGISTER answered 403 without a challenge (a source banned by Kamailio)."""
        return self._register("register_forbidden", 3600)

    def unregister(self) -> SippRun:
        run = self._register("register", 0)
        assert run.ok, f"{self.extension}@{self.domain} did not unregister: {run.responses('REGISTER')}"
        return run

    def answer(self, ring_ms: int = 200, timeout_s: int = 30, scenario: str = "uas") -> SippRun:
        """Start answering the next call on this phone's port (in the background)."""
        run = self.sipp.start(
            self.natted(scenario), "", self.port, duration_ms=ring_ms, timeout_s=timeout_s, server=True
        )
        self.sipp.wait_listening(run, self.port)
        return run

    def scenario(self, name: str) -> str:
        """The SIPp scenario this phone runs for `name` (a phone behind a proxy rewrites it)."""
        return name

    def answer_and_transfer(self, refer_to: str, timeout_s: int = 30, replaces: str = "") -> SippRun:
        """Answer the next call, then transfer the caller to `refer_to` (REFER): blind, or attended
        when `replaces` names the dialog to replace ("call-id;to-tag=..;from-tag=..")."""
        uri = f"sip:{refer_to}@{self.domain}"
        if replaces:
            uri += "?Replaces=" + urllib.parse.quote(replaces, safe="")
        keys = self._keys(refer_uri=uri)
        run = self.sipp.start(
            self.scenario("uas_refer"), "", self.port, keys, duration_ms=200, timeout_s=timeout_s, server=True
        )
        self.sipp.wait_listening(run, self.port)
        return run

    def call(
        self, number: str, talk_ms: int = 1000, timeout_s: int = 30, display: str | None = None
    ) -> SippRun:
        """Call `number`, expect an answer, talk, hang up (in the background: wait() for it)."""
        keys = self._keys(to_user=number)
        if display is not None:
            keys["display"] = display
        auth = (self.extension, self.password, self.domain)
        return self.sipp.start(
            "uac", self.registrar, free_udp_port(), keys, auth, duration_ms=talk_ms, timeout_s=timeout_s
        )

    def call_until_hung_up(self, number: str, timeout_s: int = 40) -> SippRun:
        """Call `number`, expect an answer, stay on until the switch hangs up (background)."""
        auth = (self.extension, self.password, self.domain)
        return self.sipp.start(
            self.natted("uac_until_bye"),
            self.registrar,
            free_udp_port(),
            self._keys(to_user=number),
            auth,
            timeout_s=timeout_s,
        )

    def call_pressing(
        self, number: str, digits: str, first_ms: int, after_ms: int, timeout_s: int = 60
    ) -> SippRun:
        """Call `number`; once answered wait `first_ms`, press `digits` (RFC 2833, 0-9), stay
        `after_ms`, hang up (background). The scenario is uac.xml with the key presses put in."""
        path = self.sipp.workdir / f"uac_keys_{digits}.xml"
        if not path.exists():
            presses = "".join(
                f'  <nop><action><exec play_pcap_audio="{dtmf_pcap(self.sipp.workdir, d, k)}"/></action></nop>\n'
                '  <pause milliseconds="700"/>\n'
                for k, d in enumerate(digits)
            )
            block = (
                '  <pause/>\n  <nop><action><exec rtp_stream="pause"/></action></nop>\n'
                f'{presses}  <nop><action><exec rtp_stream="resume"/></action></nop>\n'
                f'  <pause milliseconds="{after_ms}"/>\n'
            )
            text = (SCENARIOS / "uac.xml").read_text(encoding="ascii")
            path.write_text(text.replace("  <pause/>\n", block, 1), encoding="ascii")
        auth = (self.extension, self.password, self.domain)
        keys = self._keys(to_user=number)
        return self.sipp.start(
            str(path), self.registrar, free_udp_port(), keys, auth, duration_ms=first_ms, timeout_s=timeout_s
        )

    def call_refused(self, number: str, timeout_s: int = 30, display: str | None = None) -> SippRun:
        """Call `number` expecting an error answer; returns the finished run."""
        keys = self._keys(to_user=number)
        if display is not None:
            keys["display"] = display
        auth = (self.extension, self.password, self.domain)
        return self.sipp.start(
            "uac_refused",
            self.registrar,
            free_udp_port(self.source),
            keys,
            auth,
            timeout_s=timeout_s,
            local_ip=self.source,
        ).wait()
