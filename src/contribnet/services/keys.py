"""API keys: created once, shown once, never stored; listed, expired and revoked by the public
id they are printed with (``key-`` and the start of the SHA-256 of the secret).

How a key is kept (issue #13: key material unreachable through free Cypher): a key's record is
found by its *digest*, HMAC-SHA256 under the server's pepper (``CONTRIBNET_KEY_PEPPER``) of the
SHA-256 of the secret, and everything else about it (role, staff, times, the SHA-256 it was made
from) is *sealed* with AES-GCM under a key derived from the same pepper. The store holds only
``(digest, sealed)``: on Neo4j an ``(:ApiKey {digest, sealed})`` node, which an analyst who
reads the whole graph sees as two opaque strings (and free Cypher removes even those); without
the pepper neither a stolen database nor a Cypher query tells a key's role or staff member, and
no digest can be checked against a guessed key.

Without a pepper the built-in one (:data:`DEFAULT_PEPPER`) is used: the records are still opaque
to analysts, but anyone with this source can open them. Records written before peppering
(plain SHA-256, role and staff in the clear) and records sealed under the built-in pepper are
re-sealed under the configured one by :func:`seal_keys` (run at every server start) and, for a
key used before that, when it is first presented.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Iterable
from datetime import UTC, date, datetime
from functools import cache
from typing import Any, Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel, Field

from contribnet.domain.errors import ContribnetError, NotFound
from contribnet.domain.roles import Principal, Role
from contribnet.domain.settlement import InvalidRequest, period_bounds
from contribnet.services import audit
from contribnet.store.base import Store

__all__ = [
    "BOOTSTRAP_KEY_ID",
    "DEFAULT_PEPPER",
    "ApiKey",
    "InvalidKeyRequest",
    "KeyRefused",
    "create_key",
    "hash_key",
    "key_id",
    "list_keys",
    "resolve_key",
    "revoke_key",
    "seal_keys",
]

_log = logging.getLogger(__name__)

#: The pepper used when ``CONTRIBNET_KEY_PEPPER`` is not set: records stay opaque to analysts'
#: Cypher, but this text is public, so set a pepper of your own in production.
DEFAULT_PEPPER = "contribnet: no CONTRIBNET_KEY_PEPPER is set"

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
    """The SHA-256 of a secret (hex): the key's fingerprint, which its public id starts with.
    It is never stored as such (only HMAC'd under the pepper, and inside the sealed record)."""
    return hashlib.sha256(secret.encode()).hexdigest()


class _Vault:
    """Digests and seals key records under one pepper."""

    _AAD = b"contribnet api key record v1"

    def __init__(self, pepper: str) -> None:
        root = pepper.encode()
        self._lookup = hmac.new(root, b"contribnet api key digest", hashlib.sha256).digest()
        self._aead = AESGCM(hmac.new(root, b"contribnet api key seal", hashlib.sha256).digest())

    def digest(self, fingerprint: str) -> str:
        return hmac.new(self._lookup, fingerprint.encode(), hashlib.sha256).hexdigest()

    def seal(self, record: dict[str, Any]) -> str:
        nonce = secrets.token_bytes(12)
        plain = json.dumps(record, sort_keys=True, separators=(",", ":")).encode()
        return base64.b64encode(nonce + self._aead.encrypt(nonce, plain, self._AAD)).decode()

    def open(self, sealed: str) -> dict[str, Any] | None:
        """The record, or None if it was sealed under another pepper (or is damaged)."""
        try:
            raw = base64.b64decode(sealed, validate=True)
            record = json.loads(self._aead.decrypt(raw[:12], raw[12:], self._AAD))
        except (InvalidTag, ValueError, binascii.Error):
            return None
        return record if isinstance(record, dict) else None


@cache
def _vault(pepper: str) -> _Vault:
    return _Vault(pepper)


def _vaults(pepper: str | None) -> tuple[_Vault, ...]:
    """The configured pepper's vault first, then the built-in one's (records it sealed are
    still opened, and re-sealed under the configured pepper)."""
    if pepper is None or pepper == DEFAULT_PEPPER:
        return (_vault(DEFAULT_PEPPER),)
    return (_vault(pepper), _vault(DEFAULT_PEPPER))


_FIELDS = ("fingerprint", "role", "staff", "created_at", "expires_at", "revoked_at")


def _opened(
    stored: dict[str, Any], vaults: tuple[_Vault, ...]
) -> tuple[dict[str, Any], _Vault | None] | None:
    """A stored record as plain fields, and the vault that opened it (None: a record from before
    peppering, stored in the clear). None if no vault opens it."""
    if stored.get("sealed") is None:  # written before keys were peppered
        legacy = {f: stored.get(f) for f in _FIELDS[1:]}
        return {**legacy, "fingerprint": stored["hash"]}, None
    for vault in vaults:
        record = vault.open(str(stored["sealed"]))
        if record is not None:
            return {f: record.get(f) for f in _FIELDS}, vault
    return None


def _stored_id(stored: dict[str, Any]) -> str:
    return str(stored.get("digest") or stored["hash"])


def seal_keys(store: Store, pepper: str | None = None) -> int:
    """Re-seal, under ``pepper``, every record written before keys were peppered and every one
    sealed under the built-in pepper; how many were. Safe to run again, or from several
    processes at once. A record sealed under some other pepper is left as it is (and logged):
    it opens again with that pepper."""
    vaults = _vaults(pepper)
    changes = []
    unopened = 0
    for stored in store.api_keys():
        opened = _opened(stored, vaults)
        if opened is None:
            unopened += 1
            continue
        record, vault = opened
        if vault is vaults[0]:
            continue
        changes.append(
            (_stored_id(stored), vaults[0].digest(record["fingerprint"]), vaults[0].seal(record))
        )
    if unopened:
        _log.warning(
            "%d API key records are sealed under another CONTRIBNET_KEY_PEPPER; they cannot be "
            "used or listed until that pepper is set again",
            unopened,
        )
    if changes:
        store.replace_api_keys(changes)
        _log.info("%d API key records re-sealed under the configured pepper", len(changes))
    return len(changes)


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
    pepper: str | None = None,
    requested_by: str = "system",
) -> str:
    """A new key's secret (printed once; only its digest and sealed record are kept, under
    ``pepper``). A staff key names an existing staff member; an expiry must be in the future.
    The audit trail records it by its public id, as done by ``requested_by``."""
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
    fingerprint = hash_key(secret)
    vault = _vaults(pepper)[0]
    record = {
        "fingerprint": fingerprint,
        "role": parsed.value,
        "staff": staff,
        "created_at": now.isoformat(),
        "expires_at": expires_at,
        "revoked_at": None,
    }
    with audit.unit(store):
        store.put_api_key(vault.digest(fingerprint), vault.seal(record))
        # By its public id only: whom a key is for and its role stay in its sealed record.
        audit.record(store, "key_created", requested_by, [key_id(fingerprint)])
    return secret


def _instant(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).astimezone(UTC)


def _status(expires_at: datetime | None, revoked_at: datetime | None, now: datetime) -> str:
    if revoked_at is not None:
        return "revoked"
    if expires_at is not None and expires_at <= now:
        return "expired"
    return "active"


def _listed(record: dict[str, Any], now: datetime) -> ApiKey:
    created_at = _instant(record["created_at"])
    assert created_at is not None
    expires_at, revoked_at = _instant(record.get("expires_at")), _instant(record.get("revoked_at"))
    return ApiKey.model_validate(
        {
            "id": key_id(record["fingerprint"]),
            "role": record["role"],
            "staff": record["staff"],
            "created_at": created_at,
            "expires_at": expires_at,
            "revoked_at": revoked_at,
            "status": _status(expires_at, revoked_at, now),
        }
    )


def _records(
    stored: Iterable[dict[str, Any]], pepper: str | None
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Every record that opens under ``pepper`` (or the built-in one), with its stored form;
    oldest first."""
    vaults = _vaults(pepper)
    out = [(opened[0], s) for s in stored if (opened := _opened(s, vaults)) is not None]
    return sorted(out, key=lambda pair: (str(pair[0]["created_at"]), pair[0]["fingerprint"]))


def list_keys(
    store: Store, *, now: datetime | None = None, pepper: str | None = None
) -> list[ApiKey]:
    """Every key, oldest first, with whether it is active, expired or revoked."""
    now = now or datetime.now(UTC)
    return [_listed(record, now) for record, _ in _records(store.api_keys(), pepper)]


def revoke_key(
    store: Store,
    public_id: str,
    *,
    now: datetime | None = None,
    pepper: str | None = None,
    requested_by: str = "system",
) -> ApiKey:
    """Revoke a key by its public id (``key-…``); it is refused from the next request on.
    Revoking a revoked key again changes nothing. Raises ``NotFound`` for an unknown id."""
    now = now or datetime.now(UTC)
    prefix = public_id.removeprefix("key-")
    if not public_id.startswith("key-") or len(prefix) < 12:
        raise NotFound("key", public_id)
    matches = [
        (record, stored)
        for record, stored in _records(store.api_keys(), pepper)
        if str(record["fingerprint"]).startswith(prefix)
    ]
    if len(matches) != 1:
        raise NotFound("key", public_id)
    record, stored = matches[0]
    if record.get("revoked_at") is None:
        record = {**record, "revoked_at": now.isoformat()}
        vault = _vaults(pepper)[0]
        revoked = [key_id(record["fingerprint"])]
        with audit.unit(store):
            store.replace_api_keys(
                [(_stored_id(stored), vault.digest(record["fingerprint"]), vault.seal(record))]
            )
            audit.record(store, "key_revoked", requested_by, revoked)
    return _listed(record, now)


def resolve_key(
    store: Store,
    secret: str,
    admin_key: str | None,
    *,
    now: datetime | None = None,
    pepper: str | None = None,
) -> Principal | None:
    """The principal a secret stands for (None: no such key); the bootstrap admin key comes from
    the environment. A revoked or expired key raises :class:`KeyRefused`."""
    if admin_key and hmac.compare_digest(secret.encode(), admin_key.encode()):
        return Principal(Role.ADMIN, key=BOOTSTRAP_KEY_ID)
    fingerprint = hash_key(secret)
    vaults = _vaults(pepper)
    record = None
    for vault in vaults:
        digest = vault.digest(fingerprint)
        sealed = store.find_api_key(digest)
        record = vault.open(sealed) if sealed is not None else None
        if record is not None:
            if vault is not vaults[0]:  # made without the pepper (say by a CLI not given it)
                store.replace_api_keys(
                    [(digest, vaults[0].digest(fingerprint), vaults[0].seal(record))]
                )
            break
    if record is None or not hmac.compare_digest(str(record.get("fingerprint")), fingerprint):
        return None
    name = key_id(fingerprint)
    if record.get("revoked_at"):
        raise KeyRefused(f"API key {name} was revoked at {record['revoked_at']}")
    expires_at = _instant(record.get("expires_at"))
    if expires_at is not None and expires_at <= (now or datetime.now(UTC)):
        raise KeyRefused(f"API key {name} expired at {expires_at.isoformat()}")
    return Principal(Role(record["role"]), record["staff"], name)
