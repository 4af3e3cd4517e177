"""The end-to-end cluster: Kamailio in front of two FreeSWITCH nodes, each deployed from freeswitch/.

Addresses (all loopback): Kamailio on 127.0.0.1, node A on 127.0.0.2, node B on 127.0.0.3, the
carrier (SIPp) on 127.0.0.4: Kamailio tells the carrier from phones by source address, and phones
send from 127.0.0.1. Each node is its own FreeSWITCH from the shared install, with its own conf dir
(kumo's freeswitch/ through deploy.sh plus a vars.d/local.xml naming the node, Kamailio as its
carrier proxy and trusted proxy) and its own event socket on the node's address, open to the kumo
host (kumo_esl_acl=kumo-instances). kumo runs as one `fsctl serve` given both nodes' event sockets
and a shared storage folder; Kamailio reads its database's views.

Phones and the carrier use the single-switch SIPp scenarios rewritten to follow the route set
(`routed_scenario`): behind a record-routing proxy, ACK and BYE go to the remote target with the
recorded Route headers, as real phones send them.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from e2e import esl, switch
from e2e.phones import Phone, SippFactory, free_tcp_port, free_udp_port

KAMAILIO_IP = "127.0.0.1"
CARRIER_IP = "127.0.0.4"
NODE_IPS = {"node-a": "127.0.0.2", "node-b": "127.0.0.3"}
REPO_ROOT = switch.REPO_ROOT
# Debian installs the daemon and its RPC client in /usr/sbin, which a non-root PATH may lack.
_SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])


def kamailio_binary() -> str | None:
    return shutil.which("kamailio", path=_SEARCH_PATH)


def kamcmd_binary() -> str | None:
    return shutil.which("kamcmd", path=_SEARCH_PATH)


def kamailio_unavailable() -> str:
    """Why the cluster tests cannot run here ("" when they can)."""
    if kamailio_binary() is None or kamcmd_binary() is None:
        return "no Kamailio: apt-get install kamailio kamailio-postgres-modules kamailio-sqlite-modules (make kamailio-deps)"
    return ""


def free_sip_port(host: str) -> int:
    """A port free for both UDP and TCP on `host` (a sofia profile binds both)."""
    for _ in range(100):
        port = free_udp_port(host)
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                tcp.bind((host, port))
            return port
        except OSError:
            continue
    raise RuntimeError(f"no free SIP port on {host}")


# -- SIPp scenarios that follow the route set ---------------------------------------------------------

_IN_DIALOG = re.compile(r"^([ \t]*)(ACK|BYE) sip:\[to_user\]@\[remote_ip\]:\[remote_port\] SIP/2\.0$", re.M)
_REFER_TO_PEER = re.compile(r"^([ \t]*)REFER \[\$peer_contact\] SIP/2\.0$", re.M)


def routed_scenario(workdir: Path, name: str) -> str:
    """tests/e2e/sipp/<name>.xml with its dialog requests sent the way a proxy's route set wants
    them: the 200's Record-Route kept (rrs), ACK/BYE to [next_url] with [routes]; the answering
    scenarios echo Record-Route in their replies so the switch routes its BYE back through the
    proxy too, and a REFER the answering phone sends follows the INVITE's route set. Written once
    into the run's work folder."""
    path = workdir / f"routed_{name}.xml"
    if not path.exists():
        source = (Path(__file__).resolve().parent / "sipp" / f"{name}.xml").read_text(encoding="ascii")
        routed = source.replace(
            '<recv response="200" rtd="true"/>', '<recv response="200" rtd="true" rrs="true"/>'
        )
        routed = _IN_DIALOG.sub(lambda m: f"{m[1]}{m[2]} [next_url] SIP/2.0\n{m[1]}[routes]", routed)
        # Kamailio's UDP workers may relay a node's 180/183 after the 200 of the same INVITE (tm
        # sends a provisional reply after releasing the transaction's reply lock, so another worker's
        # 200 can leave first); a phone ignores such a late provisional reply, SIPp would abort the
        # call on it. optional="global" lets SIPp match it at any later point of the scenario.
        routed = re.sub(
            r'<recv response="(18[03])" optional="true"/>', r'<recv response="\1" optional="global"/>', routed
        )
        if _REFER_TO_PEER.search(routed):
            # a phone that sends its own request in the dialog the switch opened (uas_refer's
            # REFER): the INVITE's Record-Route kept, kept in order for a request (SIPp's rrs), and
            # the REFER sent to the INVITE's Contact ([next_url]) through the proxy ([routes])
            routed = routed.replace(
                '<recv request="INVITE" crlf="true">', '<recv request="INVITE" crlf="true" rrs="true">'
            )
            routed = _REFER_TO_PEER.sub(lambda m: f"{m[1]}REFER [next_url] SIP/2.0\n{m[1]}[routes]", routed)
            # SIPp refuses a scenario with a variable assigned and never used
            routed = re.sub(r'^[ \t]*<ereg [^\n]*assign_to="peer_contact"/>\n', "", routed, flags=re.M)
        # replies to the switch's INVITE: the Record-Route the proxy added, back to the switch
        routed = re.sub(
            r"^([ \t]*)\[last_CSeq:\]\n([ \t]*)Contact:",
            lambda m: f"{m[1]}[last_CSeq:]\n{m[1]}[last_Record-Route:]\n{m[2]}Contact:",
            routed,
            flags=re.M,
        )
        path.write_text(routed, encoding="ascii")
    return str(path)


@dataclass
class RoutedPhone(Phone):
    """A phone behind Kamailio: registers and calls through it, follows the route set."""

    workdir: Path = field(default=Path("."))

    def scenario(self, name: str) -> str:
        return routed_scenario(self.workdir, name)

    def call(self, number: str, talk_ms: int = 1000, timeout_s: int = 30, display: str | None = None):
        keys = self._keys(to_user=number)
        if display is not None:
            keys["display"] = display
        return self.sipp.start(
            routed_scenario(self.workdir, "uac"),
            self.registrar,
            free_udp_port(),
            keys,
            (self.extension, self.password, self.domain),
            duration_ms=talk_ms,
            timeout_s=timeout_s,
        )

    def call_until_hung_up(self, number: str, timeout_s: int = 40):
        return self.sipp.start(
            self.natted(routed_scenario(self.workdir, "uac_until_bye")),
            self.registrar,
            free_udp_port(),
            self._keys(to_user=number),
            (self.extension, self.password, self.domain),
            timeout_s=timeout_s,
        )

    def answer(self, ring_ms: int = 200, timeout_s: int = 30, scenario: str = "uas"):
        run = self.sipp.start(
            self.natted(routed_scenario(self.workdir, scenario)),
            "",
            self.port,
            duration_ms=ring_ms,
            timeout_s=timeout_s,
            server=True,
        )
        self.sipp.wait_listening(run, self.port)
        return run


# -- Kamailio -----------------------------------------------------------------------------------------


class Kamailio(switch.LoggedProcess):
    """kumo's kamailio/ deployed with kamailio/deploy.sh and run in the foreground (-DD -E)."""

    def __init__(
        self, workdir: Path, database_url: str, port: int, carrier: str, options: tuple[str, ...] = ()
    ) -> None:
        self.dir = workdir / "kamailio"
        self.conf_dir = self.dir / "conf"
        self.run_dir = self.dir / "run"
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log_file = self.dir / "kamailio.log"
        self.address = f"{KAMAILIO_IP}:{port}"
        self.ctl_socket = self.run_dir / "kamailio_ctl"
        self.proc: subprocess.Popen | None = None
        args = ["bash", str(REPO_ROOT / "kamailio" / "deploy.sh"), str(self.conf_dir)]
        args += ["--listen", self.address, "--db-url", database_url]
        args += ["--carrier", carrier, "--carrier-cidr", f"{CARRIER_IP}/32"]
        args += ["--probe-interval", "2", "--node-timeout-ms", "2000", "--children", "2"]
        args += ["--log-level", "2", "--ctl-socket", str(self.ctl_socket), *options]
        result = subprocess.run(args, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"kamailio/deploy.sh failed:\n{result.stdout}\n{result.stderr}")

    def start(self) -> None:
        log = open(self.log_file, "ab")  # noqa: SIM115 - kept open for the process's life
        self.proc = subprocess.Popen(
            [
                kamailio_binary(),
                "-f",
                str(self.conf_dir / "kamailio.cfg"),
                "-DD",
                "-E",
                "-Y",
                str(self.run_dir),
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )
        log.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"kamailio exited:\n{self.log_tail()}")
            if self.ctl_socket.exists():
                try:
                    self.rpc("core.version")
                    return
                except RuntimeError:
                    pass
            time.sleep(0.1)
        raise RuntimeError(f"kamailio did not start:\n{self.log_tail()}")

    def rpc(self, *command: str) -> str:
        result = subprocess.run(
            [kamcmd_binary(), "-s", f"unix:{self.ctl_socket}", *command],
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        )
        if result.returncode != 0:
            raise RuntimeError(f"kamcmd {' '.join(command)}: {result.stdout}{result.stderr}")
        return result.stdout

    def node_states(self) -> dict[tuple[int, str], str]:
        """(set, destination URI) -> dispatcher flags ("AP" active, "IP" inactive, ...)."""
        states: dict[tuple[int, str], str] = {}
        setid = 0
        uri = ""
        for line in self.rpc("dispatcher.list").splitlines():
            line = line.strip()
            if line.startswith("ID:"):
                setid = int(line.split(":", 1)[1])
            elif line.startswith("URI:"):
                uri = line.split(":", 1)[1].strip()
            elif line.startswith("FLAGS:"):
                states[(setid, uri)] = line.split(":", 1)[1].strip()
        return states

    def wait_node_state(self, destination: str, active: bool, timeout: float = 20) -> float:
        """Seconds until every dispatcher entry of `destination` (a sip: URI) is (in)active."""
        start = time.monotonic()
        while True:
            flags = [f for (_, uri), f in self.node_states().items() if uri == destination]
            if flags and all(f.startswith("A") == active for f in flags):
                return time.monotonic() - start
            if time.monotonic() - start > timeout:
                raise AssertionError(
                    f"{destination} not {'active' if active else 'inactive'}: {self.node_states()}"
                )
            time.sleep(0.2)


# -- the nodes ----------------------------------------------------------------------------------------


@dataclass
class Node:
    """One FreeSWITCH node: its address, profiles' ports, event socket and event log."""

    name: str
    ip: str
    sip_port: int
    carrier_port: int
    esl_port: int
    switch: switch.Switch
    events: esl.EventLog | None = None

    @property
    def sip_uri(self) -> str:
        return f"sip:{self.ip}:{self.sip_port}"

    @property
    def carrier_uri(self) -> str:
        return f"sip:{self.ip}:{self.carrier_port}"

    def api(self, command: str) -> str:
        return self.switch.api(command)

    def registrations(self) -> str:
        """`sofia status profile internal reg`: the phones registered on this node."""
        return self.api("sofia status profile internal reg")

    def connect_events(self) -> None:
        self.events = esl.EventLog(self.ip, self.esl_port, self.switch.esl_password)

    def close_events(self) -> None:
        if self.events is not None:
            self.events.close()
            self.events = None


def node_local_vars(
    node_name: str,
    ip: str,
    ports: Mapping[str, int],
    kumo_http: str,
    kamailio: str,
    common: Mapping[str, str],
) -> dict[str, str]:
    """vars.d/local.xml of one node: kumo's URLs, its addresses, and the
    cluster settings (localswitch.node_vars): its name, Kamailio as trusted proxy and carrier proxy."""
    from fsctl.localswitch import node_vars

    values = dict(common)
    values.update(
        kumo_xml_url_1=f"http://{kumo_http}/fs/xml",
        kumo_xml_url_2=f"http://{kumo_http}/fs/xml",
        kumo_cdr_url_1=f"http://{kumo_http}/fs/cdr",
        kumo_cdr_url_2=f"http://{kumo_http}/fs/cdr",
        kumo_esl_port=str(ports["esl"]),
        # the event socket on the node's own address, open to the kumo host (here the loopback)
        kumo_esl_ip=ip,
        kumo_esl_acl="kumo-instances",
        kumo_esl_cidr=f"{KAMAILIO_IP}/32",
        kumo_local_ip=ip,
        kumo_external_ip=ip,
        kumo_sip_port=str(ports["sip"]),
        kumo_carrier_sip_port=str(ports["carrier"]),
        # the carrier and the other nodes (a call crossing nodes arrives from Kamailio with
        # X-AUTH-IP = the node it left), never Kamailio itself (freeswitch/README.md)
        kumo_carrier_cidr=",".join([f"{CARRIER_IP}/32", *(f"{a}/32" for a in NODE_IPS.values())]),
        kumo_carrier_ping="0",
    )
    values.update(node_vars(node_name, [f"{KAMAILIO_IP}/32"], kamailio))
    return values


def start_all(starters: list) -> None:
    """Run the start functions in parallel threads (each switch takes seconds to come up)."""
    errors: list[BaseException] = []

    def run(fn) -> None:
        try:
            fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised below in the caller's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(fn,)) for fn in starters]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def ports_for(ip: str) -> dict[str, int]:
    return {"sip": free_sip_port(ip), "carrier": free_sip_port(ip), "esl": free_tcp_port(ip)}


@dataclass
class Cluster:
    """Everything a cluster test needs."""

    workdir: Path
    kamailio: Kamailio
    nodes: dict[str, Node]
    kumo: object  # the e2e Kumo: `fsctl serve` connected to both nodes, its CLI and database
    sipp: SippFactory
    carrier_port: int
    registered: list[Phone] = field(default_factory=list)

    def phone(self, domain: str, extension: str, password: str, source: str = KAMAILIO_IP) -> RoutedPhone:
        """A phone sending from `source` (127.0.0.x: brute-force bans are per address)."""
        return RoutedPhone(
            self.sipp,
            self.kamailio.address,
            extension,
            domain,
            password,
            port=free_udp_port(source),
            source=source,
            workdir=self.workdir,
        )

    def registered_phone(
        self, domain: str, extension: str, password: str, source: str = KAMAILIO_IP
    ) -> RoutedPhone:
        phone = self.phone(domain, extension, password, source)
        phone.register()
        self.registered.append(phone)
        return phone

    def carrier_call(
        self, number: str, caller: str = "09011112222", talk_ms: int = 1000, source: str = CARRIER_IP
    ):
        """The carrier (127.0.0.4; or a customer gateway at `source`) calls `number` through Kamailio."""
        keys = {"user": caller, "to_user": number, "display": caller}
        return self.sipp.start(
            routed_scenario(self.workdir, "carrier_uac"),
            self.kamailio.address,
            free_udp_port(source),
            keys,
            duration_ms=talk_ms,
            local_ip=source,
        )

    def carrier_answers(self, calls: int, ring_ms: int = 100, timeout_s: int = 30):
        """The carrier answering calls Kamailio sends it (the nodes' gateway's proxy is Kamailio)."""
        run = self.sipp.start(
            routed_scenario(self.workdir, "uas_many"),
            "",
            self.carrier_port,
            duration_ms=ring_ms,
            timeout_s=timeout_s,
            server=True,
            calls=calls,
            local_ip=CARRIER_IP,
        )
        self.sipp.wait_listening(run, self.carrier_port)
        return run

    def node_of_registration(self, domain: str, extension: str) -> list[str]:
        """The nodes whose internal profile holds a registration of extension@domain."""
        needle = f"{extension}@{domain}"
        return [name for name, node in self.nodes.items() if needle in node.registrations()]


# -- building it ---------------------------------------------------------------------------------------


def build_cluster(
    workdir: Path,
    database_url: str,
    tenants: Mapping[str, list],
    kamailio_options: tuple[str, ...] = (),
    kumo_env: Mapping[str, str] | None = None,
) -> Iterator[Cluster]:
    """Start the whole cluster; `tenants` maps node name -> the e2e Tenant placed there;
    `kamailio_options` are more kamailio/deploy.sh options, `kumo_env` more of kumo's settings
    (`make bench-cluster`). Stops everything it started when the generator is closed."""
    from e2e.conftest import Kumo, _sounds_dir, _ulaw_tone_bytes, service_env

    located = switch.locate()
    install_dir = switch.install(located, workdir / "fs")
    sounds = _sounds_dir()
    (workdir / "tone.ulaw").write_bytes(_ulaw_tone_bytes())
    esl_password = secrets.token_hex(12)
    http_password = secrets.token_hex(12)
    # FSCTL_SHARED_STORAGE_DIR: the one folder every node and kumo instance reads and writes
    shared = workdir / "common-storage"
    for sub in ("audio", "recordings", "fax", "voicemail"):
        (shared / sub).mkdir(parents=True, exist_ok=True)
    (workdir / "cdr-spool").mkdir(exist_ok=True)
    kamailio_port = free_udp_port(KAMAILIO_IP)
    carrier_port = free_udp_port(CARRIER_IP)
    kamailio_address = f"{KAMAILIO_IP}:{kamailio_port}"
    http = f"127.0.0.1:{free_tcp_port()}"
    common = {
        "kumo_platform_domain": "pbx.e2e.test",
        "kumo_http_credentials": f"freeswitch:{http_password}",
        "kumo_cdr_spool_dir": str(workdir / "cdr-spool"),
        "kumo_esl_password": esl_password,
        "kumo_rtp_start_port": "16384",
        "kumo_rtp_end_port": "32000",
        "kumo_audio_dir": str(shared / "audio"),
        "kumo_recordings_dir": str(shared / "recordings"),
        "kumo_fax_dir": str(shared / "fax"),
    }

    nodes: dict[str, Node] = {}
    for name, ip in NODE_IPS.items():
        ports = ports_for(ip)
        node_dir = workdir / name
        node_dir.mkdir(exist_ok=True)
        conf = node_dir / "conf"
        switch.deploy(conf, node_local_vars(name, ip, ports, http, kamailio_address, common))
        sw = switch.Switch(
            install_dir,
            located.runtime,
            conf,
            node_dir / "state",
            sounds,
            ip,
            ports["esl"],
            esl_password,
        )
        nodes[name] = Node(name, ip, ports["sip"], ports["carrier"], ports["esl"], sw)
    # one kumo for both nodes: one event-socket connection per node (FSCTL_ESL_ADDRESS lists both)
    esl_addresses = ",".join(f"{node.ip}:{node.esl_port}" for node in nodes.values())
    dirs = {sub: shared / sub for sub in ("audio", "recordings", "fax", "voicemail")}
    env = service_env(
        database_url,
        (http, esl_addresses, f"127.0.0.1:{free_tcp_port()}"),
        http_password,
        esl_password,
        {**dirs, "sounds": sounds},
    )
    env["FSCTL_SHARED_STORAGE_DIR"] = str(shared)
    env["FSCTL_TRUSTED_PROXIES"] = f"{KAMAILIO_IP}/32"  # sofia reports Kamailio as every source
    env.update(kumo_env or {})
    kumo = Kumo(workdir, database_url, env)
    kumo.fsctl("db", "upgrade")
    for name, node in nodes.items():
        kumo.fsctl(
            "nodes",
            "add",
            name,
            "--sip",
            f"{node.ip}:{node.sip_port}",
            "--carrier",
            f"{node.ip}:{node.carrier_port}",
            "--esl",
            f"{node.ip}:{node.esl_port}",
        )
    for name, placed in tenants.items():
        for tenant in placed:
            kumo.apply(tenant.doc)
            kumo.fsctl("nodes", "move", tenant.domain, name)

    kamailio: Kamailio | None = None
    try:
        kamailio = Kamailio(
            workdir, database_url, kamailio_port, f"{CARRIER_IP}:{carrier_port}", kamailio_options
        )
        kamailio.start()
        kumo.start()
        start_all([node.switch.start for node in nodes.values()])
        kumo.wait_esl_connected()  # every node's connection (/healthz)
        for node in nodes.values():
            node.switch.wait_profiles()
            node.connect_events()
        for node in nodes.values():
            kamailio.wait_node_state(node.sip_uri, active=True)
            kamailio.wait_node_state(node.carrier_uri, active=True)
        yield Cluster(workdir, kamailio, nodes, kumo, SippFactory(workdir, KAMAILIO_IP), carrier_port)
    finally:
        for node in nodes.values():
            node.close_events()
            node.switch.stop()
        kumo.stop()
        kumo.engine.dispose()
        if kamailio is not None:
            kamailio.stop()
