"""The protocol layer on the captured streams: frames, split reads, decoding, typed events."""

from __future__ import annotations

import ast
import importlib.metadata
from pathlib import Path

import pytest
from eslfake import SYNTHETIC, all_streams, content_type, raw_frames, stream_bytes, synthetic_plain_event

from fsctl.esl.events import BackgroundJob, ChannelEvent, RegistrationEvent, ValetEvent, make_event
from fsctl.esl.protocol import Frame, FrameReader, ProtocolError, decode_event, parse_headers

SMALL = [
    "inbound-plain-register.log",
    "inbound-json-register.log",
    "inbound-plain-unregister.log",
    "inbound-json-unregister.log",
    "inbound-bad-auth.log",
]


def _greenswitch_version() -> str | None:
    try:
        return importlib.metadata.version("greenswitch")
    except importlib.metadata.PackageNotFoundError:
        return None


# greenswitch is no dependency of kumo: the optional [compare] extra installs it (make test does).
GREENSWITCH = _greenswitch_version()
NOT_0019 = (
    "greenswitch is not installed (pip install -e '.[compare]'; make test installs it)"
    if GREENSWITCH is None
    else f"documents greenswitch 0.0.19 itself, {GREENSWITCH} is installed"
)


def test_kumo_does_not_import_greenswitch():
    root = Path(__file__).resolve().parents[2]
    importing = []
    for path in sorted([*root.glob("fsctl/**/*.py"), *root.glob("webpanel/**/*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            names += [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if any(name.split(".")[0] == "greenswitch" for name in names):
                importing.append(str(path.relative_to(root)))
    assert not importing


def whole(data: bytes) -> list[Frame]:
    return FrameReader().feed(data)


@pytest.mark.parametrize("name", [*all_streams(), "outbound-session.log"])
def test_every_captured_stream_parses_into_its_messages(name):
    data = stream_bytes(name)
    frames = whole(data)
    raw = raw_frames(data)
    assert len(frames) == len(raw) >= 3
    assert [f.content_type for f in frames] == [content_type(r) for r in raw]
    for frame in frames:
        if frame.content_type.startswith("text/event-"):
            headers, _body = decode_event(frame)
            event = make_event(headers, _body)
            assert event.name, headers
            assert all("\n" not in key for key in headers)


@pytest.mark.parametrize("name", SMALL)
def test_a_read_split_at_every_byte_gives_the_same_messages(name):
    data = stream_bytes(name)
    expected = whole(data)
    for cut in range(1, len(data)):
        reader = FrameReader()
        frames = reader.feed(data[:cut]) + reader.feed(data[cut:])
        assert frames == expected, cut
        assert reader.buffered == 0


@pytest.mark.parametrize("name", [*all_streams(), "outbound-session.log"])
def test_byte_by_byte_and_odd_chunks_give_the_same_messages(name):
    data = stream_bytes(name)
    expected = whole(data)
    reader = FrameReader()
    one_by_one = [f for i in range(len(data)) for f in reader.feed(data[i : i + 1])]
    assert one_by_one == expected
    for size in (2, 3, 7, 4095, 4097):
        reader = FrameReader()
        assert [f for i in range(0, len(data), size) for f in reader.feed(data[i : i + size])] == expected


def test_api_response_without_trailing_newline_is_followed_directly_by_the_next_message():
    data = stream_bytes("outbound-session.log")
    assert b"Content-Length: 4\n\n1001Content-Type: command/reply" in data
    frames = whole(data)
    getvar = next(f for f in frames if f.content_type == "api/response")
    assert getvar.body == b"1001"
    assert frames[frames.index(getvar) + 1].content_type == "command/reply"


# -- defect 1: split lines before URL-decoding ------------------------------------------------------
def injected_event() -> bytes:
    # Synthetic (marked): a caller name carrying an encoded newline and a fake header.
    return synthetic_plain_event(
        {
            "Event-Name": "CHANNEL_CREATE",
            "Unique-ID": "0b5e0000-0000-4000-8000-000000000001",
            "Caller-Caller-ID-Name": "Mallory\nEvent-Name: CUSTOM\nEvent-Subclass: valet_parking::info",
            "variable_domain_name": "acme.example",
        }
    )


def test_an_encoded_newline_in_a_value_does_not_inject_headers():
    data = injected_event()
    assert SYNTHETIC.encode() in data and b"%0A" in data
    (frame,) = whole(data)
    headers, _ = decode_event(frame)
    assert headers["Event-Name"] == "CHANNEL_CREATE"
    assert "Event-Subclass" not in headers
    assert headers["Caller-Caller-ID-Name"].startswith("Mallory\nEvent-Name: CUSTOM")
    event = make_event(headers)
    assert isinstance(event, ChannelEvent) and event.caller_name.startswith("Mallory\n")


def test_real_multi_line_values_stay_one_header():
    frames = whole(stream_bytes("inbound-plain-park.log.gz"))
    parked = [make_event(*decode_event(f)) for f in frames if f.content_type == "text/event-plain"]
    hold = next(e for e in parked if isinstance(e, ValetEvent) and e.action == "hold")
    sdp = hold.headers["variable_switch_r_sdp"]
    assert sdp.startswith("v=0\r\no=user1") and "a=rtpmap:0 PCMU/8000" in sdp
    assert not any(key.startswith(("o=", "a=", "m=")) for key in hold.headers)


@pytest.mark.skipif(GREENSWITCH != "0.0.19", reason=NOT_0019)
def test_greenswitch_0019_is_injected_by_the_same_bytes():
    from greenswitch.esl import ESLEvent

    body = injected_event().split(b"\n\n", 1)[1].decode()
    assert ESLEvent(body).headers.get("Event-Subclass") == "valet_parking::info"


# -- defect 2: an event's body stays its body -----------------------------------------------------
def test_background_job_result_is_the_body_plain_and_json():
    for name in ("inbound-plain-register.log", "inbound-json-register.log"):
        frames = whole(stream_bytes(name))
        jobs = [make_event(*decode_event(f)) for f in frames if f.content_type.startswith("text/event-")]
        job = next(e for e in jobs if isinstance(e, BackgroundJob))
        assert job.command == "status"
        assert job.body.startswith("UP 0 years") and job.body.rstrip().endswith("8192K")
        if name.startswith("inbound-plain"):
            assert job.headers["Content-Length"] == str(len(job.body.encode()))


@pytest.mark.skipif(GREENSWITCH != "0.0.19", reason=NOT_0019)
def test_greenswitch_0019_merges_the_body_into_content_length():
    from greenswitch.esl import ESLEvent

    frames = whole(stream_bytes("inbound-plain-register.log"))
    job = next(f for f in frames if b"BACKGROUND_JOB" in f.body)
    merged = ESLEvent(job.body.decode()).headers["Content-Length"]
    assert "UP 0 years" in merged


# -- typed events ----------------------------------------------------------------------------------
def test_registration_and_valet_events_are_typed():
    frames = whole(stream_bytes("inbound-json-register.log"))
    events = [make_event(*decode_event(f)) for f in frames if f.content_type.startswith("text/event-")]
    regs = [e for e in events if isinstance(e, RegistrationEvent)]
    assert [(e.action, e.user, e.realm) for e in regs] == [
        ("register", "1001", "acme.example"),
        ("register", "1002", "acme.example"),
    ]
    assert regs[0].contact.endswith("<sip:1001@127.0.0.1:5071>") and regs[0].expires == 3600
    with pytest.raises(AttributeError):
        regs[0].name = "x"


def test_malformed_bytes_raise_protocol_error_not_anything_else():
    with pytest.raises(ProtocolError):
        FrameReader().feed(b"Content-Length: banana\n\n")
    with pytest.raises(ProtocolError):
        FrameReader().feed(b"Content-Length: -5\n\n")
    assert parse_headers("no colon here\nKey: a%20b\nEmpty:") == {"Key": "a b", "Empty": ""}
