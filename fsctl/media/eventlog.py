"""A tiny reader of raw inbound-ESL byte streams (plain and json), for the media handlers and tests.

Stop-gap until the fsctl.esl rewrite delivers typed events: the media handlers take a flat
`Mapping[str, str]` of event headers, which is what both encodings carry
(fixtures/freeswitch/esl/*.log.gz; format notes in fixtures/freeswitch/README.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import unquote


def _headers(block: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in block.decode("utf-8", "replace").split("\n"):
        key, sep, value = line.partition(": ")
        if sep:
            headers[key] = value
    return headers


def iter_events(stream: bytes) -> Iterator[dict[str, str]]:
    """Every event (text/event-plain or text/event-json) in a captured stream, headers decoded."""
    pos = 0
    while pos < len(stream):
        end = stream.find(b"\n\n", pos)
        if end < 0:
            return
        outer = _headers(stream[pos:end])
        length = int(outer.get("Content-Length", "0") or 0)
        body = stream[end + 2 : end + 2 + length]
        pos = end + 2 + length
        kind = outer.get("Content-Type", "")
        if kind == "text/event-plain":
            head, _, _rest = body.partition(b"\n\n")
            # Plain event values are url-encoded (`Event-Subclass: vm%3A%3Amaintenance`).
            yield {k: unquote(v) for k, v in _headers(head).items()}
        elif kind == "text/event-json":
            data = json.loads(body)
            yield {str(k): str(v) for k, v in data.items() if not isinstance(v, (dict, list))}
