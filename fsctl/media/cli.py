"""`fsctl prompts`, `fsctl recordings`, `fsctl audio`: the media commands (wired in fsctl.cli)."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable
from pathlib import Path

from fsctl.config import PROJECT_ROOT
from fsctl.media.settings import media_settings_from_env

SessionFactory = Callable[[argparse.Namespace], object]


def cmd_prompts_generate(args: argparse.Namespace) -> int:
    from fsctl.media.prompts import PromptError, generate

    root = Path(args.root or media_settings_from_env().sounds_root)
    try:
        made = generate(root, force=args.force, jobs=args.jobs)
    except PromptError as exc:
        print(f"prompts: {exc}", file=sys.stderr)
        return 1
    print(f"{made} prompts made under {root}")
    return 0


def cmd_prompts_lang_xml(args: argparse.Namespace) -> int:
    from fsctl.media.phrase_macros import LANG_REGION, render_language

    for lang in LANG_REGION:
        target = Path(args.directory) / lang / f"{lang}.xml"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(render_language(lang))
        print(target)
    return 0


def cmd_recordings_purge(args: argparse.Namespace) -> int:
    import datetime as dt

    from fsctl.db import session_scope
    from fsctl.media.recordings import purge

    with session_scope(args.session_factory(args)) as session:
        settings = media_settings_from_env()
        if args.recordings_dir:
            settings = dataclasses.replace(settings, recordings_root=args.recordings_dir)
        result = purge(session, settings, dt.datetime.now(dt.UTC), args.domain)
    print(f"purged {result.rows} recordings, {result.files} files")
    return 0


def cmd_recordings_retention(args: argparse.Namespace) -> int:
    from fsctl.db import session_scope
    from fsctl.media.recordings import set_retention

    try:
        with session_scope(args.session_factory(args)) as session:
            set_retention(session, args.domain, args.days)
    except (LookupError, ValueError) as exc:
        print(f"recordings: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_recordings_list(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from fsctl import models

    factory = args.session_factory(args)
    with factory() as session:
        rows = session.scalars(
            select(models.CallRecording)
            .join(models.Tenant)
            .where(models.Tenant.domain == args.domain.lower())
            .order_by(models.CallRecording.started_at.desc())
        ).all()
        for r in rows:
            print(
                f"{r.started_at:%Y-%m-%d %H:%M} {r.direction:8} {r.user_extension or '-':6} {r.caller} -> {r.callee}"
                f" {r.duration_seconds}s {r.file_size}B {r.file_path}"
            )
    return 0


def cmd_audio_upload(args: argparse.Namespace) -> int:
    from fsctl.db import session_scope
    from fsctl.media.audio import AudioError, store_upload

    try:
        with session_scope(args.session_factory(args)) as session:
            settings = media_settings_from_env()
            if args.audio_dir:
                settings = dataclasses.replace(settings, audio_root=args.audio_dir)
            stored = store_upload(session, settings, args.domain, Path(args.file), args.name)
    except (AudioError, OSError) as exc:
        print(f"audio: {exc}", file=sys.stderr)
        return 1
    print(f"{stored.name}: {stored.duration_ms / 1000:.1f} s; refer to it as {stored.name}.wav")
    return 0


def cmd_voicemail_list(args: argparse.Namespace) -> int:
    from fsctl.media.vm_index import list_messages

    with args.session_factory(args)() as session:
        for m in list_messages(session, args.domain, args.mailbox):
            print(
                f"{m.received_at:%Y-%m-%d %H:%M} {m.mailbox:6} {m.folder:5} {m.caller_number:16} {m.duration_seconds}s"
                f" {m.file_path}"
            )
    return 0


def cmd_voicemail_mail_pending(args: argparse.Namespace) -> int:
    import datetime as dt

    from fsctl.media.vm_index import VoicemailEventHandler

    handler = VoicemailEventHandler(args.session_factory(args), media_settings_from_env())
    sent = handler.mail_pending(dt.datetime.now(dt.UTC), dt.timedelta(hours=args.hours))
    print(f"{sent} voicemail e-mails sent")
    return 0


def add_media_commands(sub: argparse._SubParsersAction, session_factory: SessionFactory) -> None:
    """Register the media sub-commands; `session_factory(args)` opens the configured database."""
    prompts = sub.add_parser("prompts", help="default voicemail/menu prompts (Japanese and English)")
    prompts_sub = prompts.add_subparsers(dest="prompts_command", required=True)
    gen = prompts_sub.add_parser("generate", help="synthesise missing prompts (open-jtalk, espeak-ng, sox)")
    gen.add_argument("--root", help="sounds tree (default $FSCTL_SOUNDS_DIR or build/sounds)")
    gen.add_argument("--force", action="store_true", help="synthesise every prompt again")
    gen.add_argument("--jobs", type=int, default=4)
    gen.set_defaults(func=cmd_prompts_generate)
    lang = prompts_sub.add_parser(
        "lang-xml", help="write the phrase macros (freeswitch/lang/<lang>/<lang>.xml)"
    )
    lang.add_argument("directory", nargs="?", default=str(PROJECT_ROOT / "freeswitch" / "lang"))
    lang.set_defaults(func=cmd_prompts_lang_xml)

    recordings = sub.add_parser("recordings", help="call recordings (paid option per user)")
    recordings.set_defaults(session_factory=session_factory)
    rec_sub = recordings.add_subparsers(dest="recordings_command", required=True)
    purge = rec_sub.add_parser("purge", help="delete recordings older than each tenant's retention")
    purge.add_argument("--domain", help="only this tenant")
    purge.add_argument("--recordings-dir", help="storage root (default $FSCTL_RECORDINGS_DIR)")
    purge.set_defaults(func=cmd_recordings_purge)
    retention = rec_sub.add_parser("retention", help="set a tenant's retention in days")
    retention.add_argument("domain")
    retention.add_argument("days", type=int)
    retention.set_defaults(func=cmd_recordings_retention)
    listing = rec_sub.add_parser("list", help="a tenant's recordings, newest first")
    listing.add_argument("domain")
    listing.set_defaults(func=cmd_recordings_list)

    voicemail = sub.add_parser("voicemail", help="voicemail messages (indexed from the switch's events)")
    voicemail.set_defaults(session_factory=session_factory)
    vm_sub = voicemail.add_subparsers(dest="voicemail_command", required=True)
    vm_list = vm_sub.add_parser("list", help="a tenant's messages, newest first")
    vm_list.add_argument("domain")
    vm_list.add_argument("mailbox", nargs="?")
    vm_list.set_defaults(func=cmd_voicemail_list)
    pending = vm_sub.add_parser("mail-pending", help="send the e-mails that failed (e.g. from cron)")
    pending.add_argument("--hours", type=int, default=24, help="only messages of the last HOURS")
    pending.set_defaults(func=cmd_voicemail_mail_pending)

    audio = sub.add_parser("audio", help="tenant audio: greetings, announcements, IVR prompts")
    audio.set_defaults(session_factory=session_factory)
    audio_sub = audio.add_subparsers(dest="audio_command", required=True)
    upload = audio_sub.add_parser("upload", help="WAV or MP3 -> 8/16 kHz mono WAV in the tenant's storage")
    upload.add_argument("domain")
    upload.add_argument("file")
    upload.add_argument("name", help="what the tenant file refers to (greeting: NAME.wav)")
    upload.add_argument("--audio-dir", help="storage root (default $FSCTL_AUDIO_DIR)")
    upload.set_defaults(func=cmd_audio_upload)
