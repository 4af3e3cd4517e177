"""Credentials the service shares with the switch, generated on first start.

No credential has a working default: when `FSCTL_XML_CURL_AUTH` / `FSCTL_ESL_PASSWORD` are not given,
the service reads them from files under the instance folder, creating each once (mode 0600) and
saying where. `make fs-config` writes the same values into the switch's vars.d/ (`fsctl secrets
fs-vars`), so both sides agree without anyone typing a password. Running /fs/xml and /fs/cdr without
HTTP credentials needs an explicit `FSCTL_XML_CURL_AUTH=off`, logged loudly.
"""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import replace
from pathlib import Path

from fsctl.config import AUTH_OFF, Settings

log = logging.getLogger(__name__)

HTTP_CREDENTIALS_FILE = "fs-http-credentials"
ESL_PASSWORD_FILE = "esl-password"
HTTP_USER = "freeswitch"


def read_or_create(path: Path, make: str) -> str:
    """The secret stored at `path`; `make` is written there first (mode 0600) if the file does not exist."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        value = path.read_text(encoding="utf-8").strip()
        if not value:
            raise ValueError(f"{path} is empty; delete it to have a new secret generated") from None
        return value
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(make + "\n")
    log.warning("generated a new secret in %s (mode 0600); `make fs-config` gives it to FreeSWITCH", path)
    return make


def instance_folder(settings: Settings) -> Path:
    """The instance folder, created private (0700) if missing."""
    folder = Path(settings.instance_dir)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def http_credentials(settings: Settings) -> str | None:
    """`user:password` for /fs/xml and /fs/cdr, or None when explicitly switched off."""
    if settings.xml_curl_auth == AUTH_OFF:
        return None
    if settings.xml_curl_auth:
        return settings.xml_curl_auth
    path = instance_folder(settings) / HTTP_CREDENTIALS_FILE
    return read_or_create(path, f"{HTTP_USER}:{secrets.token_urlsafe(24)}")


def esl_password(settings: Settings) -> str:
    """The event-socket password: the setting, else the generated one."""
    if settings.esl_password:
        return settings.esl_password
    return read_or_create(instance_folder(settings) / ESL_PASSWORD_FILE, secrets.token_urlsafe(24))


def resolve_service_secrets(settings: Settings) -> Settings:
    """Settings with both credentials filled in (generated where missing); logs where they come from."""
    auth = http_credentials(settings)
    if auth is None:
        log.warning(
            "FSCTL_XML_CURL_AUTH=off: /fs/xml and /fs/cdr are OPEN. Anyone who reaches the port reads every "
            "user's a1-hash and can post call records. Never run this way outside a closed test network."
        )
    elif not settings.xml_curl_auth:
        log.info("xml_curl/CDR HTTP credentials from %s", Path(settings.instance_dir) / HTTP_CREDENTIALS_FILE)
    password = esl_password(settings)
    if not settings.esl_password:
        log.info("ESL password from %s", Path(settings.instance_dir) / ESL_PASSWORD_FILE)
    return replace(settings, xml_curl_auth=auth if auth is not None else AUTH_OFF, esl_password=password)


def fs_vars(settings: Settings) -> str:
    """The vars.d/ include that gives the switch the same credentials as this service."""
    resolved = resolve_service_secrets(settings)
    for value in (resolved.xml_curl_auth, resolved.esl_password):
        # The switch's pre-processor reads data="..." up to the next double quote (vars.xml).
        if any(c in value for c in '"<>&\r\n'):
            raise ValueError('a credential with " < > & or a newline cannot go into vars.d/; choose another')
    lines = ["<include>", "  <!-- Written by `fsctl secrets fs-vars` (make fs-config); do not edit. -->"]
    if resolved.xml_curl_auth != AUTH_OFF:
        lines.append(f'  <X-PRE-PROCESS cmd="set" data="kumo_http_credentials={resolved.xml_curl_auth}"/>')
    lines.append(f'  <X-PRE-PROCESS cmd="set" data="kumo_esl_password={resolved.esl_password}"/>')
    lines.append("</include>")
    return "\n".join(lines) + "\n"
