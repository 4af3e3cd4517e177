"""section=dialplan answers (placeholder until the routing work lands: always "not found")."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fsctl.config import Settings
from fsctl.xmlcurl.store import LookupStore


class DialplanResponder:
    def __init__(self, store: LookupStore, settings: Settings, clock: Callable[[], dt.datetime] | None = None):
        self.store = store
        self.settings = settings
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))

    def answer(self, fields: dict[str, str]) -> bytes | None:
        """The dialplan document for this call, or None for FreeSWITCH's "not found"."""
        return None
