"""Every tenant change goes through the tenant's exported document and the tenant file's apply.

That is the same validation as `fsctl apply` (schema, references, routing checks), in one transaction:
export the tenant, change the part the form edits, apply the whole document. Errors come back as
FieldError objects (a path such as `("users", 3, "extension")` and a message), which `field_errors`
puts on the form's fields.
"""

from __future__ import annotations

import json
import logging
import pickle
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, flash, has_request_context, request
from sqlalchemy import inspect, select, update

from fsctl import models
from fsctl.db import config_flushes
from fsctl.tenant_file import COLLECTIONS, ApplyResult, ConfigError, FieldError, Path, load_tenant, path_text
from fsctl.wiring import tenant_file
from webpanel.destination_checks import check_destinations
from webpanel.error_words import Problem, explain, message_words, problem_markup
from webpanel.extensions import db

log = logging.getLogger(__name__)

Document = dict[str, Any]


@dataclass
class SaveRefused(Exception):
    """The tenant file's apply refused the document; nothing was changed."""

    errors: list[FieldError] = field(default_factory=list)
    # The refused document and its tenant: what the paths in `errors` point into (error_words).
    document: Document = field(default_factory=dict)
    tenant_id: int | None = None

    def field_errors(self, prefix: Path) -> dict[str, str]:
        """Errors under `prefix` (e.g. `("users", 2)`), keyed by the form's name of the rest of the path
        ('voicemail.pin'); other objects named in a message are named as the panel names them."""
        return field_errors(self.errors, prefix, self.document)

    def other_errors(self, prefix: Path) -> list[Problem]:
        """Errors elsewhere in the document (another user's forward to this one...), in words, linked."""
        return self.problems([error for error in self.errors if not error.under(prefix)])

    def problems(self, errors: list[FieldError] | None = None) -> list[Problem]:
        chosen = self.errors if errors is None else errors
        return [explain(error, self.document, self.tenant_id or 0) for error in chosen]


def field_key(path: Path) -> str:
    """The form's name of a path inside an entry: `("forward", "busy", "user")` -> 'forward.busy.user'."""
    return path_text(path) if path else "_"


def field_errors(errors: list[FieldError], prefix: Path, document: Document | None = None) -> dict[str, str]:
    """The messages of the errors under `prefix`, in words, by the form's name of their field."""
    result: dict[str, str] = {}
    for error in errors:
        if error.under(prefix):
            result.setdefault(field_key(error.path[len(prefix) :]), message_words(error, document))
    return result


_PRELOADED = "kumo_preloaded_config_version"


def preload(tenant_id: int) -> models.Tenant | None:
    """Load the whole tenant in a handful of queries (fsctl.tenant_file.load_tenant), so the tenant file's
    export and apply find every row in the session without lazy loads.

    Every row is read afresh, and the config version seen with them is remembered: save_tenant keeps
    these rows when the version is still the same under its lock (see _preloaded_is_current).
    """
    tenant = load_tenant(db.session, models.Tenant.id == tenant_id, fresh=True)
    if tenant is not None:
        db.session.info.setdefault(_PRELOADED, {})[tenant_id] = tenant.config_version
    return tenant


def _preloaded_is_current(tenant_id: int, version: int) -> bool:
    """Whether the rows preload read in this session are still what the database holds: no commit
    since (every commit that changes a tenant's configuration bumps config_version, fsctl.db) and no
    change, expiry or rollback in this session since. The session holds rows weakly: they are still
    there while the view holds its tenant (g.tenant); otherwise they are simply read again."""
    session = db.session
    tenant = session.identity_map.get(inspect(models.Tenant).identity_key_from_primary_key((tenant_id,)))
    return (
        tenant is not None
        and session.info.get(_PRELOADED, {}).get(tenant_id) == version
        and not inspect(tenant).unloaded & COLLECTIONS
        and not (session.new or session.dirty or session.deleted)
    )


def _copy(value: Any) -> Any:
    """A deep copy of a document (dicts, lists and scalars, all our own): through pickle, ~5 ms for
    1,000 users, where copy.deepcopy took ~60 ms and a recursive copy ~20 ms."""
    return pickle.loads(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))  # noqa: S301 - our own data


_EXPORTED = "kumo_exported_document"


class _Exports:
    """Exported documents of this process, pickled, per (tenant id, config version).

    Every committed change to a tenant's configuration bumps its config_version (fsctl.db), so an
    entry is exactly the export of that version, whichever process committed it: a form page costs
    one indexed read of the version instead of loading the whole tenant (~150 ms for 1,000 users).
    """

    def __init__(self, max_entries: int = 32):
        self.max_entries = max_entries
        self._data: OrderedDict[tuple[int, int], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, tenant_id: int, version: int) -> bytes | None:
        with self._lock:
            frozen = self._data.get((tenant_id, version))
            if frozen is not None:
                self._data.move_to_end((tenant_id, version))
            return frozen

    def put(self, tenant_id: int, version: int, frozen: bytes) -> None:
        with self._lock:
            self._data[(tenant_id, version)] = frozen
            self._data.move_to_end((tenant_id, version))
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)


def _app_exports() -> _Exports:
    """This app's exports (an app serves one database)."""
    return current_app.extensions.setdefault("kumo_tenant_exports", _Exports())


def current_document(tenant: models.Tenant) -> Document:
    """The tenant in the `fsctl apply` format (no passwords); the caller's own copy to change.

    Read at the tenant's current config version (this session's own flushed changes included):
    from this process's exports when it holds that version, else loaded and exported. The export is
    also remembered for this session, so saving in the same request starts from it.
    """
    version = db.session.scalar(select(models.Tenant.config_version).where(models.Tenant.id == tenant.id))
    frozen = _app_exports().get(tenant.id, version) if version is not None else None
    if frozen is None:
        loaded = preload(tenant.id)
        frozen = pickle.dumps(tenant_file().export(loaded or tenant), pickle.HIGHEST_PROTOCOL)
        version = loaded.config_version if loaded is not None else None
        # Only a committed version is shared: a change this session flushed (bumping the version
        # inside its transaction) may still roll back, and another commit would reuse the number.
        if version is not None and config_flushes(db.session, tenant.id) == 0 and not db.session.dirty:
            _app_exports().put(tenant.id, version, frozen)
    if version is not None:
        db.session.info.setdefault(_EXPORTED, {})[tenant.id] = (version, frozen)
    return pickle.loads(frozen)  # noqa: S301 - our own data


def _exported(tenant_id: int, version: int) -> bytes | None:
    """The export current_document made at this version in this session (pickled), if any."""
    seen = db.session.info.get(_EXPORTED, {}).get(tenant_id)
    return seen[1] if seen is not None and seen[0] == version else None


def _unchanged_users(before: Document, after: Document) -> frozenset[str]:
    """Extensions whose entries the change left exactly as exported (`before` is the export at the
    version this save locked, so applying them again could change nothing)."""
    exported = {
        entry.get("extension"): entry for entry in before.get("users") or () if isinstance(entry, dict)
    }
    return frozenset(
        entry["extension"]
        for entry in after.get("users") or ()
        if isinstance(entry, dict)
        and isinstance(entry.get("extension"), str)
        and exported.get(entry["extension"]) == entry
    )


def _changed_paths(before: Any, after: Any, path: str = "") -> list[str]:
    """Which parts of the document differ (the "what" of the audit entry); values are not logged."""
    if before == after:
        return []
    if isinstance(before, dict) and isinstance(after, dict):
        paths: list[str] = []
        for key in sorted(set(before) | set(after), key=str):
            sub = f"{path}.{key}" if path else str(key)
            paths.extend(_changed_paths(before.get(key), after.get(key), sub))
        return paths
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        paths = []
        for index, (b, a) in enumerate(zip(before, after, strict=True)):
            paths.extend(_changed_paths(b, a, f"{path}[{index}]"))
        return paths
    return [path or "(document)"]


def save_tenant(
    tenant_id: int,
    change: Callable[[Document], None],
    *,
    actor: str,
    action: str,
    summary: str,
    force: bool = False,
) -> ApplyResult:
    """Export, `change(document)`, apply in one transaction, audit; raises SaveRefused.

    `force`: commit even when the apply reports the document unchanged.
    """
    session = db.session
    # Two admins saving at once are serialised, so neither overwrites the other's part with a document
    # read before the other committed. PostgreSQL: SELECT ... FOR UPDATE on the tenant row. SQLite has
    # no row locks: a no-op write first takes the database's write lock (and a fresh snapshot).
    if session.get_bind().dialect.name == "sqlite":
        session.execute(
            update(models.Tenant)
            .where(models.Tenant.id == tenant_id)
            .values(config_version=models.Tenant.config_version)
            .execution_options(synchronize_session=False)
        )
    version = session.scalar(
        select(models.Tenant.config_version).where(models.Tenant.id == tenant_id).with_for_update()
    )
    if version is None:
        raise SaveRefused([FieldError((), "no such tenant")])
    if _preloaded_is_current(tenant_id, version):
        tenant = session.get(models.Tenant, tenant_id)  # the view's preload: nothing committed since
    else:
        # Rows loaded earlier in this request may predate the lock: read everything again.
        session.expire_all()
        tenant = preload(tenant_id)
    # The page's export, when it was made at the version now locked: the same document.
    pristine = _exported(tenant_id, version)
    if pristine is None:
        document = tenant_file().export(tenant)
        before = _copy(document)
    else:
        # Two loads of the pickled export: half the cost of loading one and copying it.
        before, document = pickle.loads(pristine), pickle.loads(pristine)  # noqa: S301 - our own data
    change(document)
    try:
        result = tenant_file().apply(
            session, document, actor=actor, unchanged_users=_unchanged_users(before, document)
        )
    except ConfigError as exc:
        session.rollback()
        log.info("tenant %s: %s refused: %s", tenant_id, action, exc.errors)
        raise SaveRefused(list(exc.errors), document, tenant_id) from exc
    refusals, warnings = check_destinations(before, document, tenant_id)
    if refusals:
        # Valid for fsctl, but a destination that can never work: refused on its field like an error.
        session.rollback()
        raise SaveRefused(refusals, document, tenant_id)
    if not result.changed and not force:
        # Nothing changed: roll back so the config version (and every lookup cache) stays as it was.
        session.rollback()
        return result
    detail = json.dumps(
        {"summary": summary, "changed": _changed_paths(before, document)[:50]}, ensure_ascii=False
    )
    # The apply wrote a generic "tenant.apply" entry; say what the panel did instead.
    entries = [e for e in session.new if isinstance(e, models.AuditEntry) and e.action == "tenant.apply"]
    if not entries:
        entries = [models.AuditEntry(actor=actor, tenant_id=tenant_id)]
        session.add(entries[0])
    for entry in entries:
        entry.action = action
        entry.detail = detail
    session.commit()
    if warnings and has_request_context() and request.blueprint != "api":
        for problem in SaveRefused(warnings, document, tenant_id).problems():
            flash(problem_markup(problem), "warn")
    return result


def audit(actor: str, action: str, summary: str, tenant_id: int | None = None) -> None:
    """An audit entry for a change that does not go through the tenant file's apply (caller commits)."""
    db.session.add(
        models.AuditEntry(
            actor=actor,
            tenant_id=tenant_id,
            action=action,
            detail=json.dumps({"summary": summary}, ensure_ascii=False),
        )
    )
