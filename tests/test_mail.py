"""fsctl.mail: the one SMTP path of voicemail notices, spend alerts, invoices and password resets."""

from __future__ import annotations

import ast
from email.message import EmailMessage
from pathlib import Path

import pytest
from media.smtp_sink import SmtpSink

from fsctl.mail import SmtpSettings, send, send_each, smtp_settings_from_env

ROOT = Path(__file__).resolve().parent.parent


def _message(to: str) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "kumo@kumo.example", to, "テスト / test"
    message.set_content("本文 / body", charset="utf-8")
    return message


def test_send_and_send_each_deliver_through_the_configured_server():
    with SmtpSink() as sink:
        smtp = SmtpSettings(host="127.0.0.1", port=sink.port, sender="kumo@kumo.example")
        send(_message("a@acme.example"), smtp)
        assert send_each([_message("b@acme.example"), _message("c@acme.example")], smtp) == []
    assert [m["To"] for m in sink.messages] == ["a@acme.example", "b@acme.example", "c@acme.example"]
    assert sink.messages[0]["Subject"] == "テスト / test"


def test_nothing_is_sent_without_a_server():
    with pytest.raises(RuntimeError, match="FSCTL_SMTP_HOST"):
        send(_message("a@acme.example"), SmtpSettings())
    assert send_each([], SmtpSettings()) == []


def test_settings_from_the_environment_with_a_default_sender():
    env = {"FSCTL_SMTP_HOST": "mail.example", "FSCTL_SMTP_PORT": "587", "FSCTL_SMTP_STARTTLS": "yes"}
    smtp = smtp_settings_from_env(env, sender="billing@kumo.invalid")
    assert (smtp.host, smtp.port, smtp.starttls, smtp.sender) == (
        "mail.example",
        587,
        True,
        "billing@kumo.invalid",
    )
    assert smtp_settings_from_env({**env, "FSCTL_SMTP_FROM": "ops@kumo.example"}).sender == "ops@kumo.example"


def test_only_fsctl_mail_talks_smtp():
    talking = []
    for path in sorted([*ROOT.glob("fsctl/**/*.py"), *ROOT.glob("webpanel/**/*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            module = node.module if isinstance(node, ast.ImportFrom) else None
            if "smtplib" in names or module == "smtplib":
                talking.append(str(path.relative_to(ROOT)))
    assert talking == ["fsctl/mail.py"]
