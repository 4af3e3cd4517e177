"""FAX to e-mail in routing: a carrier call to one of the tenant's fax numbers is answered by
mod_spandsp's fax receiver (pure: reads the tenant snapshot, adds to the plan).

What the receiver reads and leaves (src/mod/applications/mod_spandsp/mod_spandsp_fax.c):
- `rxfax` with no file name writes `<fax_spool>/<fax_prefix>-<n>-<time>.tif`, creating fax_spool
  (switch_dir_make_recursive) — a named file's directory would have to exist already; the name it
  used is left in `fax_filename`.
- `fax_enable_t38=true`: a T.38 re-INVITE from the sender (or the carrier's gateway) is accepted and
  the fax continues as T.38; `fax_enable_t38_request=false`: the receiver does not ask for T.38
  itself, so a sender that only does G.711 pass-through is never sent a re-INVITE it may mishandle.
- `fax_use_ecm=true`: error correction, as Japanese fax machines expect; `fax_ident`: the station
  id the sender sees (our number).
- When the call ends, the results are channel variables (fax_success, fax_result_code,
  fax_result_text, fax_document_transferred_pages, fax_remote_station_id, fax_t38_status): they
  reach kumo in the leg's CDR, with `kumo_fax_number`, and fsctl.fax.intake records the fax.
"""

from __future__ import annotations

from fsctl.routing.plan import Plan
from fsctl.routing.snapshot import TenantSnap

# Marks the receiving leg in its CDR: the tenant's fax number the call came to.
FAX_NUMBER_VAR = "kumo_fax_number"


def fax_spool(domain: str) -> str:
    """The tenant's fax directory on the switch: `${kumo_fax_dir}` is the global variable of
    freeswitch/vars.xml equal to the service's FSCTL_FAX_DIR."""
    return f"${{kumo_fax_dir}}/{domain}"


def receive_fax(plan: Plan, tenant: TenantSnap, national: str) -> None:
    """Answer and receive one fax (G.711 or T.38) into the tenant's fax directory, then hang up."""
    plan.decide(
        f"number {national}: fax",
        "the fax receiver answers (G.711 or T.38); the fax is stored and mailed as PDF",
    )
    # kumo's sofia profiles name no rtp-timer-name, so a channel's RTP reads wait for a packet
    # (switch_core_media.c: no timer -> SWITCH_RTP_FLAG_DATAWAIT). rxfax writes only after each read
    # (mod_spandsp_fax.c, spanfax_rx/tx loop): a sender that waits for our CED before it sends
    # anything (as the switch's own txfax does) would leave both ends waiting forever. A soft timer
    # makes reads return comfort noise every 20 ms instead; it is read when the media starts, so it
    # is set before the answer.
    plan.add("set", "rtp_timer_name=soft")
    plan.add("answer")
    plan.add("set", f"{FAX_NUMBER_VAR}={national}")
    plan.add("set", f"fax_spool={fax_spool(tenant.domain)}")
    # `set` expands ${uuid} now: the file is named after the receiving leg.
    plan.add("set", "fax_prefix=${uuid}")
    plan.add("set", "fax_enable_t38=true")
    plan.add("set", "fax_enable_t38_request=false")
    plan.add("set", "fax_use_ecm=true")
    plan.add("set", f"fax_ident={national}")
    plan.add("rxfax")
    plan.add("hangup", "NORMAL_CLEARING")
