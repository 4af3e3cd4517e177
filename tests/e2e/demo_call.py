"""`make demo-call`: two SIPp phones register as demo extensions 101 and 102, and 101 calls 102
through the switch `make run` started; prints what happened. Exit status 0 when the call was answered.

It reuses the end-to-end phones (tests/e2e/phones.py, scenarios in tests/e2e/sipp/). Where the PBX
is comes from instance/run.json (written by `fsctl run`), the passwords from
instance/demo-sip-passwords.json (generated on first run).
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from e2e.phones import Phone, SippFactory, free_udp_port
from fsctl.config import settings_from_env
from fsctl.devrun import DEMO_EXTENSIONS, RUN_FILE, demo_passwords


def _ulaw_tone(seconds: float = 2.0) -> bytes:
    """A 440 Hz tone as G.711 mu-law: the phones stream audio once answered, like real phones."""
    out = bytearray()
    for i in range(int(8000 * seconds)):
        sample = int(6000 * math.sin(2 * math.pi * 440 * i / 8000))
        sign = 0x80 if sample < 0 else 0
        sample = min(abs(sample), 32635) + 0x84
        exponent, mask = 7, 0x4000
        while exponent > 0 and not sample & mask:
            exponent -= 1
            mask >>= 1
        out.append(~(sign | (exponent << 4) | ((sample >> (exponent + 3)) & 0x0F)) & 0xFF)
    return bytes(out)


def demo_call(instance_dir: Path, database_url: str, talk_ms: int = 2000, out=sys.stdout) -> bool:
    try:
        info = json.loads((instance_dir / RUN_FILE).read_text(encoding="utf-8"))
    except OSError:
        print("demo-call: kumo is not running; start it with `make run` in another terminal", file=out)
        return False
    sip = info.get("sip")
    if not sip:
        print("demo-call: `make run` has no FreeSWITCH, so nothing can register (see its output)", file=out)
        return False
    domain = info["domain"]
    passwords = demo_passwords(instance_dir)
    caller_ext, callee_ext = DEMO_EXTENSIONS
    registrar = f"{sip['address']}:{sip['port']}"
    workdir = Path(tempfile.mkdtemp(prefix="kumo-demo-call-"))
    (workdir / "tone.ulaw").write_bytes(_ulaw_tone())
    sipp = SippFactory(workdir, sip["address"])
    source = sip["address"]

    def phone(ext: str) -> Phone:
        return Phone(sipp, registrar, ext, domain, passwords[ext], port=free_udp_port(source), source=source)

    caller, callee = phone(caller_ext), phone(callee_ext)
    print(f"SIP server {registrar}, domain {domain}", file=out)
    ok = True
    for p in (caller, callee):
        run = p._register("register", 300)
        codes = run.responses("REGISTER")
        print(
            f"  {p.extension}: {'registered' if run.ok else 'NOT registered'} (REGISTER answers {codes})",
            file=out,
        )
        ok = ok and run.ok
    if not ok:
        print(f"  the SIPp traces are in {workdir}", file=out)
        return False
    started = time.time()
    answering = callee.answer(ring_ms=500)
    call = caller.call(callee_ext, talk_ms=talk_ms).wait()
    answering.wait(20)
    final = call.final_response("INVITE")
    answered = final == 200 and call.ok
    print(
        f"  {caller_ext} calls {callee_ext}: "
        + (
            f"answered (200), talked {talk_ms / 1000:.0f} s, {caller_ext} hung up"
            if answered
            else f"not answered ({final})"
        ),
        file=out,
    )
    cause = _hangup_cause(database_url, domain, started)
    print(f"  hang-up cause recorded by kumo: {cause or '(no call record yet)'}", file=out)
    for p in (caller, callee):
        p._register("register", 0)
    print(f"  SIP traces: {workdir}", file=out)
    return answered


def _hangup_cause(database_url: str, domain: str, since: float, timeout: float = 10) -> str:
    """The switch posts the call record to kumo (mod_json_cdr) just after the hang-up."""
    engine = create_engine(database_url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                row = conn.execute(
                    text(
                        "SELECT c.hangup_cause FROM cdrs c JOIN tenants t ON t.id = c.tenant_id "
                        "WHERE t.domain = :d ORDER BY c.id DESC LIMIT 1"
                    ),
                    {"d": domain},
                ).first()
            if row is not None and row[0]:
                return row[0]
            time.sleep(0.3)
        return ""
    except Exception as exc:  # noqa: BLE001 - a report line, not the verdict
        return f"(could not read call records: {exc})"
    finally:
        engine.dispose()


def main() -> int:
    settings = settings_from_env()
    return 0 if demo_call(Path(settings.instance_dir), settings.database_url) else 1


if __name__ == "__main__":
    sys.exit(main())
