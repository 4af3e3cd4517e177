"""The media handlers in the ESL dispatcher's shape (fsctl.esl.dispatch.Handler): typed events in,
the header-mapping handlers of fsctl.media out. Wired in fsctl.esl.wiring."""

from __future__ import annotations

from sqlalchemy import Engine

from fsctl.db import make_session_factory
from fsctl.esl.dispatch import Handler
from fsctl.esl.events import Event
from fsctl.media.recordings import RecordingEventHandler
from fsctl.media.settings import MediaSettings, media_settings_from_env
from fsctl.media.vm_index import VoicemailEventHandler


class VoicemailEvents(Handler):
    """CUSTOM vm::maintenance -> voicemail_messages (+ e-mail of new messages)."""

    events = ("vm::maintenance",)
    name = "voicemail"

    def __init__(self, inner: VoicemailEventHandler):
        self.inner = inner

    def handle(self, event: Event) -> None:
        self.inner.handle(event.headers)


class RecordingEvents(Handler):
    """RECORD_STOP of kumo's call recordings -> call_recordings."""

    events = ("RECORD_STOP",)
    name = "recordings"

    def __init__(self, inner: RecordingEventHandler):
        self.inner = inner

    def handle(self, event: Event) -> None:
        self.inner.handle(event.headers)


def media_handlers(engine: Engine, settings: MediaSettings | None = None) -> list[Handler]:
    """Voicemail and recording handlers on their own sessions of `engine`."""
    settings = settings or media_settings_from_env()
    factory = make_session_factory(engine)
    return [
        VoicemailEvents(VoicemailEventHandler(factory, settings)),
        RecordingEvents(RecordingEventHandler(factory, settings)),
    ]
