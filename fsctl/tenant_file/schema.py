"""The tenant file's schema: the core's (fsctl.schemas.TenantConfigSchema) plus every section's fields."""

from __future__ import annotations

import pickle
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from marshmallow import Schema, ValidationError, fields

from fsctl.schemas import TenantConfigSchema, UserSchema
from fsctl.tenant_file.section import SchemaPart

# Users validated before, by their exact content. A panel save sends a tenant's every user again with
# one changed, and marshmallow takes ~60 us a user. UserSchema checks each entry on its own, so the
# same entry always loads the same; any error is reported by a full load (the same errors, paths).
# Entries with a password are never kept (no plaintext SIP password stays in memory).
USERS_SEEN_MAX = 5000
USERS_WORTH_IT = 50  # below this many users a plain load is as fast


def build_schema(parts: Iterable[SchemaPart]) -> tuple[type[Schema], type[Schema]]:
    """(file schema, user schema): TenantConfigSchema and UserSchema with the sections' fields added."""
    top: dict[str, fields.Field] = {}
    user: dict[str, fields.Field] = {}
    for part in parts:
        top.update(part.top)
        user.update(part.user)
    attrs: dict[str, Any] = dict(top)
    user_schema: type[Schema] = UserSchema
    if user:
        user_schema = type("TenantFileUserSchema", (UserSchema,), dict(user))
        attrs["users"] = fields.List(fields.Nested(user_schema), load_default=list)
    return type("TenantFileSchema", (TenantConfigSchema,), attrs), user_schema


class FileSchema:
    """Loads a tenant file with one schema, validating only the users it has not seen before."""

    def __init__(self, schema: type[Schema], user_schema: type[Schema]):
        self.schema = schema
        self.user_schema = user_schema  # one entry under `users` (the API's user body)
        self.users_seen: OrderedDict[bytes, dict[str, Any]] = OrderedDict()

    def load(self, raw: dict[str, Any]) -> dict[str, Any]:
        """schema().load(raw); raises marshmallow's ValidationError with every path as in the file."""
        users = raw.get("users")
        if not isinstance(users, list) or len(users) < USERS_WORTH_IT:
            return self.schema().load(raw)
        seen_before = self.users_seen
        keys = [_user_key(user) for user in users]
        seen = [seen_before.get(key) if key is not None else None for key in keys]
        new = [index for index, entry in enumerate(seen) if entry is None]
        try:
            data = self.schema().load({**raw, "users": [users[index] for index in new]})
        except ValidationError:
            return self.schema().load(raw)  # raises again, with every path as in the file
        for index, entry in zip(new, data["users"], strict=True):
            seen[index] = entry
            if keys[index] is not None:
                seen_before[keys[index]] = entry  # callers only ever get copies
        for key in keys:
            if key is not None and key in seen_before:
                seen_before.move_to_end(key)
        while len(seen_before) > USERS_SEEN_MAX:
            seen_before.popitem(last=False)
        data["users"] = [_plain_copy(entry) for entry in seen]
        return data


def _user_key(user: Any) -> bytes | None:
    """The entry's exact content as bytes (None: not to be kept)."""
    if not isinstance(user, dict) or "password" in user:
        return None
    try:
        # Pickled: a fifth of json.dumps(sort_keys=True)'s cost for 1,000 entries a save. Equal bytes
        # mean equal content (types included: True is not 1 here); the same entry with its keys in
        # another order only misses, and is validated again.
        return pickle.dumps(user, pickle.HIGHEST_PROTOCOL)
    except (TypeError, ValueError, pickle.PicklingError):
        return None


def _plain_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain_copy(item) for item in value]
    return value  # str, int, bool, None, enums and destination tuples are immutable
