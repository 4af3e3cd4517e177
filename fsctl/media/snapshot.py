"""The media part of a TenantSnap: whether the tenant uploaded its own music on hold."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fsctl.routing.hold import HOLD_MUSIC_AUDIO

_HAS_HOLD_MUSIC = "SELECT 1 FROM audio_files WHERE tenant_id = ? AND name = ?"


def hold_music_snapshot_part(
    fetch_all: Callable[[str, Sequence[Any]], list[tuple]], tenant_id: int, dest: Any = None
) -> dict:
    """TenantSnap fields: the uploaded hold music, if any (the snapshot part fsctl.snapshots runs)."""
    return (
        {"hold_music": HOLD_MUSIC_AUDIO} if fetch_all(_HAS_HOLD_MUSIC, (tenant_id, HOLD_MUSIC_AUDIO)) else {}
    )
