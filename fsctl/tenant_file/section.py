"""The seam through which a feature adds its own part to the tenant file.

A section brings its schema fields, checks them against the rest of the file, writes its rows when the
file is applied and writes them back on export. The package calls every section it was given, in order;
which sections exist is decided by the composition root (fsctl.wiring.tenant_file_sections), never here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from fsctl import models
from fsctl.tenant_file.errors import FieldError, Path

if TYPE_CHECKING:
    from marshmallow import fields
    from sqlalchemy.orm import Session

Document = dict[str, Any]
# What each destination kind may name in the file: {"user": {"101", ...}, "ring_group": {...}, ...}.
Known = Mapping[str, set[str]]


@dataclass(frozen=True)
class SchemaPart:
    """Fields a section adds: at the top of the file, and to every entry under `users`."""

    top: Mapping[str, fields.Field] = field(default_factory=dict)
    user: Mapping[str, fields.Field] = field(default_factory=dict)


class ApplyContext(Protocol):
    """What a section may use of one apply of the file (the package's applier provides it)."""

    session: Session
    data: Document  # the checked file
    tenant: models.Tenant

    def error(self, path: Path, message: str, code: str = "", params: dict[str, Any] | None = None) -> None:
        """Report a problem at `path`: the whole file is refused and nothing is written."""

    def set_dest(self, owner: Any, attribute: str, dest: tuple[str, str | None] | None) -> None:
        """Point `owner.attribute` at the destination `dest` (kind, target), writing only a change."""


class Section(Protocol):
    """One part of the tenant file that a feature owns. Every step has a default that does nothing, so
    a section subclasses this and writes only the steps it needs."""

    name: str

    def schema(self) -> SchemaPart:
        """The section's fields (validated with the rest of the file)."""
        return SchemaPart()

    def numbers(self, data: Document) -> set[str]:
        """Numbers (national form) the section gives the tenant besides its platform numbers."""
        return set()

    def check(self, data: Document, known: Known) -> list[FieldError]:
        """Problems of the loaded file in this section's part (duplicates, names that name nothing)."""
        return []

    def complete(self, data: Document) -> None:
        """Fill in what follows from a valid file (run once every check has passed)."""

    def apply(self, context: ApplyContext, tenant: models.Tenant) -> None:
        """Write the section's rows, only where they differ; report problems with context.error."""

    def settle(self, context: ApplyContext, tenant: models.Tenant) -> None:
        """Run once the tenant holds exactly what the file says (what it no longer names is gone)."""

    def export(self, tenant: models.Tenant, document: Document) -> None:
        """Add the section's part to `document` (and to its `users` entries), in the apply format."""
