"""Directory XML for one user (or a bare domain), as mod_xml_curl lookups expect it. Pure: no I/O."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from lxml import etree

from fsctl.xml.document import add_pairs, new_document, to_bytes

# How sofia finds a registered phone of this domain when kumo bridges to user/<ext>@<domain>.
DIAL_STRING = (
    "{^^:sip_invite_domain=${dialed_domain}:presence_id=${dialed_user}@${dialed_domain}}"
    "${sofia_contact(*/${dialed_user}@${dialed_domain})}"
)


@dataclass(frozen=True)
class DirectoryUser:
    """What the directory needs of one user: a flat row, read on the lookup hot path."""

    tenant_id: int
    domain: str
    user_id: int
    extension: str
    name: str
    a1_hash: str
    direction: str
    caller_id: str | None
    ring_seconds: int
    voicemail_enabled: bool
    voicemail_pin: str | None
    voicemail_email: str | None
    voicemail_attach_audio: bool
    recording_enabled: bool


CLOSED_MAILBOX_HASH = "x" * 32  # never an md5 hex digest: no entry matches it


def voicemail_hash(user: DirectoryUser) -> str:
    """md5(extension:domain:PIN) as mod_voicemail compares it, or a value no entry can match."""
    if not user.voicemail_pin:
        return CLOSED_MAILBOX_HASH
    return hashlib.md5(f"{user.extension}:{user.domain}:{user.voicemail_pin}".encode()).hexdigest()


def _domain_element(section: etree._Element, domain: str) -> etree._Element:
    element = etree.SubElement(section, "domain", name=domain)
    add_pairs(element, "params", "param", [("dial-string", DIAL_STRING)])
    return element


def render_domain(domain: str) -> bytes:
    """A domain with its params and no users (domain-level lookups never list a tenant's users)."""
    document, section = new_document("directory")
    _domain_element(section, domain)
    return to_bytes(document)


def render_user(user: DirectoryUser, cacheable_ms: int = 0) -> bytes:
    """The domain with exactly this one user: digest a1-hash, context, caller ID and kumo's ids."""
    document, section = new_document("directory")
    domain = _domain_element(section, user.domain)
    users = etree.SubElement(
        etree.SubElement(etree.SubElement(domain, "groups"), "group", name="default"), "users"
    )
    attributes = {"id": user.extension}
    if cacheable_ms > 0:
        # The switch keeps this user for cacheable ms and skips our lookup; kumo evicts it with
        # `xml_flush_cache id <ext> <domain>` over ESL when the user's data changes.
        attributes["cacheable"] = str(cacheable_ms)
    element = etree.SubElement(users, "user", attributes)
    params = [
        # Only the hash: sofia checks the digest against it; the password itself is never stored.
        ("a1-hash", user.a1_hash),
        ("vm-enabled", "true" if user.voicemail_enabled else "false"),
    ]
    if user.voicemail_pin:
        params.append(("vm-password", user.voicemail_pin))
    # mod_voicemail also accepts a login whose md5(id:domain:entered) equals the user's a1-hash, i.e.
    # the SIP password typed on the keypad; vm-a1-hash replaces that hash (VM_CHECK_AUTH in
    # mod_voicemail.c), so only the PIN opens the mailbox, and a mailbox without a PIN stays closed.
    params.append(("vm-a1-hash", voicemail_hash(user)))
    # No vm-mailto / vm-email-all-messages / vm-attach-file: with them mod_voicemail mails each message
    # itself through the switch's mailer (deliver_vm in mod_voicemail.c). kumo sends the e-mail from
    # its own index instead (fsctl.media.vm_mail), in its own format, with the platform's SMTP settings.
    add_pairs(element, "params", "param", params)
    variables = [
        # Calls from this phone are routed in a context named after its tenant (see fsctl.routing).
        ("user_context", user.domain),
        ("domain_name", user.domain),
        ("effective_caller_id_name", user.name),
        ("effective_caller_id_number", user.extension),
        ("accountcode", user.domain),
        ("call_timeout", str(user.ring_seconds)),
        ("kumo_tenant_id", str(user.tenant_id)),
        ("kumo_user_id", str(user.user_id)),
        ("kumo_direction", user.direction),
        ("kumo_recording", "true" if user.recording_enabled else "false"),
        # Group pickup (*8) picks calls ringing anywhere in the same tenant.
        ("callgroup", user.domain),
    ]
    if user.caller_id:
        variables.append(("outbound_caller_id_number", user.caller_id))
    add_pairs(element, "variables", "variable", variables)
    return to_bytes(document)
