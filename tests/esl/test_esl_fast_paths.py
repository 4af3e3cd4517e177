"""The fast paths behind `make bench` give the same answers as the plain ones, on the captured bytes:
the header split, the one-pass URL decode, the event-name peek, and the batched live-state writes."""

from __future__ import annotations

import json
from urllib.parse import quote, unquote

import pytest
from eslfake import SYNTHETIC, all_streams, stream_bytes, synthetic_plain_event
from test_esl_state import tenants  # noqa: F401 - the fixture of the two captured tenants

from fsctl.esl.events import ChannelEvent, event_from_frame, make_event
from fsctl.esl.protocol import Frame, FrameReader, decode_event, decode_json_event, event_key, parse_headers
from fsctl.esl.state import CALL, PARK, REG, RING
from fsctl.esl.wiring import build_dispatcher


def reference_headers(block: str) -> dict[str, str]:
    """The obvious parser: line by line, each value decoded alone."""
    out = {}
    for line in block.split("\n"):
        key, sep, value = line.partition(": ")
        if sep:
            out[key] = unquote(value)
    return out


def event_frames(name: str) -> list[Frame]:
    return [f for f in FrameReader().feed(stream_bytes(name)) if f.content_type.startswith("text/event-")]


@pytest.mark.parametrize("name", [n for n in all_streams() if "-plain-" in n])
def test_the_header_fast_path_equals_line_by_line_decoding(name):
    frames = event_frames(name)
    assert frames
    for frame in frames:
        block = frame.body.decode().partition("\n\n")[0]
        assert parse_headers(block) == reference_headers(block)


def reference_json(body: bytes) -> dict[str, str]:
    data = json.loads(body)
    data.pop("_body", None)
    return {k: v if isinstance(v, str) else "ARRAY::" + "|:".join(v) for k, v in data.items()}


@pytest.mark.parametrize("name", [n for n in all_streams() if "-json-" in n])
def test_json_events_decode_to_string_headers(name):
    arrays = 0
    for frame in event_frames(name):
        headers, _ = decode_json_event(frame.body)
        assert headers == reference_json(frame.body)
        assert all(isinstance(v, str) for v in headers.values())
        arrays += any(v.startswith("ARRAY::") for v in headers.values())
    if name in ("inbound-json-bridge.log", "inbound-json-park.log"):
        assert arrays  # the real captures carry array headers: the conversion path is covered


@pytest.mark.parametrize(
    "encoded",
    [
        "Mallory%0AEvent-Name%3A%20CUSTOM",  # an encoded newline stays in its value
        "a%00b",  # decodes to a NUL: the joined one-pass decode would shift, so each value alone
        "100%",  # a '%' not followed by two hex digits (never from the switch): kept as is
        "50%2",
        "C%3A%5Cx41%5Cn%5Cu0041",  # backslash escapes are text, not escapes
        "C:\\x41",  # the same unencoded
        quote("山田 太郎", safe=""),  # UTF-8 caller name
        "%e5%b1%b1",  # lower-case hex
        "",
    ],
)
def test_odd_values_decode_like_unquote(encoded):
    block = f"Event-Name: CHANNEL_CREATE\nCaller-Caller-ID-Name: {encoded}\nX: y%20z"
    assert parse_headers(block) == reference_headers(block)
    assert parse_headers(block)["Caller-Caller-ID-Name"] == unquote(encoded)


def test_an_encoded_value_in_a_synthetic_event_frame():
    data = synthetic_plain_event({"Event-Name": "CHANNEL_CREATE", "Caller-Caller-ID-Name": "山田\n太郎"})
    assert SYNTHETIC.encode() in data
    (frame,) = FrameReader().feed(data)
    headers, _ = decode_event(frame)
    assert headers["Caller-Caller-ID-Name"] == "山田\n太郎" and event_key(frame) == "CHANNEL_CREATE"


@pytest.mark.parametrize("name", all_streams())
def test_the_peeked_event_key_is_the_decoded_events_key(name):
    for frame in event_frames(name):
        event = make_event(*decode_event(frame))
        assert event_key(frame) == event.key


def test_unwanted_events_are_dropped_before_decoding():
    frames = event_frames("inbound-json-bridge.log")
    states = [f for f in frames if event_key(f) == "CHANNEL_STATE"]
    assert states
    # Synthetic (marked): the same frame with its JSON cut short after the name. Decoding it would
    # fail, so getting None back shows it was never decoded.
    broken = Frame(states[0].headers, states[0].body[:60])
    assert event_from_frame(broken, lambda key: key != "CHANNEL_STATE") is None
    with pytest.raises(ValueError):
        event_from_frame(broken, lambda key: True)
    create = next(f for f in frames if event_key(f) == "CHANNEL_CREATE")
    event = event_from_frame(create, {"CHANNEL_CREATE"}.__contains__)
    assert isinstance(event, ChannelEvent) and event.name == "CHANNEL_CREATE"


def test_custom_events_are_wanted_by_their_subclass():
    frames = event_frames("inbound-plain-register.log")
    keys = {event_key(f) for f in frames}
    assert {"sofia::register", "sofia::pre_register"} <= keys and "CUSTOM" not in keys
    kept = [e for f in frames if (e := event_from_frame(f, {"sofia::register"}.__contains__))]
    assert kept and all(e.name == "sofia::register" for e in kept)


def table_rows(engine) -> dict[str, list[tuple]]:
    out = {}
    with engine.connect() as conn:
        for table in (CALL, RING, PARK, REG):
            rows = conn.execute(table.select()).all()
            out[table.name] = sorted(tuple(v for k, v in r._mapping.items() if k != "id") for r in rows)
    return out


@pytest.mark.parametrize("fmt", ["plain", "json"])
def test_one_batch_gives_the_same_tables_as_one_event_at_a_time(engine, tenants, fmt):  # noqa: F811
    names = ["bridge", "pickup", "park_refer", "transfer", "register_bad_password", "limit"]
    events = []
    for name in names:
        events += [make_event(*decode_event(f)) for f in event_frames(f"inbound-{fmt}-{name}.log")]
    dispatcher = build_dispatcher(engine)
    states = []
    for event in events:
        dispatcher.run_inline([event])
        states.append(table_rows(engine))
    assert any(s["live_calls"] for s in states) and any(s["ringing_calls"] for s in states)
    # Tables back to empty, then everything again in batches of 7 (cut anywhere in a call).
    with engine.begin() as conn:
        for table in (RING, CALL, PARK, REG):
            conn.execute(table.delete())
    for start in range(0, len(events), 7):
        dispatcher.run_inline(events[start : start + 7])
        stop = min(start + 7, len(events))
        assert table_rows(engine) == states[stop - 1], stop


@pytest.mark.parametrize("name", [n for n in all_streams() if "-json-" in n])
def test_each_json_header_read_on_demand_equals_the_full_parse(name):
    """JsonHeaders reads one header without parsing the event: every key of every captured event,
    asked alone of a fresh event (so nothing was parsed before), gives what json.loads gives, a
    duplicated key (the captures' two Hangup-Cause) giving its first value as the switch's
    switch_event_get_header does, and the body is `_body`."""
    bodies = duplicated = 0
    for frame in event_frames(name):
        data = json.loads(frame.body)
        first: dict = {}
        for key, value in json.loads(frame.body, object_pairs_hook=list):
            first.setdefault(key, value)
        first.pop("_body", None)
        expected = {k: v if isinstance(v, str) else "ARRAY::" + "|:".join(v) for k, v in first.items()}
        headers, body = decode_json_event(frame.body)
        assert body == data.get("_body", "")
        bodies += bool(body)
        for key, value in expected.items():
            alone, _ = decode_json_event(frame.body)
            assert alone.get(key) == value, key
            assert alone[key] == value and key in alone
        fresh, _ = decode_json_event(frame.body)
        assert fresh.get("_body") is None and fresh.get("No-Such-Header", "x") == "x"
        assert "No-Such-Header" not in fresh
        duplicated += frame.body.count(b'"Hangup-Cause":') > 1
    if name in ("inbound-json-lookups.log", "inbound-json-register.log"):
        assert bodies  # BACKGROUND_JOB / api events with a body are among them
    if name == "inbound-json-bridge.log":
        assert duplicated


def test_a_synthetic_json_event_with_escapes_and_a_body():
    """Quotes, backslashes and a key-like text inside values (synthetic; the switch escapes them)."""
    from eslfake import synthetic_json_event

    headers = {
        "Event-Name": "CUSTOM",
        "Event-Subclass": "kumo::test",
        "Caller-Caller-ID-Name": 'say \\"hi\\", "Unique-ID":"fake" \\',
        "Unique-ID": "real",
        "Content-Length": "9",
        "_body": 'a "b"\\\n c',
    }
    raw = synthetic_json_event(headers)
    frame = next(iter(FrameReader().feed(raw)))
    decoded, body = decode_json_event(frame.body)
    assert decoded["Unique-ID"] == "real"
    assert decoded["Caller-Caller-ID-Name"] == headers["Caller-Caller-ID-Name"]
    assert body == headers["_body"]
    assert dict(decoded) == {k: v for k, v in headers.items() if k != "_body"}


def test_a_header_repeated_with_another_value_reads_as_the_first_both_ways():
    """Synthetic: the switch can carry one header twice (switch_event_add_header appends); asked
    alone or after a full parse, it is the first value, as switch_event_get_header answers."""
    body = b'{"Event-Name":"CHANNEL_HANGUP_COMPLETE","Hangup-Cause":"NORMAL_CLEARING","Unique-ID":"u","Hangup-Cause":"USER_BUSY"}'
    alone, _ = decode_json_event(body)
    assert alone["Hangup-Cause"] == "NORMAL_CLEARING"
    parsed, _ = decode_json_event(body)
    assert dict(parsed)["Hangup-Cause"] == "NORMAL_CLEARING" and parsed["Hangup-Cause"] == "NORMAL_CLEARING"
