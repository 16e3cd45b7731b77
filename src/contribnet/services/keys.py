"""API keys: created once, shown once, stored as a hash."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime

from contribnet.domain.errors import ContribnetError
from contribnet.domain.roles import Principal, Role
from contribnet.store.base import Store

__all__ = ["create_key", "hash_key", "resolve_key"]


class InvalidKeyRequest(ContribnetError):
    pass


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(store: Store, role: str, staff: str | None = None) -> str:
    """A new key's secret (printed once; only its hash is kept)."""
    try:
        parsed = Role(role)
    except ValueError:
        raise InvalidKeyRequest(f"role: unknown role {role!r}; one of {', '.join(r.value for r in Role)}") from None
    if (parsed is Role.STAFF) != (staff is not None):
        raise InvalidKeyRequest("staff: a staff key names exactly one staff id, other roles none")
    secret = "cn_" + secrets.token_urlsafe(32)
    store.put_api_key(hash_key(secret), parsed.value, staff, datetime.now(UTC).isoformat())
    return secret


def resolve_key(store: Store, secret: str, admin_key: str | None) -> Principal | None:
    """The principal a secret stands for; the bootstrap admin key comes from the environment."""
    if admin_key and hmac.compare_digest(secret.encode(), admin_key.encode()):
        return Principal(Role.ADMIN)
    found = store.find_api_key(hash_key(secret))
    return Principal(Role(found["role"]), found["staff"]) if found else None
