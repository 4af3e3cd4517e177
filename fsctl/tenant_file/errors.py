"""A refused tenant file's problems, each as an object: where in the file (a path) and what is wrong.

The path is a tuple of keys and list positions, `("users", 3, "extension")`; `path_text` writes it the
way the file is read (`users[3].extension`). A message with a changing part also carries a `code` and
its `params`, so a reader (the panel, the API) can say it in its own words without reading the
English; a param that is itself a path (a tuple) names another entry of the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

Path = tuple[str | int, ...]
_NO_PARAMS: Mapping[str, Any] = MappingProxyType({})


def path_text(path: Path) -> str:
    """`("users", 3, "extension")` -> `users[3].extension`; the empty path (the whole file) -> `(file)`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(file)"


class FieldError(NamedTuple):
    """One problem of a tenant file."""

    path: Path
    message: str
    code: str = ""
    params: Mapping[str, Any] = _NO_PARAMS

    def __str__(self) -> str:
        return f"{path_text(self.path)}: {self.message}"

    def under(self, prefix: Path) -> bool:
        """Whether the problem lies in the part of the file at `prefix` (the empty prefix: anywhere)."""
        return self.path[: len(prefix)] == prefix


class ConfigError(Exception):
    """A tenant file that was refused; `errors` lists every problem with its path in the file."""

    def __init__(self, errors: list[FieldError]):
        super().__init__("\n".join(str(error) for error in errors))
        self.errors = errors


def marshmallow_errors(messages: Any, path: Path = ()) -> list[FieldError]:
    """marshmallow's nested error dict as FieldErrors (keys and list positions become the path)."""
    errors: list[FieldError] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            sub = path if key == "_schema" else (*path, key)
            errors.extend(marshmallow_errors(value, sub))
    elif isinstance(messages, list):
        for message in messages:
            if isinstance(message, str):
                errors.append(FieldError(path, message))
            else:
                errors.extend(marshmallow_errors(message, path))
    else:
        errors.append(FieldError(path, str(messages)))
    return errors
