"""`fsctl cdr import DIR`: the records mod_json_cdr/mod_xml_cdr wrote to err-log-dir after their last try.

The switch never re-posts these (backup_cdr in mod_json_cdr.c writes `<uuid>.cdr.json`, `a_<uuid>...`
with prefix-a-leg, in dated subfolders when rotating). Each file is stored exactly like a post (same
idempotent key), then moved to DIR/imported/ (stored or already there) or DIR/rejected/ (kept in
cdr_rejects with the reason too), so running the import again does nothing twice.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

from fsctl.cdr.intake import MAX_CDR_BODY
from fsctl.cdr.parse import CdrError, normalize_uuid, parse_json, parse_xml
from fsctl.cdr.store import CdrStore, NotOurLeg

log = logging.getLogger(__name__)

SUFFIXES = {".cdr.json": parse_json, ".cdr.xml": parse_xml}
DONE_DIRS = ("imported", "rejected")


@dataclass
class ImportResult:
    imported: int = 0
    duplicates: int = 0
    rejected: int = 0

    def summary(self) -> str:
        return f"{self.imported} imported, {self.duplicates} already stored, {self.rejected} rejected"


def _spooled_files(directory: Path) -> list[tuple[Path, str]]:
    found = []
    for path in sorted(directory.rglob("*.cdr.*")):
        if not path.is_file() or any(part in DONE_DIRS for part in path.relative_to(directory).parts[:-1]):
            continue
        for suffix in SUFFIXES:
            if path.name.endswith(suffix):
                found.append((path, suffix))
    return found


def _move(path: Path, directory: Path, folder: str) -> None:
    target = directory / folder / path.relative_to(directory)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(path), str(target))


def import_spool(directory: Path, store: CdrStore) -> ImportResult:
    """Store every spooled CDR file under `directory` and move it out of the way."""
    result = ImportResult()
    for path, suffix in _spooled_files(directory):
        if path.stat().st_size > MAX_CDR_BODY:
            # Not read (and not kept in cdr_rejects): the file itself is what the operator looks at.
            log.warning("CDR spool file %s is over %d bytes; moved to rejected/", path, MAX_CDR_BODY)
            _move(path, directory, "rejected")
            result.rejected += 1
            continue
        body = path.read_bytes()
        uuid = normalize_uuid(path.name[: -len(suffix)])
        try:
            leg = SUFFIXES[suffix](body, uuid)
            stored = store.store(leg, "spool")
        except (CdrError, UnicodeDecodeError, NotOurLeg) as exc:
            # One unusable file never stops the import: it is kept aside and the next one is read.
            store.reject("spool", path.name[: -len(suffix)], f"{path.name}: {exc}", suffix[5:], body)
            _move(path, directory, "rejected")
            result.rejected += 1
            continue
        if stored:
            result.imported += 1
        else:
            result.duplicates += 1
        _move(path, directory, "imported")
    log.info("CDR spool %s: %s", directory, result.summary())
    return result
