"""API keys: created once, shown once, stored as a hash; listed, expired and revoked by the
public id they are printed with (``key-`` and the start of the stored hash)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from contribnet.domain.errors import ContribnetError, NotFound
from contribnet.domain.roles import Principal, Role
from contribnet.domain.settlement import InvalidRequest, period_bounds
from contribnet.store.base import Store

__all__ = [
    "BOOTSTRAP_KEY_ID",
    "ApiKey",
    "InvalidKeyRequest",
    "KeyRefused",
    "create_key",
    "hash_key",
    "key_id",
    "list_keys",
    "resolve_key",
    "revoke_key",
]

#: What records made with the environment's admin key name it as.
BOOTSTRAP_KEY_ID = "bootstrap"


class InvalidKeyRequest(InvalidRequest):
    """A key that cannot be created as asked (422 naming the field; CLI exit 2)."""


class KeyRefused(ContribnetError):
    """A key that exists but may no longer be used: revoked or expired (401)."""


class ApiKey(BaseModel):
    """A key as listed: never its secret, which is not kept."""

    id: str = Field(description="the key's public id, as records name it", examples=["key-97a7"])
    role: Role
    staff: str | None = Field(default=None, description="the staff member a staff key is for")
    created_at: datetime
    expires_at: datetime | None = Field(default=None, description="refused from then on")
    revoked_at: datetime | None = None
    status: Literal["active", "expired", "revoked"]


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def key_id(key_hash: str) -> str:
    """A key's public name: the start of its stored hash. It identifies the key in records
    (settlements, adjustments, policies) without revealing the secret.

    >>> key_id(hash_key("cn_example"))
    'key-97a74635e1f9'
    """
    return "key-" + key_hash[:12]


def expiry_instant(expires: date | datetime) -> datetime:
    """When a key given an expiry stops working: a day means through that day (China Standard
    Time), an instant means at it (a naive one is taken as UTC).

    >>> expiry_instant(date(2025, 6, 30)).isoformat()
    '2025-07-01T00:00:00+08:00'
    """
    if isinstance(expires, datetime):
        return expires if expires.tzinfo else expires.replace(tzinfo=UTC)
    end = period_bounds(None, expires)[1]
    assert end is not None
    return end


def create_key(
    store: Store,
    role: str,
    staff: str | None = None,
    expires: date | datetime | None = None,
    *,
    now: datetime | None = None,
) -> str:
    """A new key's secret (printed once; only its hash is kept). A staff key names an existing
    staff member; an expiry must be in the future."""
    now = now or datetime.now(UTC)
    try:
        parsed = Role(role)
    except ValueError:
        raise InvalidKeyRequest.one(
            "role", f"unknown role {role!r}; one of {', '.join(r.value for r in Role)}"
        ) from None
    if (parsed is Role.STAFF) != (staff is not None):
        raise InvalidKeyRequest.one(
            "staff", "a staff key names exactly one staff id, other roles none"
        )
    if staff is not None:
        try:
            store.get("staff", staff)
        except NotFound:
            raise InvalidKeyRequest.one("staff", f"no staff member {staff!r}") from None
    expires_at = None
    if expires is not None:
        at = expiry_instant(expires)
        if at <= now:
            raise InvalidKeyRequest.one("expires", f"{expires.isoformat()} is not in the future")
        expires_at = at.astimezone(UTC).isoformat()
    secret = "cn_" + secrets.token_urlsafe(32)
    store.put_api_key(hash_key(secret), parsed.value, staff, now.isoformat(), expires_at)
    return secret


def _instant(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).astimezone(UTC)


def _status(expires_at: datetime | None, revoked_at: datetime | None, now: datetime) -> str:
    if revoked_at is not None:
        return "revoked"
    if expires_at is not None and expires_at <= now:
        return "expired"
    return "active"


def _listed(row: dict[str, str | None], now: datetime) -> ApiKey:
    created_at = _instant(row["created_at"])
    assert created_at is not None and row["hash"] is not None and row["role"] is not None
    expires_at, revoked_at = _instant(row.get("expires_at")), _instant(row.get("revoked_at"))
    return ApiKey.model_validate(
        {
            "id": key_id(row["hash"]),
            "role": row["role"],
            "staff": row["staff"],
            "created_at": created_at,
            "expires_at": expires_at,
            "revoked_at": revoked_at,
            "status": _status(expires_at, revoked_at, now),
        }
    )


def list_keys(store: Store, *, now: datetime | None = None) -> list[ApiKey]:
    """Every key, oldest first, with whether it is active, expired or revoked."""
    now = now or datetime.now(UTC)
    return [_listed(row, now) for row in store.api_keys()]


def revoke_key(store: Store, public_id: str, *, now: datetime | None = None) -> ApiKey:
    """Revoke a key by its public id (``key-…``); it is refused from the next request on.
    Revoking a revoked key again changes nothing. Raises ``NotFound`` for an unknown id."""
    now = now or datetime.now(UTC)
    prefix = public_id.removeprefix("key-")
    matches = [row for row in store.api_keys() if prefix and str(row["hash"]).startswith(prefix)]
    if len(matches) != 1 or not public_id.startswith("key-") or len(prefix) < 12:
        raise NotFound("key", public_id)
    key_hash = str(matches[0]["hash"])
    store.revoke_api_key(key_hash, now.isoformat())
    found = store.find_api_key(key_hash)
    assert found is not None
    return _listed({**found, "hash": key_hash}, now)


def resolve_key(
    store: Store, secret: str, admin_key: str | None, *, now: datetime | None = None
) -> Principal | None:
    """The principal a secret stands for (None: no such key); the bootstrap admin key comes from
    the environment. A revoked or expired key raises :class:`KeyRefused`."""
    if admin_key and hmac.compare_digest(secret.encode(), admin_key.encode()):
        return Principal(Role.ADMIN, key=BOOTSTRAP_KEY_ID)
    key_hash = hash_key(secret)
    found = store.find_api_key(key_hash)
    if not found:
        return None
    name = key_id(key_hash)
    if found.get("revoked_at"):
        raise KeyRefused(f"API key {name} was revoked at {found['revoked_at']}")
    expires_at = _instant(found.get("expires_at"))
    if expires_at is not None and expires_at <= (now or datetime.now(UTC)):
        raise KeyRefused(f"API key {name} expired at {expires_at.isoformat()}")
    return Principal(Role(found["role"]), found["staff"], name)
