"""The Debian packages some tests need, and a marker that skips (or, under `make test`, fails) without them.

`make test-deps` installs them all and `make test` runs everything. A plain `pytest` on a machine
without them skips those tests with a reason naming the package, instead of a stack trace. `make test`
sets KUMO_SYSTEM_PACKAGES_REQUIRED=1 so a package that failed to install is a failure, never a
silent skip.

Usage: `@pytest.mark.system_package("sox")` (several names allowed) on a test or as `pytestmark`.
"""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REQUIRED_ENV = "KUMO_SYSTEM_PACKAGES_REQUIRED"


@dataclass(frozen=True)
class SystemPackage:
    debian: str
    present: Callable[[], bool]


def _commands(*names: str) -> Callable[[], bool]:
    return lambda: all(shutil.which(name) for name in names)


def _japanese_font() -> bool:
    # The same search the invoice PDF does, so the marker and the code never disagree.
    from fsctl.billing.settings import BillingSettings, find_font

    try:
        find_font(BillingSettings())
    except FileNotFoundError:
        return False
    return True


def _speech() -> bool:
    from fsctl.media.prompts import JTALK_VOICE

    return _commands("open_jtalk", "espeak-ng", "sox")() and Path(JTALK_VOICE).is_file()


PACKAGES: dict[str, SystemPackage] = {
    "sox": SystemPackage("sox libsox-fmt-mp3", _commands("sox")),
    "ipafont": SystemPackage("fonts-ipafont", _japanese_font),
    "speech": SystemPackage(
        "open-jtalk open-jtalk-mecab-naist-jdic hts-voice-nitech-jp-atr503-m001 espeak-ng sox", _speech
    ),
    "chromium": SystemPackage("chromium fonts-noto-cjk", lambda: Path("/usr/bin/chromium").is_file()),
}


@functools.cache
def available(name: str) -> bool:
    """Whether the named package is installed (checked once per run)."""
    return PACKAGES[name].present()


def missing_reason(names: tuple[str, ...]) -> str | None:
    """Why a test marked with these packages cannot run here, or None."""
    unknown = [name for name in names if name not in PACKAGES]
    if unknown:
        raise ValueError(f"unknown system_package marker {unknown}; known: {sorted(PACKAGES)}")
    missing = [PACKAGES[name].debian for name in names if not available(name)]
    if not missing:
        return None
    return f"needs Debian's {', '.join(missing)}: run `make test-deps`"


def required() -> bool:
    """Under `make test` a missing package is a failure (the target installed them)."""
    return os.environ.get(REQUIRED_ENV, "") not in ("", "0")
