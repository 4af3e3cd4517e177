"""Voicemail: configuration answer, directory, routing entry points, event index, e-mail."""

from __future__ import annotations

import datetime as dt
import gzip
import urllib.parse

import pytest
from lxml import etree
from smtp_sink import SmtpSink
from sqlalchemy import select

from fsctl import models
from fsctl.config import Settings
from fsctl.media import vm_mail
from fsctl.media.eventlog import iter_events
from fsctl.media.settings import MediaSettings, SmtpSettings
from fsctl.media.vm_config import ConfigurationResponder, render_voicemail_conf
from fsctl.media.vm_index import VoicemailEventHandler, list_messages
from fsctl.xmlcurl.app import ServiceApp
from fsctl.xmlcurl.store import LookupStore

LAB_USERS = [
    {"extension": "1001", "name": "Alice", "password": "Str0ng-1001-pass"},
    {
        "extension": "1002",
        "name": "Bob",
        "password": "Str0ng-1002-pass",
        "voicemail": {"enabled": True, "pin": "2580", "email": "bob@acme.example", "attach_audio": True},
    },
]


def lab_tenant(make_tenant, domain: str = "acme.example", users=LAB_USERS) -> str:
    """The lab's tenant of the captured traffic (acme.example, 1001 and 1002)."""
    return make_tenant(domain=domain, users=users, numbers=[], ring_groups=[], park=None)


def events(fixtures_dir, name: str) -> list[dict[str, str]]:
    return list(iter_events(gzip.open(fixtures_dir / "esl" / name).read()))


def form(body: str) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(body, keep_blank_values=True))


# -- configuration ----------------------------------------------------------------------------------
def test_voicemail_conf_answered_for_the_captured_lookup(fixtures_dir, settings):
    lines = (fixtures_dir / "xml_curl" / "configuration-startup-sequence.txt").read_text().splitlines()
    body = next(line for line in lines if "key_value=voicemail.conf" in line)
    responder = ConfigurationResponder(MediaSettings(voicemail_root="/srv/vm"))
    document, _ = responder.answer(form(body))
    root = etree.fromstring(document)
    assert root.get("type") == "freeswitch/xml"
    conf = root.find("section[@name='configuration']/configuration[@name='voicemail.conf']")
    params = {p.get("name"): p.get("value") for p in conf.find("profiles/profile[@name='default']")}
    assert params["storage-dir"] == "/srv/vm"  # -> /srv/vm/<domain>/<ext>: per tenant
    assert params["allow-empty-password-auth"] == "false"
    # change-password is unreachable from the phone: the PIN stays kumo's
    assert params["change-pass-key"] == params["record-greeting-key"]
    assert params["login-keys"] == "0"
    other = next(line for line in lines if "key_value=sofia.conf" in line)
    assert responder.answer(form(other))[0] is None


def test_service_app_delegates_configuration(engine, settings: Settings):
    app = ServiceApp(settings, LookupStore(engine=engine))
    body = b"hostname=vm&section=configuration&tag_name=configuration&key_name=name&key_value=voicemail.conf"
    response = app.handle("POST", "/fs/xml", {}, body)
    assert b'name="voicemail.conf"' in response.body
    response = app.handle("POST", "/fs/xml", {}, body.replace(b"voicemail.conf", b"ivr.conf"))
    assert b'status="not found"' in response.body


def test_default_storage_when_no_root_is_set():
    params = etree.fromstring(render_voicemail_conf(MediaSettings())).findall(".//profile/param")
    assert "storage-dir" not in {p.get("name") for p in params}


# -- directory --------------------------------------------------------------------------------------
def test_mailboxes_are_per_tenant_and_the_switch_does_not_mail(make_tenant, engine, settings, fixtures_dir):
    lab_tenant(make_tenant)
    other = [
        {"extension": "1002", "name": "B2", "password": "Str0ng-1002-pass", "voicemail": {"pin": "9999"}}
    ]
    lab_tenant(make_tenant, domain="beta.example", users=other)
    app = ServiceApp(settings, LookupStore(engine=engine))
    body = (fixtures_dir / "xml_curl" / "directory-voicemail-lookup.txt").read_bytes()
    pins = {}
    for domain in ("acme.example", "beta.example"):
        document = app.handle("POST", "/fs/xml", {}, body.replace(b"acme.example", domain.encode())).body
        user = etree.fromstring(document).find(".//user[@id='1002']")
        params = {p.get("name"): p.get("value") for p in user.iter("param")}
        assert not {"vm-mailto", "vm-email-all-messages", "vm-attach-file"} & set(params)
        pins[domain] = params["vm-password"]
    assert pins == {"acme.example": "2580", "beta.example": "9999"}


# -- the event index -------------------------------------------------------------------------------
@pytest.mark.parametrize("stream", ["inbound-plain-voicemail.log.gz", "inbound-json-voicemail.log.gz"])
def test_leave_message_indexed_once_from_the_capture(make_tenant, session_factory, fixtures_dir, stream):
    lab_tenant(make_tenant)
    lab_tenant(make_tenant, domain="beta.example")
    sent: list[vm_mail.NewMessageMail] = []
    handler = VoicemailEventHandler(session_factory, MediaSettings(), sender=sent.append)
    captured = events(fixtures_dir, stream)
    for headers in captured + captured:  # a replay after a reconnect must not duplicate
        handler.handle(headers)
    with session_factory() as session:
        (message,) = list_messages(session, "acme.example")
        assert (message.mailbox, message.caller_number, message.caller_name) == ("1002", "1001", "Alice")
        assert message.duration_seconds == 4
        assert message.file_path.endswith("/acme.example/1002/msg_d0e80804-ccf0-44c5-8c2e-fabf77c5778f.wav")
        assert message.received_at.timestamp() == 1795611463
        assert message.folder == "new"  # mwi-update in the capture: 1 new
        assert message.emailed_at is not None
        assert list_messages(session, "beta.example") == []
    assert [m.to for m in sent] == ["bob@acme.example"]


def test_mwi_totals_mark_heard_messages_saved(make_tenant, session_factory, fixtures_dir):
    lab_tenant(make_tenant)
    handler = VoicemailEventHandler(session_factory, MediaSettings(), sender=lambda mail: None)
    leave = next(
        e
        for e in events(fixtures_dir, "inbound-plain-voicemail.log.gz")
        if e.get("VM-Action") == "leave-message"
    )
    # synthetic: a second, later message in the same box (same format, other file and time)
    later = dict(
        leave,
        **{
            "VM-File-Path": leave["VM-File-Path"].replace("msg_d0", "msg_e1"),
            "VM-Timestamp": str(int(leave["VM-Timestamp"]) + 60),
        },
    )
    handler.handle(leave)
    handler.handle(later)
    mwi = next(
        e
        for e in events(fixtures_dir, "inbound-plain-voicemail.log.gz")
        if e.get("VM-Action") == "mwi-update"
    )
    handler.handle(dict(mwi, **{"VM-Total-New": "1", "VM-Total-Saved": "1"}))  # synthetic totals
    with session_factory() as session:
        folders = [
            (m.file_path.rsplit("/", 1)[1][:6], m.folder)
            for m in list_messages(session, "acme.example", "1002")
        ]
    assert folders == [("msg_e1", "new"), ("msg_d0", "saved")]


def test_unknown_domain_is_not_indexed(make_tenant, session_factory, fixtures_dir):
    lab_tenant(make_tenant, domain="beta.example")
    handler = VoicemailEventHandler(session_factory, MediaSettings(), sender=lambda mail: None)
    for headers in events(fixtures_dir, "inbound-json-voicemail.log.gz"):
        handler.handle(headers)
    with session_factory() as session:
        assert session.scalars(select(models.VoicemailMessage)).all() == []


# -- e-mail -----------------------------------------------------------------------------------------
def test_new_message_mailed_with_audio_through_a_local_smtp_server(
    make_tenant, session_factory, fixtures_dir, tmp_path
):
    lab_tenant(make_tenant)
    root = tmp_path / "vm"
    wav = root / "acme.example" / "1002" / "msg_d0e80804-ccf0-44c5-8c2e-fabf77c5778f.wav"
    wav.parent.mkdir(parents=True)
    wav.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(28))
    leave = next(
        e
        for e in events(fixtures_dir, "inbound-plain-voicemail.log.gz")
        if e.get("VM-Action") == "leave-message"
    )
    leave["VM-File-Path"] = str(wav)  # synthetic: the capture's path rewritten to this test's storage
    with SmtpSink() as sink:
        smtp = SmtpSettings(host="127.0.0.1", port=sink.port, sender="voicemail@kumo.test")
        handler = VoicemailEventHandler(session_factory, MediaSettings(voicemail_root=str(root), smtp=smtp))
        handler.handle(leave)
    (message,) = sink.messages
    assert message["To"] == "bob@acme.example"
    assert "1001" in message["Subject"] and "1002" in message["Subject"]
    body = message.get_body(("plain",)).get_content()
    assert "留守番電話" in body and "New voicemail" in body and "Alice <1001>" in body
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "audio/wav"
    assert attachment.get_content() == wav.read_bytes()


def test_audio_outside_the_tenant_tree_is_never_attached(
    make_tenant, session_factory, fixtures_dir, tmp_path
):
    lab_tenant(make_tenant)
    lab_tenant(make_tenant, domain="beta.example")
    secret = tmp_path / "vm" / "beta.example" / "1002" / "msg_x.wav"
    secret.parent.mkdir(parents=True)
    secret.write_bytes(b"RIFF")
    leave = next(
        e
        for e in events(fixtures_dir, "inbound-plain-voicemail.log.gz")
        if e.get("VM-Action") == "leave-message"
    )
    leave["VM-File-Path"] = str(
        tmp_path / "vm" / "acme.example" / ".." / "beta.example" / "1002" / "msg_x.wav"
    )
    sent: list[vm_mail.NewMessageMail] = []
    handler = VoicemailEventHandler(
        session_factory, MediaSettings(voicemail_root=str(tmp_path / "vm")), sender=sent.append
    )
    handler.handle(leave)
    assert sent[0].audio is None


def _mod_voicemail_login(params: dict[str, str], ext: str, domain: str, entered: str) -> bool:
    """VM_CHECK_AUTH of mod_voicemail.c (1.11), profile allow-empty-password-auth=false, no local prefs:
    a1-hash, replaced by vm-a1-hash when given, is compared as md5(id:domain:entered); vm-password as is."""
    import hashlib

    thehash = params.get("vm-a1-hash") or params.get("a1-hash")
    thepass = params.get("vm-password") or params.get("password")
    if thehash and hashlib.md5(f"{ext}:{domain}:{entered}".encode()).hexdigest() == thehash:
        return True
    return bool(thepass) and thepass == entered


def test_only_the_pin_opens_a_mailbox_and_no_pin_keeps_it_closed(make_tenant, engine, settings, fixtures_dir):
    users = [dict(LAB_USERS[1]), {"extension": "1003", "name": "C", "password": "1234567890**"}]
    lab_tenant(make_tenant, users=users)
    app = ServiceApp(settings, LookupStore(engine=engine))
    body = (fixtures_dir / "xml_curl" / "directory-voicemail-lookup.txt").read_bytes()

    def params(ext: str) -> dict[str, str]:
        document = app.handle("POST", "/fs/xml", {}, body.replace(b"user=1002", f"user={ext}".encode())).body
        return {p.get("name"): p.get("value") for p in etree.fromstring(document).iter("param")}

    bob = params("1002")
    assert _mod_voicemail_login(bob, "1002", "acme.example", "2580")
    assert not _mod_voicemail_login(bob, "1002", "acme.example", "Str0ng-1002-pass")  # the SIP password
    assert not _mod_voicemail_login(bob, "1002", "acme.example", "")
    carol = params("1003")  # no PIN: closed even to her keypad-typable SIP password
    assert _mod_voicemail_login({"a1-hash": carol["a1-hash"]}, "1003", "acme.example", "1234567890**")
    assert not _mod_voicemail_login(carol, "1003", "acme.example", "1234567890**")
    assert not _mod_voicemail_login(carol, "1003", "acme.example", "")


@pytest.mark.parametrize(
    "stream", ["inbound-plain-voicemail_access.log.gz", "inbound-json-voicemail_access.log.gz"]
)
def test_mailbox_login_events_index_nothing(make_tenant, session_factory, fixtures_dir, stream):
    lab_tenant(make_tenant)
    captured = events(fixtures_dir, stream)
    actions = [e.get("VM-Action") for e in captured if e.get("Event-Subclass") == "vm::maintenance"]
    assert actions == ["authentication", "folder-summary"]
    handler = VoicemailEventHandler(session_factory, MediaSettings(), sender=lambda mail: None)
    for headers in captured:
        handler.handle(headers)
    with session_factory() as session:
        assert list_messages(session, "acme.example") == []


def _left_while_smtp_was_down(make_tenant, session_factory, fixtures_dir) -> dt.datetime:
    """The captured message indexed while its e-mail failed; when it was received."""
    lab_tenant(make_tenant)
    leave = next(
        e
        for e in events(fixtures_dir, "inbound-plain-voicemail.log.gz")
        if e.get("VM-Action") == "leave-message"
    )

    def smtp_down(mail):
        raise ConnectionRefusedError("SMTP down")

    VoicemailEventHandler(session_factory, MediaSettings(), sender=smtp_down).handle(leave)
    with session_factory() as session:
        (message,) = list_messages(session, "acme.example")
        assert message.emailed_at is None
    return message.received_at.replace(tzinfo=message.received_at.tzinfo or dt.UTC)


def test_mail_that_failed_is_sent_later(make_tenant, session_factory, fixtures_dir):
    received = _left_while_smtp_was_down(make_tenant, session_factory, fixtures_dir)
    sent: list[vm_mail.NewMessageMail] = []
    later = VoicemailEventHandler(session_factory, MediaSettings(), sender=sent.append)
    assert later.mail_pending(received + dt.timedelta(minutes=5)) == 1
    assert later.mail_pending(received + dt.timedelta(minutes=6)) == 0  # not twice
    assert later.mail_pending(received + dt.timedelta(days=2)) == 0
    assert [m.to for m in sent] == ["bob@acme.example"]


def test_the_periodic_retry_leaves_a_message_whose_first_mail_may_still_be_going(
    make_tenant, session_factory, fixtures_dir
):
    """The service retries with `settle` (fsctl.mail_retry): a message indexed moments ago is its
    first mail's, not the retry's, so it is never mailed twice."""
    received = _left_while_smtp_was_down(make_tenant, session_factory, fixtures_dir)
    sent: list[vm_mail.NewMessageMail] = []
    later = VoicemailEventHandler(session_factory, MediaSettings(), sender=sent.append)
    settle = dt.timedelta(minutes=2)
    assert later.mail_pending(received + dt.timedelta(seconds=90), settle=settle) == 0
    assert later.mail_pending(received + dt.timedelta(minutes=3), settle=settle) == 1
    assert [m.to for m in sent] == ["bob@acme.example"]
