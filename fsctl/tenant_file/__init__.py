"""The tenant file: one YAML document that is the whole truth about one tenant.

`fsctl apply FILE.yaml` and `fsctl export DOMAIN` read and write it, and every panel and API save goes
through it. The package holds the core of the file (schema, check, apply, export of users, numbers,
ring groups, schedules, IVR menus and park slots); features add their parts as a `Section`, and the
composition root (fsctl.wiring) builds the `TenantFile` with every section.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.orm import Session

from fsctl import models
from fsctl.numbering import NumberingPlan
from fsctl.tenant_file.apply import (
    ApplyResult,
    a1_hash,
    apply_document,
    audio_names,
    release_number,
)
from fsctl.tenant_file.check import destination_error, load_document, minutes
from fsctl.tenant_file.errors import ConfigError, FieldError, Path, path_text
from fsctl.tenant_file.export import dest_out, export_document, hhmm
from fsctl.tenant_file.load import COLLECTIONS, load_tenant
from fsctl.tenant_file.schema import FileSchema, build_schema
from fsctl.tenant_file.section import ApplyContext, Document, Known, SchemaPart, Section


class TenantFile:
    """The tenant file with a given list of sections: check, apply and export."""

    def __init__(self, numbering: NumberingPlan, sections: Sequence[Section] = ()):
        self.numbering = numbering  # the dialling rules routing checks run under (dialplans/numbering.yaml)
        self.sections = tuple(sections)
        self.schema = FileSchema(*build_schema(section.schema() for section in self.sections))

    def load(self, raw: Any, audio_names: Callable[[str], set[str]] | None = None) -> Document:
        """Validate a parsed YAML document: schema, references, sections, routing. Raises ConfigError.

        `audio_names(domain)`: the tenant's uploaded audio; when given, announcements must name one of them.
        """
        return load_document(raw, self.schema, self.sections, self.numbering, audio_names)

    def apply(
        self, session: Session, raw: Any, actor: str = "fsctl", unchanged_users: frozenset[str] = frozenset()
    ) -> ApplyResult:
        """Create or update one tenant from a parsed file, inside the caller's transaction.

        Raises ConfigError (nothing is changed once the caller rolls back). A file that changes nothing
        leaves the tenant's config version as it was. `unchanged_users`: see apply_document.
        """
        data = self.load(raw, lambda domain: audio_names(session, domain))
        return apply_document(session, data, self.sections, actor, unchanged_users)

    def export(self, tenant: models.Tenant) -> Document:
        """The tenant in the apply format; never any password or hash."""
        return export_document(tenant, self.sections)


__all__ = [
    "COLLECTIONS",
    "ApplyContext",
    "ApplyResult",
    "ConfigError",
    "Document",
    "FieldError",
    "Known",
    "Path",
    "SchemaPart",
    "Section",
    "TenantFile",
    "a1_hash",
    "dest_out",
    "destination_error",
    "hhmm",
    "load_tenant",
    "minutes",
    "path_text",
    "release_number",
]
