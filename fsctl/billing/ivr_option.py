"""The IVR is a paid option per number (PRODUCT: 500 yen per number per month): a number whose calls
reach a menu holds it.

Pure, over the checked tenant file (fsctl.tenant_file): a number pointing at a menu,
or at a schedule that hands its calls (open or closed) to a menu, gets `ivr_option: true`, whoever
saved it (the panel, the API, `fsctl apply`), so billing (fsctl.billing.subscriptions) follows what
callers get. An option set on a number that reaches no menu stays set: a customer may order it first.
"""

from __future__ import annotations

from typing import Any

from fsctl.tenant_file import Document, Section


def reaches_menu(dest: tuple[str, str | None] | None, schedules: dict[str, dict[str, Any]]) -> bool:
    """The destination plays a menu itself or through a schedule (a schedule cannot lead to another)."""
    if dest is None:
        return False
    kind, target = dest
    if kind == "ivr":
        return True
    if kind == "schedule" and target in schedules:
        schedule = schedules[target]
        return any(
            d is not None and d[0] == "ivr"
            for d in (schedule["open_destination"], schedule["closed_destination"])
        )
    return False


def imply_ivr_option(data: dict[str, Any]) -> None:
    """Turn the IVR option on for every number of the document whose calls reach a menu."""
    schedules = {s["name"]: s for s in data["schedules"]}
    for number in data["numbers"]:
        if not number["ivr_option"] and reaches_menu(number["destination"], schedules):
            number["ivr_option"] = True


class IvrOptionSection(Section):
    """The tenant file's numbers get the IVR option their destinations imply."""

    name = "ivr_option"

    def complete(self, data: Document) -> None:
        imply_ivr_option(data)
