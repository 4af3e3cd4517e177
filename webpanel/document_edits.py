"""Edits of the tenant document that the panel's pages and the JSON API share.

Plain functions over the document (the tenant file's dict form, webpanel.tenantdoc): no Flask, no
HTML, so the API and the views both import them from here and neither imports the other.
"""

from __future__ import annotations

import re
from typing import Any

_SPLIT = re.compile(r"[\s,、;/]+")


def number_destinations(doc: dict) -> dict[str, dict | None]:
    """national -> destination, whether the document lists the number as a user's did or under numbers."""
    result = {n["number"]: n["destination"] for n in doc["numbers"]}
    for user in doc["users"]:
        if user.get("did"):
            result[user["did"]] = {"user": user["extension"]}
    return result


def set_destination(
    doc: dict, national: str, destination: dict | None, ivr_option: bool | None = None
) -> None:
    """Point one number of the tenant somewhere (moving it off a user's did if it was one).

    `ivr_option`: keep or drop the paid IVR option (None: as it is); a number that leads to a menu
    holds it whatever this says (fsctl.billing.ivr_option)."""
    for user in doc["users"]:
        if user.get("did") == national:
            del user["did"]
    if destination is not None:
        clear_fax(doc, national)  # a number rings somewhere or receives faxes, not both
    for entry in doc["numbers"]:
        if entry["number"] == national:
            entry["destination"] = destination
            if ivr_option is not None:
                entry["ivr_option"] = ivr_option
            return
    doc["numbers"].append({"number": national, "destination": destination, "ivr_option": bool(ivr_option)})


def release(doc: dict, national: str) -> None:
    """Take one number off the tenant: off a user's did and out of `numbers`."""
    for user in doc["users"]:
        if user.get("did") == national:
            del user["did"]
    doc["numbers"] = [n for n in doc["numbers"] if n["number"] != national]
    clear_fax(doc, national)


def fax_of(doc: dict, national: str) -> dict | None:
    """The number's fax entry ({number, emails}), None when it does not receive faxes."""
    return next((f for f in doc.get("fax", []) if f["number"] == national), None)


def set_fax(doc: dict, national: str, emails: list[str]) -> None:
    """Make one number of the tenant a fax number mailing to `emails` (it then has no destination)."""
    set_destination(doc, national, None)
    entry = fax_of(doc, national)
    if entry is None:
        doc.setdefault("fax", []).append({"number": national, "emails": emails})
    else:
        entry["emails"] = emails


def clear_fax(doc: dict, national: str) -> None:
    """The number no longer receives faxes (it keeps no destination until one is chosen)."""
    if "fax" in doc:
        doc["fax"] = [f for f in doc["fax"] if f["number"] != national]


def rename_references(node: Any, kind: str, old: str, new: str) -> Any:
    """A renamed ring group, schedule or IVR menu: every destination naming it follows. Rewrite {kind: old} destinations (and users' personal `schedule`) to the new name, in place."""
    if isinstance(node, dict):
        if len(node) == 1 and node.get(kind) == old:
            node[kind] = new
            return node
        for key, value in node.items():
            if kind == "schedule" and key == "schedule" and value == old and isinstance(value, str):
                node[key] = new
            else:
                rename_references(value, kind, old, new)
    elif isinstance(node, list):
        for item in node:
            rename_references(item, kind, old, new)
    return node


def split_addresses(text: str) -> list[str]:
    """E-mail addresses as a person types them: separated by spaces, commas, 、 ; or /."""
    return [a for a in _SPLIT.split(text.strip()) if a]


def split_numbers(text: str) -> list[str]:
    """Phonebook numbers as a person types them: separated by spaces, commas, 、 ; or /."""
    return [n for n in _SPLIT.split(text.strip()) if n]


def matches_contact(entry: dict, query: str) -> bool:
    """Whether a phonebook entry matches a search: the text in its name, company or note, or the
    digits of the query in one of its numbers (however the number was written)."""
    if not query:
        return True
    text = " ".join([entry["name"], entry["company"], entry["note"]]).lower()
    digits = re.sub(r"\D", "", query)
    return query.lower() in text or bool(digits and any(digits in n for n in entry["numbers"]))


# --- Caller screening (the tenant file's `screening:` section, fsctl.screening.schema) -----------------
ANONYMOUS_KINDS = ("withheld", "payphone", "unavailable")


def screening_of(doc: dict) -> dict:
    """The document's `screening` part, created empty when missing (the caller's copy to change)."""
    screening = doc.setdefault("screening", {})
    anonymous = screening.setdefault("anonymous", {})
    anonymous.setdefault("numbers", {})
    anonymous.setdefault("users", {})
    screening.setdefault("blocklist", [])
    return screening


def set_anonymous(doc: dict, kind: str, key: str, refused: list[str]) -> None:
    """Which callers without a number a number (`kind` "numbers") or a user ("users") refuses; an
    empty list refuses none."""
    table = screening_of(doc)["anonymous"][kind]
    if refused:
        table[key] = [k for k in ANONYMOUS_KINDS if k in refused] or refused
    else:
        table.pop(key, None)


def block_caller(doc: dict, caller: str, action: str = "announce", note: str = "") -> None:
    """Add a caller to the blocklist, or change its entry (the same caller is listed once)."""
    blocklist = screening_of(doc)["blocklist"]
    entry = {"caller": caller, "action": action, "note": note}
    for index, existing in enumerate(blocklist):
        if existing["caller"] == caller:
            blocklist[index] = entry
            return
    blocklist.append(entry)


def unblock_caller(doc: dict, caller: str) -> bool:
    """Take a caller off the blocklist; False when it was not listed."""
    screening = screening_of(doc)
    kept = [e for e in screening["blocklist"] if e["caller"] != caller]
    removed = len(kept) != len(screening["blocklist"])
    screening["blocklist"] = kept
    return removed


def blocklist_rows(text: str) -> list[dict]:
    """A CSV of callers (caller[,action[,note]] per line; a header line starting `caller` is skipped)
    as blocklist entries; the tenant file checks each, naming the line's position."""
    import csv
    import io

    entries = []
    for row in csv.reader(io.StringIO(text)):
        cells = [c.strip() for c in row]
        if not cells or not cells[0] or cells[0].lower() in ("caller", "number", "番号"):
            continue
        action = (cells[1] if len(cells) > 1 and cells[1] else "announce").lower()
        entries.append({"caller": cells[0], "action": action, "note": cells[2] if len(cells) > 2 else ""})
    return entries
