"""The lazy form decoder reads every captured body exactly as a standard form decoder does."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
from kumo_support import FIXTURES

from fsctl.xmlcurl.app import parse_form

BODIES = sorted(p.name for p in (FIXTURES / "xml_curl").glob("*.txt"))


@pytest.mark.parametrize("name", BODIES)
def test_matches_parse_qsl_on_captured_bodies(name):
    body = (FIXTURES / "xml_curl" / name).read_bytes()
    lines = body.splitlines() if name == "configuration-startup-sequence.txt" else [body]
    for line in lines:
        expected = dict(parse_qsl(line.decode(), keep_blank_values=True))
        assert dict(parse_form(line)) == expected
        lazy = parse_form(line)  # field by field, without the full parse
        assert {key: lazy[key] for key in expected} == expected
        assert lazy.get("no-such-field") is None and "no-such-field" not in lazy


def test_encoded_keys_values_and_utf8():
    fields = parse_form(b"a%20b=c+d&name=%E5%B1%B1%E7%94%B0&empty=&x=1&x=2&plus=%2B81")
    assert fields["a b"] == "c d" and fields["name"] == "山田" and fields["empty"] == ""
    assert fields["x"] == "2" and fields["plus"] == "+81" and fields.get("missing") is None
