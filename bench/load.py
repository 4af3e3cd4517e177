"""Request bodies from the real captured mod_xml_curl bodies, and the wrk run that posts them.

The captured body is rewritten field by field (only the values that name the tenant, the user or the
number, plus per-request ids), so every other byte is what FreeSWITCH really sends. The captures are of
a switch posting every field; by default the bodies are then cut to what kumo's bindings post
(fsctl.xmlcurl.posted.as_posted), `posted=False` (BENCH_POST=all) keeps them whole, as before.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import subprocess
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import quote

from bench.dataset import Size, did_national, domain_of, extension_of
from fsctl.xmlcurl.posted import as_posted

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "data" / "freeswitch" / "xml_curl"
DIRECTORY_FIXTURE = "directory-sip_auth-register.txt"
DIALPLAN_FIXTURE = "dialplan-loopback-public-9196.txt"

NOT_FOUND_MARK = b'status="not found"'


def _rewrite(template: str, values: dict[str, str]) -> bytes:
    """The captured body with the values of some keys replaced (url-encoded); order and the rest kept."""
    out = []
    for pair in template.split("&"):
        key, sep, _ = pair.partition("=")
        if sep and key in values:
            pair = f"{key}={quote(values[key], safe='')}"
        out.append(pair)
    return "&".join(out).encode()


def _fixture(name: str) -> str:
    path = FIXTURES / name
    if not path.exists():
        raise SystemExit(f"captured body missing: {path}")
    return path.read_text(encoding="utf-8").strip()


def directory_bodies(size: Size, count: int, rng: random.Random, posted: bool = True) -> list[bytes]:
    """sip_auth REGISTER lookups for random (tenant, user) pairs of the data set."""
    template = _fixture(DIRECTORY_FIXTURE)
    bodies = []
    for n in range(count):
        tenant = rng.randint(1, size.tenants)
        user = extension_of(rng.randrange(size.users))
        domain = domain_of(tenant)
        bodies.append(
            _rewrite(
                template,
                {
                    "domain": domain,
                    "key_value": domain,
                    "sip_auth_realm": domain,
                    "sip_to_host": domain,
                    "sip_from_host": domain,
                    "sip_request_host": domain,
                    "sip_auth_uri": f"sip:{domain}",
                    "user": user,
                    "sip_auth_username": user,
                    "sip_contact_user": user,
                    "sip_to_user": user,
                    "sip_from_user": user,
                    "sip_auth_nonce": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "sip_auth_response": hashlib.md5(rng.randbytes(16)).hexdigest(),
                    "sip_call_id": f"{rng.getrandbits(32):x}@192.0.2.{rng.randint(1, 254)}",
                    "Event-Sequence": str(1000 + n),
                },
            )
        )
    return [as_posted(body) for body in bodies] if posted else bodies


def dialplan_bodies(size: Size, count: int, rng: random.Random, posted: bool = True) -> list[bytes]:
    """Carrier calls (context public) to a random tenant's DID, in national form."""
    template = _fixture(DIALPLAN_FIXTURE)
    bodies = []
    for n in range(count):
        did = did_national(rng.randint(1, size.tenants))
        caller = f"090{rng.randint(0, 99_999_999):08d}"
        call_uuid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        bodies.append(
            _rewrite(
                template,
                {
                    "Caller-Destination-Number": did,
                    "Hunt-Destination-Number": did,
                    "Caller-Caller-ID-Number": caller,
                    "Caller-Orig-Caller-ID-Number": caller,
                    "Caller-ANI": caller,
                    "Hunt-Caller-ID-Number": caller,
                    "Hunt-Orig-Caller-ID-Number": caller,
                    "Hunt-ANI": caller,
                    "variable_origination_caller_id_number": caller,
                    "Unique-ID": call_uuid,
                    "Channel-Call-UUID": call_uuid,
                    "Caller-Unique-ID": call_uuid,
                    "Hunt-Unique-ID": call_uuid,
                    "variable_uuid": call_uuid,
                    "variable_call_uuid": call_uuid,
                    "Event-Sequence": str(1000 + n),
                },
            )
        )
    return [as_posted(body) for body in bodies] if posted else bodies


def write_bodies_lua(path: Path, bodies: list[bytes]) -> None:
    """A Lua file returning the bodies as a table of long strings."""
    with open(path, "w", encoding="utf-8") as out:
        out.write("return {\n")
        for body in bodies:
            text = body.decode()
            if "]==]" in text:
                raise ValueError("body contains the Lua long-string terminator")
            out.write(f"[==[{text}]==],\n")
        out.write("}\n")


LUA_SCRIPT = r"""
-- Generated by bench/load.py: POST a random pre-built body per request, new connection each time.
local bodies_file = %(bodies)s
local host_header = %(host)s
local requests = {}
local count = 0
local thread_no = 0

function setup(thread)
  thread_no = thread_no + 1
  thread:set("seed", thread_no * 7919 + os.time())
end

function init(args)
  math.randomseed(tonumber(seed) or os.time())
  local bodies = dofile(bodies_file)
  local headers = {
    ["Host"] = host_header,
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Accept"] = "*/*",
    -- mod_xml_curl opens a new TCP connection for every lookup.
    ["Connection"] = "close",
  }
  for i, body in ipairs(bodies) do
    requests[i] = wrk.format("POST", "/fs/xml", headers, body)
  end
  count = #requests
end

function request()
  return requests[math.random(count)]
end

function done(summary, latency, requests_)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%%d,"duration_us":%%d,"bytes":%%d,"connect_errors":%%d,"read_errors":%%d,'
    .. '"write_errors":%%d,"status_errors":%%d,"timeouts":%%d,"p50_us":%%d,"p90_us":%%d,"p99_us":%%d,'
    .. '"max_us":%%d,"mean_us":%%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
"""


@dataclass
class WrkResult:
    requests: int
    duration_us: int
    bytes: int
    connect_errors: int
    read_errors: int
    write_errors: int
    status_errors: int
    timeouts: int
    p50_us: int
    p90_us: int
    p99_us: int
    max_us: int
    mean_us: float

    @property
    def rps(self) -> float:
        return self.requests / (self.duration_us / 1e6) if self.duration_us else 0.0

    @property
    def errors(self) -> int:
        return self.connect_errors + self.read_errors + self.write_errors + self.status_errors + self.timeouts

    def as_dict(self) -> dict:
        data = asdict(self)
        data.update(
            rps=round(self.rps, 1), errors=self.errors, p50_ms=self.p50_us / 1000, p99_ms=self.p99_us / 1000
        )
        return data


def write_script(path: Path, bodies_file: Path, port: int) -> None:
    path.write_text(
        LUA_SCRIPT % {"bodies": json.dumps(str(bodies_file)), "host": json.dumps(f"127.0.0.1:{port}")}
    )


def run_wrk(wrk: str, script: Path, port: int, seconds: int, connections: int, threads: int) -> WrkResult:
    """One wrk run against http://127.0.0.1:port/fs/xml; bounded by `seconds` plus a margin."""
    argv = [
        wrk,
        "-t",
        str(threads),
        "-c",
        str(connections),
        "-d",
        f"{seconds}s",
        "--timeout",
        "5s",
        "-s",
        str(script),
        f"http://127.0.0.1:{port}/fs/xml",
    ]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    match = re.search(r"^BENCH_RESULT (\{.*\})$", done.stdout, re.M)
    if done.returncode != 0 or match is None:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return WrkResult(**json.loads(match.group(1)))
