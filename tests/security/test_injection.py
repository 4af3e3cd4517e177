"""Injection: hostile destinations and caller IDs through the dialplan endpoint (property-based).

Every captured dialplan body (xml_curl/dialplan-*.txt) is a template; the generated values are
URL-encoded into the fields a caller controls (the dialled number, caller ID number and name, the SIP
From user and display) and posted to ServiceApp.handle exactly as mod_xml_curl posts them. Whatever comes
in: the answer is a 200 with a parseable document, no bridge gains a leg from caller data, and no action
carries a `${...}`/`$${...}` expansion other than kumo's own.

Runtime: the "kumo-ci" profile runs 10,000 derandomized examples (about 20-40 s); set
KUMO_INJECTION_EXAMPLES to run fewer (or more) locally.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kumo_support import FIXTURES
from lxml import etree

from fsctl.xml.document import NOT_FOUND
from fsctl.xmlcurl.app import ServiceApp
from fsctl.xmlcurl.store import LookupStore

EXAMPLES = int(os.environ.get("KUMO_INJECTION_EXAMPLES", "10000"))
settings.register_profile(
    "kumo-ci",
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

TEMPLATES = sorted((FIXTURES / "xml_curl").glob("dialplan-*.txt"))
DOMAIN = "acme.kumo.test"
# Fields a caller (a phone, or the carrier for context public) controls.
CALLER_FIELDS = (
    "Caller-Caller-ID-Number",
    "Caller-Caller-ID-Name",
    "variable_sip_from_user",
    "variable_sip_from_display",
    "variable_sip_from_user_stripped",
)
DESTINATION_FIELDS = (
    "Caller-Destination-Number",
    "Hunt-Destination-Number",
    "variable_sip_req_user",
    "variable_sip_to_user",
)

HOSTILE_TOKENS = [
    ",",
    "|",
    "&",
    ":_:",
    "[",
    "]",
    "{",
    "}",
    "${",
    "$${",
    "}",
    "sofia/",
    "sofia/gateway/carrier/",
    "user/",
    "loopback/",
    "error/",
    "'",
    '"',
    "\n",
    "\r\n",
    "\t",
    "%",
    "%2C",
    "\\",
    ";",
    "=",
    "<",
    ">",
    "^",
    "(",
    ")",
    "${system(rm -rf /)}",
    "$${local_ip_v4}",
    "{absolute_codec_string=PCMU}",
    "[leg_timeout=1]",
    "@",
    "+",
    "*",
    "#",
    "\x00",
    "\x7f",
    "日本",
    "\u202e",
]
VALID = [
    "102",
    "101",
    "0312349999",
    "09012345678",
    "0312345678",
    "0120123456",
    "110",
    "119",
    "700",
    "*8",
    "**102",
    "*98",
    "0101441234567",
    "+14155550100",
    "184" + "0312349999",
    "0570000000",
]

pieces = st.one_of(
    st.sampled_from(HOSTILE_TOKENS),
    st.sampled_from(VALID),
    st.text(alphabet="0123456789+*#", max_size=12),
    st.text(max_size=6),
)
hostile = st.one_of(
    st.lists(pieces, min_size=1, max_size=10).map("".join),
    st.sampled_from(VALID).flatmap(lambda v: st.sampled_from(HOSTILE_TOKENS).map(lambda t: v + t + v)),
    st.builds(lambda t, n: t * n, st.sampled_from([*HOSTILE_TOKENS, "9"]), st.integers(100, 3000)),
)

# A bridge leg kumo may produce: an optional [per-leg vars] of kumo's own, then one endpoint.
_LEG = re.compile(
    r"^(\[[a-z_]+=[A-Za-z0-9_.+:@/-]*(,[a-z_]+=[A-Za-z0-9_.+:@/-]*)*\])?"
    r"(user/[0-9]{2,6}@[a-z0-9.-]+|sofia/gateway/[A-Za-z0-9_.-]+/\+?[0-9]{1,20}|pickup/[A-Za-z0-9_.@-]+"
    r"|loopback/[A-Za-z0-9_.*#+-]+(/[A-Za-z0-9_.-]+)?|error/[a-z_]+)$"
)
_OUR_EXPANSIONS = re.compile(
    r"\$\{(originate_disposition|kumo_ivr_digit|uuid|kumo_recordings_dir|kumo_record_path|kumo_audio_dir|sounds_dir"
    r"|hash\(select/[a-z0-9.-]{1,253}-last_dial_ext/[0-9]{2,6}\))\}"
)


LAB_USERS = {"1001": "101", "1002": "102"}  # the lab's users -> the test tenant's


def _template(path: Path) -> list[tuple[str, str]]:
    """The captured body as ordered (key, raw value) pairs, moved onto the test tenant."""
    pairs = []
    for part in path.read_bytes().decode().split("&"):
        key, _, value = part.partition("=")
        value = value.replace("acme.example", DOMAIN)
        if key in ("Hunt-Context", "Caller-Context") and value == "default":
            value = DOMAIN
        if key in ("variable_user_name", "variable_sip_auth_username", *DESTINATION_FIELDS):
            value = LAB_USERS.get(value, value)
        pairs.append((key, value))
    return pairs


TEMPLATE_PAIRS = [_template(p) for p in TEMPLATES]


def body_of(pairs: list[tuple[str, str]], destination: str | None, caller: str | None) -> bytes:
    out = []
    for key, value in pairs:
        if destination is not None and key in DESTINATION_FIELDS:
            value = quote(destination, safe="")
        elif caller is not None and key in CALLER_FIELDS:
            value = quote(caller, safe="")
        out.append(f"{key}={value}")
    return "&".join(out).encode()


def top_level_legs(data: str) -> list[str]:
    """Split bridge data on FreeSWITCH's leg separators (`,` `|` `:_:`) outside [] and {} blocks."""
    legs, depth, start, i = [], 0, 0, 0
    while i < len(data):
        char = data[i]
        if char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        elif depth == 0 and (char in ",|" or data.startswith(":_:", i)):
            legs.append(data[start:i])
            i += 3 if char == ":" else 1
            start = i
            continue
        i += 1
    legs.append(data[start:])
    return legs


def check_answer(document: bytes) -> None:
    root = etree.fromstring(document)
    if document == NOT_FOUND:
        return
    for action in root.iter("action", "anti-action"):
        data = action.get("data") or ""
        assert "$${" not in data, data
        assert not _OUR_EXPANSIONS.sub("", data).count("${"), data
        assert not re.search(r"[\x00-\x1f\x7f]", data), data
        if action.get("application") == "bridge":
            for leg in top_level_legs(data):
                assert _LEG.match(leg), f"unexpected bridge leg {leg!r} in {data!r}"


@pytest.fixture
def app(settings, engine, make_tenant):
    make_tenant(international_calls=True, allowed_prefixes=["0570"])
    store = LookupStore(engine=engine)
    yield ServiceApp(settings, store)
    store.reset()


def post(app: ServiceApp, body: bytes) -> bytes:
    response = app.handle("POST", "/fs/xml", {}, body)
    assert response.status == 200, response
    assert response.content_type.startswith("text/xml")
    return response.body


def test_the_templates_route_as_captured(app):
    """The rewritten captures are real calls of the test tenant (so the property below reaches routing)."""
    names = [p.name for p in TEMPLATES]
    bridge = post(app, body_of(TEMPLATE_PAIRS[names.index("dialplan-bridge-1002.txt")], None, None))
    assert b"user/102@acme.kumo.test" in bridge
    outbound = post(
        app, body_of(TEMPLATE_PAIRS[names.index("dialplan-bridge-1002.txt")], "09012345678", None)
    )
    assert b"sofia/gateway/carrier/+819012345678" in outbound
    for pairs in TEMPLATE_PAIRS:
        check_answer(post(app, body_of(pairs, None, None)))


@settings(settings.get_profile("kumo-ci"))
@given(
    template=st.integers(0, len(TEMPLATE_PAIRS) - 1),
    # A valid number a third of the time, so that hostile caller IDs reach bridges and caller-ID actions.
    destination=st.one_of(st.none(), st.sampled_from(VALID), hostile),
    caller=st.one_of(st.none(), hostile),
)
def test_hostile_destinations_and_caller_ids_never_inject(app, template, destination, caller):
    document = post(app, body_of(TEMPLATE_PAIRS[template], destination, caller))
    check_answer(document)
    if caller is not None:
        # Caller data never changes where a call goes: the same call with the captured caller ID bridges
        # exactly the same legs (0 extra legs, none altered).
        plain = post(app, body_of(TEMPLATE_PAIRS[template], destination, None))
        assert bridges(document) == bridges(plain)


def bridges(document: bytes) -> list[str]:
    root = etree.fromstring(document)
    return [a.get("data") or "" for a in root.iter("action") if a.get("application") == "bridge"]


@pytest.mark.parametrize(
    "data",
    [
        "user/102@acme.kumo.test,${system(id)}",
        "sofia/gateway/carrier/+81312345678|sofia/internal/sip:evil@198.51.100.1",
        "user/102@acme.kumo.test:_:loopback/1'2",
        "[origination_caller_id_name=a b]user/102@acme.kumo.test",
        "sofia/gateway/carrier/+8190$${local_ip_v4}",
    ],
)
def test_the_checker_catches_injected_legs_and_expansions(data):
    document = (
        '<document type="freeswitch/xml"><section name="dialplan"><context name="x"><extension name="y">'
        f'<condition field="destination_number" expression="^1$"><action application="bridge" data="{data}"/>'
        "</condition></extension></context></section></document>"
    ).encode()
    with pytest.raises(AssertionError):
        check_answer(document)
