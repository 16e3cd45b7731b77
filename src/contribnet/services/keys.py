"""API keys: created once, shown once, stored as a hash."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime

from contribnet.domain.errors import ContribnetError
from contribnet.domain.roles import Principal, Role
from contribnet.store.base import Store

__all__ = ["BOOTSTRAP_KEY_ID", "create_key", "hash_key", "key_id", "resolve_key"]

#: What records made with the environment's admin key name it as.
BOOTSTRAP_KEY_ID = "bootstrap"


class InvalidKeyRequest(ContribnetError):
    pass


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def key_id(key_hash: str) -> str:
    """A key's public name: the start of its stored hash. It identifies the key in records
    (settlements, adjustments, policies) without revealing the secret.

    >>> key_id(hash_key("cn_example"))
    'key-97a74635e1f9'
    """
    return "key-" + key_hash[:12]


def create_key(store: Store, role: str, staff: str | None = None) -> str:
    """A new key's secret (printed once; only its hash is kept)."""
    try:
        parsed = Role(role)
    except ValueError:
        raise InvalidKeyRequest(
            f"role: unknown role {role!r}; one of {', '.join(r.value for r in Role)}"
        ) from None
    if (parsed is Role.STAFF) != (staff is not None):
        raise InvalidKeyRequest("staff: a staff key names exactly one staff id, other roles none")
    secret = "cn_" + secrets.token_urlsafe(32)
    store.put_api_key(hash_key(secret), parsed.value, staff, datetime.now(UTC).isoformat())
    return secret


def resolve_key(store: Store, secret: str, admin_key: str | None) -> Principal | None:
    """The principal a secret stands for; the bootstrap admin key comes from the environment."""
    if admin_key and hmac.compare_digest(secret.encode(), admin_key.encode()):
        return Principal(Role.ADMIN, key=BOOTSTRAP_KEY_ID)
    key_hash = hash_key(secret)
    found = store.find_api_key(key_hash)
    return Principal(Role(found["role"]), found["staff"], key_id(key_hash)) if found else None
