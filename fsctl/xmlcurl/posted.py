"""The fields of a mod_xml_curl lookup that kumo reads, per section: the one list, and the switch's
bindings generated from it (`python -m fsctl.xmlcurl.posted` rewrites
freeswitch/autoload_configs/xml_curl.conf.xml).

Without `enable-post-var` the switch posts every header of the lookup's event: a dialplan lookup
~200 channel variables (3-7 KB), a directory one ~40 fields (1.2 KB), which it URL-encodes and kumo
receives, only to read a dozen. With `enable-post-var` params on a binding it posts only the headers
named there (src/mod/xml_int/mod_xml_curl/mod_xml_curl.c: do_config fills the binding's vars_map,
xml_url_fetch hands it to switch_event_build_param_string, which skips every other header; the
names are matched case-sensitively, switch_core_hash_init). hostname, section, tag_name, key_name
and key_value are posted regardless (xml_url_fetch's basic_data).

A field missing here is a field the switch no longer sends: the feature reading it would silently
see nothing. tests/test_posted_fields.py follows the form through every function it is handed to
and fails on a field read that is not listed; kumo itself answers as if an unlisted field were absent
(fsctl.xmlcurl.app.lookup_form) and logs it as an error.
"""

from __future__ import annotations

import logging
import re
import sys
from pathlib import Path
from urllib.parse import unquote_plus

from fsctl.routing.transfer import TRANSFER_TENANT_VAR

log = logging.getLogger(__name__)

# Posted on every lookup whatever the binding lists (mod_xml_curl.c, xml_url_fetch: basic_data).
ALWAYS_POSTED = ("hostname", "section", "tag_name", "key_name", "key_value")

DIRECTORY_FIELDS = (
    # sofia's per-domain gateways lookup and acl.conf's network-list (customer gateways' ACL):
    # fsctl.xmlcurl.directory, fsctl.gateways.directory.
    "purpose",
    # The user asked for, and in which domain (key_value is the domain too, but not every lookup
    # that names a user names its domain there): REGISTER/INVITE/SUBSCRIBE digests, user_call
    # (bridging to user/...), voicemail's and message-count's user lookups, user_data, user_exists.
    "domain",
    "user",
    # id, or number-alias when the switch retries an unknown user (not served).
    "key",
    # sip_auth (a digest) carries the source address: a banned source is refused (fsctl.security.bans).
    "action",
    "ip",
    # A REGISTER or SUBSCRIBE must address the domain it authenticated in (its To host).
    "sip_auth_method",
    "sip_to_host",
)

DIALPLAN_FIELDS = (
    # Where the call is routed and what was dialled: the current hunt, else the caller profile's.
    "Hunt-Context",
    "Caller-Context",
    "Hunt-Destination-Number",
    "Caller-Destination-Number",
    # The calling number: carrier and customer-gateway calls, continuations, a transferred carrier leg.
    "Caller-Caller-ID-Number",
    # Whether a carrier call presents its number (fsctl.routing.screening.presentation).
    "Caller-Caller-ID-Name",
    "Caller-Privacy-Hide-Number",
    "variable_sip_from_display",
    "variable_sip_from_user",
    # Who calls from a phone: the directory user the switch authenticated, and its domain.
    "variable_user_name",
    "variable_sip_auth_username",
    "variable_domain_name",
    # A second hunt (after a ring timeout, an IVR choice, a park slot's return): what was visited.
    "variable_kumo_continuation",
    # A customer gateway's call: the gateway its directory entry authenticated.
    "variable_kumo_gateway_id",
    # Blind transfers (SIP REFER): the transfer itself, who refers, to where, and who is moved.
    "variable_transfer_history",
    "variable_sip_h_Referred-By",
    "variable_sip_refer_to",
    "variable_dialed_user",
    "variable_dialed_domain",
    f"variable_{TRANSFER_TENANT_VAR}",
)

CONFIGURATION_FIELDS = (
    # mod_callcenter asks for one queue's part of callcenter.conf by name (fsctl.queues.switch);
    # voicemail.conf and callcenter.conf themselves are told apart by key_value.
    "CC-Queue",
)

POSTED = {
    "directory": DIRECTORY_FIELDS,
    "dialplan": DIALPLAN_FIELDS,
    "configuration": CONFIGURATION_FIELDS,
}

# What kumo may read of a lookup of each section (anything else is treated as absent).
READABLE = {section: frozenset(ALWAYS_POSTED + fields) for section, fields in POSTED.items()}
READABLE_OTHER = frozenset(ALWAYS_POSTED)

_reported: set[tuple[str, str]] = set()


def unposted_read(section: str, key: str) -> None:
    """A lookup handler asked for a field the switch does not post: logged once per field and process."""
    if (section, key) in _reported:
        return
    _reported.add((section, key))
    log.error(
        "xml_curl %s lookup: field %r is read but the switch does not post it; list it in "
        "fsctl.xmlcurl.posted and run `python -m fsctl.xmlcurl.posted`",
        section[:40],
        key[:80],
    )


def as_posted(body: bytes) -> bytes:
    """A lookup body as the switch posts it with these lists: the fields always posted and the
    section's, in the body's order (for replaying captures of a switch that posted everything)."""
    pairs = body.split(b"&")
    section = next((p[8:].decode() for p in pairs if p.startswith(b"section=")), "")
    readable = READABLE.get(section, READABLE_OTHER)
    return b"&".join(p for p in pairs if unquote_plus(p.split(b"=", 1)[0].decode()) in readable)


# -- xml_curl.conf.xml ------------------------------------------------------------------------------

CONF_PATH = Path("freeswitch") / "autoload_configs" / "xml_curl.conf.xml"
INSTANCES = ("1", "2")
_GENERATED = (
    "<!-- generated from fsctl/xmlcurl/posted.py (python -m fsctl.xmlcurl.posted): edit the lists there -->"
)
_BINDINGS = re.compile(r"(?s)(\n( *)<bindings>\n).*?(\n *</bindings>)")


def bindings_xml(indent: str = "    ") -> str:
    """The <bindings> element's content: per section, kumo instance 1 then 2, each posting its list.

    Bindings are asked in file order among those bound to the lookup's section (switch_xml.c,
    switch_xml_locate; switch_xml_bind_search_function_ret appends), so each section keeps the
    failover from instance 1 to instance 2.
    """
    inner = indent + "  "
    lines = [inner + _GENERATED]
    for section, fields in POSTED.items():
        for instance in INSTANCES:
            lines.append(f'{inner}<binding name="kumo-{instance}-{section}">')
            params = [
                f'<param name="gateway-url" value="$${{kumo_xml_url_{instance}}}" bindings="{section}"/>',
                '<param name="gateway-credentials" value="$${kumo_http_credentials}"/>',
                '<param name="auth-scheme" value="basic"/>',
                '<param name="timeout" value="$${kumo_xml_timeout}"/>',
                '<param name="disable-100-continue" value="true"/>',
            ]
            params += [f'<param name="enable-post-var" value="{field}"/>' for field in fields]
            lines += [inner + "  " + param for param in params]
            lines.append(f"{inner}</binding>")
    return "\n".join(lines)


def with_generated_bindings(conf_text: str) -> str:
    """xml_curl.conf.xml's text with its <bindings> content replaced by bindings_xml()."""
    match = _BINDINGS.search(conf_text)
    if match is None:
        raise ValueError("no <bindings> ... </bindings> block found")
    return conf_text[: match.end(1)] + bindings_xml(match.group(2)) + conf_text[match.start(3) :]


def main(argv: list[str]) -> int:
    """Rewrite the bindings of xml_curl.conf.xml (default: the repository's) from the lists."""
    path = Path(argv[0]) if argv else Path(__file__).resolve().parents[2] / CONF_PATH
    text = path.read_text(encoding="utf-8")
    updated = with_generated_bindings(text)
    if updated != text:
        path.write_text(updated, encoding="utf-8")
        print(f"{path}: bindings rewritten")
    else:
        print(f"{path}: up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
