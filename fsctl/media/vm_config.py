"""section=configuration answer for mod_voicemail's `voicemail.conf`: one platform profile, from kumo.

mod_voicemail opens voicemail.conf at load and again when a profile is first used (load_config /
load_profile in src/mod/applications/mod_voicemail/mod_voicemail.c), with no params: the body is just
`section=configuration&tag_name=configuration&key_name=name&key_value=voicemail.conf`
(fixtures/xml_curl/configuration-startup-sequence.txt). Answering it here makes the behaviour the same
on every switch, whatever local file it has.
"""

from __future__ import annotations

from collections.abc import Mapping

from lxml import etree

from fsctl.media.settings import MediaSettings
from fsctl.xml.document import add_pairs, new_document, to_bytes

PROFILE = "default"  # the profile the rendered dialplans name: `voicemail [check] default <domain> <ext>`
# The beep before recording: teletone "%(on ms, off ms, Hz)", played once (gentones in create_file); half
# a second is a clear beep, and the caller waits through all of it before the recording starts.
TONE_SPEC = "%(500, 0, 640)"


def profile_params(settings: MediaSettings) -> list[tuple[str, str]]:
    """The profile's params (names from profile_set_config() in mod_voicemail.c)."""
    params = [
        ("file-extension", "wav"),
        ("terminator-key", "#"),
        # Pressing 0 during the greeting goes to the mailbox login, which asks for the PIN
        # (voicemail_leave_main -> voicemail_check_main with auth=0): never a way in without it.
        ("login-keys", "0"),
        ("max-login-attempts", "3"),
        ("digit-timeout", "10000"),
        ("min-record-len", "3"),
        ("max-record-len", "300"),
        ("max-retries", "3"),
        ("tone-spec", TONE_SPEC),
        # The module's default (true) opens a mailbox that has no password to anyone.
        ("allow-empty-password-auth", "false"),
        ("db-password-override", "false"),
        # The PIN is kumo's (panel / fsctl apply, validated there). A PIN changed from the phone would
        # live only in the switch's local voicemail_prefs and be accepted besides kumo's. The config
        # menu checks record-greeting-key before change-pass-key, so giving both the same digit
        # makes "change password" unreachable (voicemail_check_main, VM_CHECK_CONFIG).
        ("record-greeting-key", "1"),
        ("change-pass-key", "1"),
        # When each message was left is said before it (voicemail_say_date, fsctl.media.phrase_macros).
        ("play-date-announcement", "first"),
        # No message ever leaves through the switch's mailer: kumo sends e-mail from its index.
        ("email_email-from", settings.smtp.sender),
        ("callback-dialplan", "XML"),
        ("callback-context", "kumo-none"),
    ]
    if settings.voicemail_root:
        # <storage-dir>/<domain>/<id>: one tree per tenant domain (storage_dir_shared false).
        params.append(("storage-dir", settings.voicemail_root))
    if settings.voicemail_index:
        # One message list for every node (fsctl.media.settings.voicemail_index_from_env).
        params.append(("odbc-dsn", settings.voicemail_index))
    return params


def render_voicemail_conf(settings: MediaSettings) -> bytes:
    """The whole voicemail.conf document."""
    document, section = new_document("configuration")
    configuration = etree.SubElement(
        section, "configuration", name="voicemail.conf", description="kumo voicemail"
    )
    add_pairs(configuration, "settings", "param", [("message-query-exact-match", "false")])
    profiles = etree.SubElement(configuration, "profiles")
    profile = etree.SubElement(profiles, "profile", name=PROFILE)
    for name, value in profile_params(settings):
        etree.SubElement(profile, "param", name=name, value=value)
    return to_bytes(document)


class ConfigurationResponder:
    """Answers the configuration lookups kumo owns; anything else -> not found (the switch's files)."""

    def __init__(self, settings: MediaSettings):
        self._voicemail = render_voicemail_conf(settings)

    def answer(self, fields: Mapping[str, str]) -> tuple[bytes | None, str]:
        if fields.get("key_name") == "name" and fields.get("key_value") == "voicemail.conf":
            return self._voicemail, "voicemail.conf"
        return None, f"configuration {fields.get('key_value', '')[:40]!r} not served"
