"""Park on a dialled slot, retrieve from another phone; kumo's parked_calls follows."""

from __future__ import annotations

from e2e.tenants import ACME


def _parked(e2e, slot: str) -> list:
    return e2e.kumo.rows(
        "SELECT p.slot, p.uuid, p.caller_number FROM parked_calls p JOIN tenants t ON t.id = p.tenant_id "
        "WHERE t.domain = :d AND p.slot = :s",
        d=ACME.domain,
        s=slot,
    )


def _valet(action: str, uuid: str | None = None):
    def check(e) -> bool:
        return (
            e.get("Event-Subclass") == "valet_parking::info"
            and e.get("Action") == action
            and (uuid is None or e.get("Unique-ID") == uuid)
        )

    return check


def test_park_on_a_slot_and_retrieve_from_another_phone(e2e) -> None:
    mark = e2e.events.mark()
    parked = e2e.phone(ACME.domain, "101").call_until_hung_up("705")
    hold = e2e.events.wait_for(_valet("hold"), since=mark, what="valet hold")
    assert hold["Valet-Extension"] == "705"
    rows = e2e.wait_until(lambda: _parked(e2e, "705"), what="parked_calls row")
    assert rows[0].uuid == hold["Unique-ID"] and rows[0].caller_number == "101"

    retrieve = e2e.phone(ACME.domain, "102").call("705", talk_ms=800)
    assert retrieve.wait().ok, retrieve.responses()
    # The parked caller was joined to the retriever, then ended when the retriever hung up.
    e2e.events.wait_for(_valet("bridge", hold["Unique-ID"]), since=mark, what="valet bridge")
    assert parked.wait().ok, parked.responses()
    e2e.wait_until(lambda: not _parked(e2e, "705"), what="parked_calls row gone")


def test_park_by_blind_transfer_to_a_slot(e2e) -> None:
    parker = e2e.registered_phone(ACME.domain, "102")
    mark = e2e.events.mark()
    parking = parker.answer_and_transfer("712")
    caller = e2e.phone(ACME.domain, "101").call_until_hung_up("102")
    assert parking.wait().ok, parking.responses("REFER")
    hold = e2e.events.wait_for(_valet("hold"), since=mark, what="valet hold after REFER")
    assert hold["Valet-Extension"] == "712"
    rows = e2e.wait_until(lambda: _parked(e2e, "712"), what="parked_calls row")
    assert rows[0].uuid == hold["Unique-ID"]

    retrieve = e2e.phone(ACME.domain, "104").call("712", talk_ms=500)
    assert retrieve.wait().ok, retrieve.responses()
    assert caller.wait().ok, caller.responses()
    e2e.wait_until(lambda: not _parked(e2e, "712"), what="parked_calls row gone")
