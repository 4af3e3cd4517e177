"""The event socket wire format, parsed on bytes: frames, header blocks, event bodies.

Our own small protocol layer beside greenswitch (0.0.19), because its parser has defects found here:

1. greenswitch URL-decodes a whole header block before splitting it into lines, so an encoded
   newline (`%0A`) in a value (a caller name, a SIP header) becomes a line of its own: a fake header.
   Here lines are split first and each value is decoded alone.
2. greenswitch merges an event's own body (BACKGROUND_JOB results, api output inside events) into
   its `Content-Length` header. Here the inner `Content-Length` says how many bytes after the blank
   line are the body, and they stay the body.

A message on the socket is a header block (`Key: value` lines, then a blank line) and, when the block
has `Content-Length: N`, exactly N bytes after it (an api/response body may lack a trailing newline,
so the next header block follows directly). Reads may end anywhere: `FrameReader` keeps what it has
until a message is complete.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from json.decoder import scanstring
from urllib.parse import unquote

# Limits on what one peer may make us buffer: a corrupt length must not eat memory.
MAX_HEADER_BLOCK = 1 << 20
MAX_BODY = 64 << 20


class ProtocolError(ValueError):
    """Bytes that are not an event socket message (a corrupt length, an oversized header block)."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One message as it came off the socket: its outer headers and its body (bytes, maybe empty)."""

    headers: dict[str, str]
    body: bytes = b""

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")


def parse_headers(block: str) -> dict[str, str]:
    """`Key: value` lines -> dict; each value URL-decoded on its own, after the split (defect 1)."""
    # switch_event_serialize (src/switch_event.c) writes every header as "%s: %s\n" with the value
    # URL-encoded (switch_url_encode: ':', ' ', '\n', '%' and everything outside ' '..'~' become %XX),
    # so a value never holds ": " or a newline. When there is exactly one ": " per line, one
    # replace + split (in C) gives keys and values; anything else takes the line-by-line path.
    if block.count(": ") == block.count("\n") + 1:
        parts = block.replace(": ", "\n").split("\n")
        keys, values = parts[::2], parts[1::2]
    else:
        keys, values = _split_lines(block)
    if "%" in block:
        values = _unquote_values(values)
    return dict(zip(keys, values, strict=True))


def _split_lines(block: str) -> tuple[list[str], list[str]]:
    keys: list[str] = []
    values: list[str] = []
    for line in block.split("\n"):
        key, sep, value = line.partition(": ")
        if not sep:
            key, sep, value = line.partition(":")
            if not sep or not key:
                continue  # a stray line: ignored, never merged into another header
        keys.append(key)
        values.append(value)
    return keys, values


def _unquote_values(values: list[str]) -> list[str]:
    """URL-decode each value; done on all values joined by NUL in one C pass when that is safe."""
    # The switch's values are C strings (no NUL), so NUL can join them unless one holds the text
    # "%00", which would decode into a separator: then each value is decoded alone.
    joined = "\x00".join(values)
    if "%00" not in joined:
        try:
            # %XX -> \xXX for the unicode_escape codec (a backslash of the value doubled first):
            # it yields one char per byte (latin-1), re-read as UTF-8 below. A '%' not followed by
            # two hex digits (never from the switch) raises, and the slow path keeps it as it is.
            text = joined.replace("\\", "\\\\").replace("%", "\\x").encode("ascii").decode("unicode_escape")
        except UnicodeError:
            text = None
        if text is not None:
            if not text.isascii():
                text = text.encode("latin-1").decode("utf-8", errors="replace")
            decoded = text.split("\x00")
            if len(decoded) == len(values):
                return decoded
    return [unquote(v) if "%" in v else v for v in values]


def _decode(data: bytes | bytearray | memoryview) -> str:
    return bytes(data).decode("utf-8", errors="replace")


class FrameReader:
    """Incremental parser: `feed(chunk)` returns the messages completed by that chunk, in order.

    Reads split anywhere (inside a header name, between `\\n` and `\\n`, inside a body) give the
    same frames as one read of everything.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._scan = 0  # where to resume looking for the blank line
        self._pending: dict[str, str] | None = None  # headers of a message waiting for its body
        self._need = 0

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def feed(self, chunk: bytes) -> list[Frame]:
        buf = self._buf
        buf += chunk
        frames: list[Frame] = []
        pos = 0
        while True:
            if self._pending is not None:
                if len(buf) - pos < self._need:
                    break
                frames.append(Frame(self._pending, bytes(buf[pos : pos + self._need])))
                pos += self._need
                self._pending = None
                self._need = 0
                self._scan = pos
                continue
            # Blank lines between messages carry nothing.
            while pos < len(buf) and buf[pos] == 0x0A:
                pos += 1
            start = max(pos, self._scan - 1)
            end = buf.find(b"\n\n", start)
            if end < 0:
                if len(buf) - pos > MAX_HEADER_BLOCK:
                    raise ProtocolError("header block too large")
                self._scan = len(buf)
                break
            headers = parse_headers(_decode(buf[pos:end]))
            pos = end + 2
            self._scan = pos
            length = headers.get("Content-Length")
            if length is None:
                frames.append(Frame(headers))
                continue
            try:
                need = int(length)
            except ValueError as exc:
                raise ProtocolError(f"bad Content-Length {length!r}") from exc
            if need < 0 or need > MAX_BODY:
                raise ProtocolError(f"bad Content-Length {need}")
            self._pending, self._need = headers, need
        if pos:
            del buf[:pos]
            self._scan = max(0, self._scan - pos)
        return frames


# -- event bodies --------------------------------------------------------------------------------
def decode_plain_event(body: bytes) -> tuple[dict[str, str], str]:
    """A text/event-plain body -> (headers, the event's own body)."""
    text = _decode(body)
    block, sep, rest = text.partition("\n\n")
    headers = parse_headers(block)
    inner = ""
    if sep and "Content-Length" in headers:
        try:
            length = int(headers["Content-Length"])
        except ValueError:
            length = len(rest)
        # Content-Length counts bytes; slice on bytes so multi-byte text is cut right.
        raw = rest.encode("utf-8")
        inner = raw[: max(0, length)].decode("utf-8", errors="replace")
    return headers, inner


def _json_headers(data: object) -> dict[str, str]:
    """The parsed json event object as string headers (the `_body` key removed by the caller)."""
    if not isinstance(data, dict):
        raise ProtocolError("json event is not an object")
    # switch_event_serialize_json (src/switch_event.c) writes every header as a JSON string except
    # array headers (ARRAY::...), written as lists: the dict is the headers once those are joined
    # (the type test runs in C; a per-key loop in Python cost more than the json parse).
    types = set(map(type, data.values()))
    if types <= {str}:
        return data
    if types <= {str, list}:
        for key in [k for k, v in data.items() if type(v) is list]:
            data[key] = _array(data[key])
        return data
    headers: dict[str, str] = {}
    for key, value in data.items():
        if isinstance(value, str):
            headers[key] = value
        elif isinstance(value, list):
            headers[key] = _array(value)
        else:
            headers[key] = str(value)
    return headers


def _array(values: list) -> str:
    return "ARRAY::" + "|:".join(str(v) for v in values)


_MISSING = object()
_DECODER = json.JSONDecoder()
# Characters a key may hold for the search below (it is written in the JSON as is).
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_\-.:@/ ]+")


def _first_wins(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """A JSON object whose repeated keys keep their first value (json.loads keeps the last)."""
    out: dict[str, object] = {}
    for key, value in pairs:
        out.setdefault(key, value)
    return out


def _value_at(text: str, key: str) -> int:
    """Where the value of `key` starts in a flat, unformatted JSON object (the first one), or -1."""
    needle = f'"{key}":'
    pos = text.find(needle)
    while pos > 0 and text[pos - 1] not in "{,":
        pos = text.find(needle, pos + 1)
    return pos + len(needle) if pos > 0 else -1


def _last_value_at(text: str, key: str) -> int:
    """Where the value of `key` starts when it is the object's last member, else -1; looked up from
    the end, so an event without it costs no scan of its ~7 KB. switch_event_serialize_json_obj
    (src/switch_event.c) writes `Content-Length` and `_body` after every header, and only when the
    event has a body: the body is the last member or there is none."""
    if not text.endswith('"}'):
        return -1
    # The last value is a string: walk back to its opening quote (one not escaped).
    quote = len(text) - 2
    while True:
        quote = text.rfind('"', 0, quote)
        if quote <= 0:
            return -1
        slashes = 0
        while text[quote - 1 - slashes] == "\\":
            slashes += 1
        if slashes % 2 == 0:
            break
    member = f',"{key}":'
    return quote if text.startswith(member, quote - len(member)) else -1


class JsonHeaders(Mapping[str, str]):
    """The headers of a text/event-json event, each decoded when first asked for.

    A channel event is ~7 KB of JSON with ~200 headers, and the handlers read a dozen of them:
    parsing all of it cost ~37 us an event, more than applying it (bench.esl). The switch writes
    the event with cJSON unformatted (`{"Name":"value",...}`, flat, every `"` inside a string
    escaped as `\\"`), so `"Name":` right after `{` or `,` can only be that key; its value is then
    read by the json module's own string scanner. A header the switch added twice (the captures
    repeat Hangup-Cause and Channel-Write-Codec-* in some channel events, with equal values) reads
    as its first value, as the switch itself reads it (switch_event_get_header returns the first
    match), and the search stops there instead of scanning the whole event. Anything unexpected (a non-string, non-array value, a
    key with other characters, formatted JSON) falls back to parsing everything, as does iterating
    over the headers.
    """

    __slots__ = ("_text", "_all", "_seen")

    def __init__(self, text: str):
        self._text = text
        self._all: dict[str, str] | None = None
        self._seen: dict[str, object] = {}
        if not text.startswith('{"'):
            self._parse_all()

    def _parse_all(self) -> dict[str, str]:
        if self._all is None:
            data = json.loads(self._text, object_pairs_hook=_first_wins)
            if isinstance(data, dict):
                data.pop("_body", None)
            self._all = _json_headers(data)
        return self._all

    def _find(self, key: str) -> object:
        if key == "_body":  # the event's body, not a header
            return _MISSING
        text = self._text
        at = _value_at(text, key)
        if at < 0:
            return _MISSING
        first = text[at : at + 1]
        if first == '"':
            return scanstring(text, at + 1)[0]
        if first == "[":
            value = _DECODER.raw_decode(text, at)[0]
            if isinstance(value, list):
                return _array(value)
        return self._parse_all().get(key, _MISSING)

    def get(self, key: str, default=None):  # type: ignore[override]
        if self._all is not None:
            return self._all.get(key, default)
        found = self._seen.get(key, _MISSING)
        if found is _MISSING:
            if not _PLAIN_KEY.fullmatch(key):
                return self._parse_all().get(key, default)
            found = self._seen[key] = self._find(key)
        return default if found is _MISSING else found

    def __getitem__(self, key: str) -> str:
        value = self.get(key, _MISSING)
        if value is _MISSING:
            raise KeyError(key)
        return value  # type: ignore[return-value]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key, _MISSING) is not _MISSING

    def __iter__(self) -> Iterator[str]:
        return iter(self._parse_all())

    def __len__(self) -> int:
        return len(self._parse_all())

    def __repr__(self) -> str:
        return f"JsonHeaders({self._parse_all()!r})"


def decode_json_event(body: bytes) -> tuple[Mapping[str, str], str]:
    """A text/event-json body -> (headers, body); values are not URL-encoded, the body is `_body`.
    The headers are decoded on demand (JsonHeaders)."""
    text = _decode(body).strip()
    if not (text.startswith("{") and text.endswith("}")):
        raise ProtocolError("json event is not an object")
    headers = JsonHeaders(text)
    inner = ""
    at = _last_value_at(text, "_body")
    if at > 0:
        if text[at : at + 1] == '"':
            inner = scanstring(text, at + 1)[0]
        else:
            inner = str(_DECODER.raw_decode(text, at)[0])
    return headers, inner


def _plain_value(body: bytes, key: bytes, end: int) -> str | None:
    """The raw value of header `key` (b"Name: ") in the header block body[:end] of a plain event."""
    if body.startswith(key):
        start = len(key)
    else:
        found = body.find(b"\n" + key, 0, end)
        if found < 0:
            return None
        start = found + 1 + len(key)
    stop = body.find(b"\n", start)
    value = _decode(body[start : stop if stop >= 0 else len(body)])
    return unquote(value) if "%" in value else value


def _json_value(body: bytes, key: bytes) -> str | None:
    """The value of `key` (b'"Name":"') in a json event. The switch's JSON is flat and every quote
    inside a string is escaped, so an unescaped `"Name":"` can only be that key; a value holding an
    escape is left to the full decoder."""
    found = body.find(key)
    if found < 1 or body[found - 1] not in b"{,":
        return None
    start = found + len(key)
    stop = body.find(b'"', start)
    if stop < 0 or b"\\" in body[start:stop]:
        return None
    return _decode(body[start:stop])


def event_key(frame: Frame) -> str | None:
    """What handlers subscribe to (the Event-Name, or a CUSTOM event's Event-Subclass), read off the
    bytes without decoding the whole event; None when it cannot be told that way (decode it all)."""
    body = frame.body
    content_type = frame.content_type
    if content_type == "text/event-plain":
        end = body.find(b"\n\n")
        end = len(body) if end < 0 else end
        name = _plain_value(body, b"Event-Name: ", end)
        if name == "CUSTOM":
            return _plain_value(body, b"Event-Subclass: ", end)
        return name
    if content_type == "text/event-json":
        name = _json_value(body, b'"Event-Name":"')
        if name == "CUSTOM":
            return _json_value(body, b'"Event-Subclass":"')
        return name
    return None


def decode_event(frame: Frame) -> tuple[dict[str, str], str] | None:
    """(headers, body) of an event frame, or None when the frame is not an event we read."""
    content_type = frame.content_type
    if content_type == "text/event-plain":
        return decode_plain_event(frame.body)
    if content_type == "text/event-json":
        return decode_json_event(frame.body)
    return None


# -- what we send --------------------------------------------------------------------------------
def _clean(value: str) -> str:
    """A command argument that cannot end the command early or add a header line."""
    if "\n" in value or "\r" in value:
        raise ValueError("a command may not contain a line break")
    return value


def command_bytes(command: str) -> bytes:
    """One command (`api status`, `event plain ...`) terminated by the blank line."""
    return (_clean(command) + "\n\n").encode("utf-8")


def sendevent_bytes(name: str, headers: dict[str, str]) -> bytes:
    """A `sendevent` message: the switch fires event `name` with these headers (mod_event_socket)."""
    lines = [f"sendevent {_clean(name)}", *(f"{_clean(k)}: {_clean(v)}" for k, v in headers.items())]
    return ("\n".join(lines) + "\n\n").encode("utf-8")


def sendmsg_bytes(
    app: str,
    arg: str | None = None,
    *,
    uuid: str | None = None,
    event_uuid: str | None = None,
    event_lock: bool = False,
) -> bytes:
    """A `sendmsg` execute message; `event_uuid` is echoed as Application-UUID in its events."""
    lines = [
        f"sendmsg {_clean(uuid)}" if uuid else "sendmsg",
        "call-command: execute",
        f"execute-app-name: {_clean(app)}",
    ]
    if arg:
        lines.append(f"execute-app-arg: {_clean(arg)}")
    if event_lock:
        lines.append("event-lock: true")
    if event_uuid:
        lines.append(f"Event-UUID: {_clean(event_uuid)}")
    return ("\n".join(lines) + "\n\n").encode("utf-8")
