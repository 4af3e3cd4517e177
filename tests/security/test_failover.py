"""Fail closed, and fail over: the shipped xml_curl bindings with one kumo instance down.

The switch's side is modelled from src/switch_xml.c (switch_xml_locate): bindings are asked in the order
written; a binding that fails (connection refused, timeout, non-200, unparsable XML) or answers the
"not found" document is skipped; when none answers, the static XML is searched (deny-all, see
test_freeswitch_config.py). The kumo side is a real `fsctl serve` process.
"""

from __future__ import annotations

import base64
import socket
from urllib.parse import urlsplit

from lxml import etree
from test_directory import captured
from test_freeswitch_config import FS_DIR, SAMPLE_ENV, Preprocessed, _config, _params
from test_service import free_port, http, post, running_service, split_response

from fsctl.xmlcurl.posted import as_posted


def shipped_bindings() -> list[dict[str, str]]:
    """The xml_curl bindings of the assembled shipped configuration, in order."""
    document = Preprocessed(FS_DIR / "freeswitch.xml", SAMPLE_ENV)
    tree = etree.fromstring(document.text.encode())
    out = []
    for binding in _config(tree, "xml_curl.conf").findall("bindings/binding"):
        url = binding.find("param[@name='gateway-url']")
        out.append({**_params(binding), "sections": url.get("bindings"), "name": binding.get("name")})
    return out


def locate(
    bindings: list[dict[str, str]], ports: list[int], section: str, body: bytes
) -> tuple[str, bytes] | None:
    """switch_xml_locate's binding loop; each binding's URL keeps its path, on the given local port."""
    for binding, port in zip(bindings, ports, strict=True):
        if section not in binding["sections"].split("|"):
            continue
        path = urlsplit(binding["gateway-url"]).path
        token = base64.b64encode(binding["gateway-credentials"].encode()).decode()
        try:
            raw = http(port, post(path, body, {"Authorization": f"Basic {token}"}))
        except OSError:
            continue  # refused or timed out: "Error" logged, next binding
        status, _headers, document = split_response(raw)
        if status != 200:
            continue
        try:
            root = etree.fromstring(document)
        except etree.XMLSyntaxError:
            continue
        result = root.find("section[@name='result']/result")
        if result is not None and result.get("status", "").lower() == "not found":
            continue
        return binding["name"], document
    return None  # the static XML: an empty directory, reject-only contexts


def closed_port() -> int:
    """A local port with nothing listening (connection refused, like a stopped kumo)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_second_binding_serves_when_the_first_kumo_is_down(database_url, make_tenant):
    bindings = [b for b in shipped_bindings() if "directory" in b["sections"].split("|")]
    assert [b["name"] for b in bindings] == ["kumo-1-directory", "kumo-2-directory"]
    assert bindings[0]["gateway-url"] != bindings[1]["gateway-url"], "two instances, two URLs"
    assert bindings[0]["gateway-credentials"] == bindings[1]["gateway-credentials"]
    make_tenant()
    register = as_posted(captured("directory-sip_auth-register.txt"))
    with running_service(database_url, auth=bindings[1]["gateway-credentials"]) as (port, _process):
        down = closed_port()
        answer = locate(bindings, [down, port], "directory", register)
        assert answer is not None and answer[0] == "kumo-2-directory"
        assert b'<user id="101"' in answer[1]
        # Both up: the first binding answers and the second is not asked.
        assert locate(bindings, [port, free_port()], "directory", register)[0] == "kumo-1-directory"
        # An unknown user: kumo's "not found" sends the switch on to the next binding, then to its static
        # XML, whose directory is empty: the REGISTER is refused (fail closed).
        unknown = register.replace(b"&user=101&", b"&user=999&")
        assert locate(bindings, [down, port], "directory", unknown) is None
    # Both instances down: every lookup falls through to the deny-all static XML.
    assert locate(bindings, [closed_port(), closed_port()], "directory", register) is None
