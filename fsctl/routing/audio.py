"""How a tenant's audio name becomes a path FreeSWITCH plays (pure).

A plain name ("main-menu.wav", "main-menu") is one of the tenant's uploads (fsctl.media.audio):
`${kumo_audio_dir}/<domain>/<name>.wav`, where kumo_audio_dir is the switch's global variable
(freeswitch/vars.xml) and mod_sndfile picks `<domain>/<rate>/<name>.wav` for the call's rate. A name
with a directory ("kumo/after_hours.wav") is a platform sound under the channel's sound_prefix.
Nothing else is accepted: no absolute paths, no `..`, no variables (fsctl.routing.plan.safe_file).
"""

from __future__ import annotations

from fsctl.routing.plan import safe_file


def audio_path(domain: str, name: str | None) -> str | None:
    """The playable path for a tenant's audio name, or None when the name is unsafe or empty."""
    safe = safe_file(name)
    if safe is None:
        return None
    if "/" in safe:
        return safe
    stem = safe[:-4] if safe.lower().endswith(".wav") else safe
    return f"${{kumo_audio_dir}}/{domain}/{stem}.wav"
