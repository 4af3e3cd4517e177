"""The media handlers behind the ESL dispatcher, fed the captured voicemail stream as typed events."""

from __future__ import annotations

import gzip

from sqlalchemy import select

from fsctl import models
from fsctl.esl.dispatch import Dispatcher
from fsctl.esl.events import make_event
from fsctl.esl.wiring import build_dispatcher
from fsctl.media.esl_handlers import RecordingEvents, VoicemailEvents, media_handlers
from fsctl.media.eventlog import iter_events
from fsctl.media.settings import MediaSettings


def test_dispatcher_delivers_voicemail_events(make_tenant, engine, fixtures_dir):
    make_tenant(
        domain="acme.example",
        users=[{"extension": "1002", "name": "Bob", "password": "Str0ng-1002-pass"}],
        numbers=[],
        ring_groups=[],
        park=None,
    )
    dispatcher = Dispatcher(media_handlers(engine, MediaSettings()))
    assert {"vm::maintenance", "RECORD_STOP"} <= dispatcher.subscribed
    dispatcher.start()
    stream = gzip.open(fixtures_dir / "esl" / "inbound-json-voicemail.log.gz").read()
    for headers in iter_events(stream):
        dispatcher.submit(make_event(headers))
    assert dispatcher.drain(timeout=10)
    with engine.connect() as conn:
        assert conn.execute(
            select(models.VoicemailMessage.mailbox, models.VoicemailMessage.folder)
        ).all() == [("1002", "new")]
    dispatcher.stop()


def test_the_service_dispatcher_includes_the_media_handlers(engine):
    kinds = {type(h) for h in build_dispatcher(engine).handlers}
    assert {VoicemailEvents, RecordingEvents} <= kinds


def test_the_switch_is_asked_for_the_media_events(engine):
    from fsctl.esl.inbound import subscription_command

    command = subscription_command(build_dispatcher(engine))
    assert "RECORD_STOP" in command.split() and "vm::maintenance" in command.split("CUSTOM", 1)[1].split()
