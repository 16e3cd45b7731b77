"""Policies: versions recorded once and never edited, and the one in force at any instant.

Which version is in force
-------------------------
Every recorded version of every policy name is on one timeline. The version in force at an
instant is the one with the latest ``effective_from`` on or before that instant's calendar day in
China Standard Time (:data:`~contribnet.domain.settlement.BUSINESS_TZ`); if several versions share
that ``effective_from``, the one recorded last wins. So a version effective from 2025-03-01
governs deals closed from 2025-03-01T00:00:00+08:00 on, until the next ``effective_from``; a
correction is a new version with the same ``effective_from``. Before the earliest
``effective_from`` no policy is in force, and a deal closed then can only be settled under a
policy named explicitly. A version recorded later never changes a settlement already recorded:
re-settling under it needs a reason (see :mod:`contribnet.services.settlement`).

A version is named ``name@version``; ``name`` alone means that name's latest recorded version.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import tomllib
import weakref
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from contribnet.credit.context import CreditError
from contribnet.credit.registry import payable
from contribnet.domain.errors import NotFound
from contribnet.domain.points import PointsPolicyRecord
from contribnet.domain.policy import Policy, default_policy
from contribnet.domain.settlement import InvalidRequest, PolicyRecord, business_date
from contribnet.paths import POLICIES_DIR
from contribnet.services import audit
from contribnet.store.base import Store

__all__ = [
    "add_policy",
    "ensure_default_policy",
    "find_policy",
    "in_force",
    "in_force_until",
    "numbered_for_storage",
    "parse_policy",
    "policy_document",
    "policy_hash",
    "policy_in_force",
    "policy_record",
    "read_policy_file",
    "recorded_policies",
    "resolve_policy",
    "retried_version",
    "validation_problems",
]

_Recorded = TypeVar("_Recorded", PolicyRecord, PointsPolicyRecord)

#: Previews may read the policy versions recorded up to this many seconds ago (settlements
#: always read them afresh); recording one through this module refreshes them at once.
PREVIEW_POLICY_AGE = 1.0

_recorded: weakref.WeakKeyDictionary[Store, tuple[float, list[PolicyRecord]]] = (
    weakref.WeakKeyDictionary()
)
_recorded_lock = threading.Lock()


def recorded_policies(store: Store, max_age: float = 0.0) -> list[PolicyRecord]:
    """The store's policy versions, read afresh unless read less than ``max_age`` seconds ago."""
    now = time.monotonic()
    if max_age > 0:
        with _recorded_lock:
            cached = _recorded.get(store)
        if cached is not None and now - cached[0] < max_age:
            return cached[1]
    records = store.ledger.policies()
    with _recorded_lock:
        _recorded[store] = (now, records)
    return records


def _forget(store: Store) -> None:
    with _recorded_lock:
        _recorded.pop(store, None)


def policy_hash(policy: BaseModel) -> str:
    """A hash of a policy's every value (name, version and dates included): a credit policy's
    (its keys added later only when set: ``Policy.hashed``) or a points policy's."""
    data = policy.hashed() if isinstance(policy, Policy) else policy.model_dump(mode="json")
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def policy_record(
    policy: Policy, created_by: str, source: str | None = None, now: datetime | None = None
) -> PolicyRecord:
    return PolicyRecord(
        id=f"{policy.name}@{policy.version}",
        name=policy.name,
        version=policy.version,
        effective_from=policy.effective_from,
        model=policy.model,
        description=policy.description,
        hash=policy_hash(policy),
        created_at=now or datetime.now(UTC),
        created_by=created_by,
        policy=policy,
        source=source,
    )


def validation_problems(exc: ValidationError, prefix: str) -> list[tuple[str, str]]:
    """``(field, message)`` per error of a policy's validation, each field under ``prefix``."""
    problems = []
    for err in exc.errors(include_url=False):
        key = ".".join(str(p) for p in err["loc"])
        field = f"{prefix}.{key}" if key else prefix
        message = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        problems.append((field, message))
    return problems


def policy_document(
    data: dict[str, Any] | str, noun: str, field: str = "policy"
) -> tuple[dict[str, Any], str | None]:
    """The keys of a policy given as TOML text or as a JSON object, and the TOML text if any;
    :class:`InvalidRequest` naming ``field`` if it is neither."""
    source = data if isinstance(data, str) else None
    if isinstance(data, str):
        try:
            data = tomllib.loads(data)
        except tomllib.TOMLDecodeError as exc:
            raise InvalidRequest.one(field, f"not TOML: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidRequest.one(field, f"{noun} is a TOML document or a JSON object")
    return dict(data), source


def numbered_for_storage(
    data: dict[str, Any],
    recorded: Sequence[PolicyRecord] | Sequence[PointsPolicyRecord],
    default_name: str,
    field: str = "policy",
) -> dict[str, Any]:
    """The keys of a version to record: ``effective_from`` required, ``name`` defaulting to
    ``default_name``, a missing ``version`` the next whole number after the name's recorded
    versions (a whole-number ``version`` becomes its text)."""
    if "effective_from" not in data:
        raise InvalidRequest.one(
            f"{field}.effective_from", "required: the first day the version applies"
        )
    name = str(data.setdefault("name", default_name))
    if "version" not in data:
        numbers = [int(r.version) for r in recorded if r.name == name and r.version.isdecimal()]
        data["version"] = str(max(numbers, default=0) + 1)
    elif isinstance(data["version"], int) and not isinstance(data["version"], bool):
        data["version"] = str(data["version"])
    return data


def retried_version(
    data: dict[str, Any] | str, policy: BaseModel, recorded: Sequence[_Recorded]
) -> _Recorded | None:
    """The name's latest recorded version if ``data`` gave no version and is otherwise identical
    to it: a retried unnumbered post must not add another, identical version."""
    given = tomllib.loads(data) if isinstance(data, str) else data
    if "version" in given:
        return None
    name = getattr(policy, "name", None)
    same_name = [r for r in recorded if r.name == name]
    if not same_name:
        return None
    latest = max(same_name, key=lambda r: (r.created_at, r.id))
    if latest.policy.model_dump(exclude={"version"}) == policy.model_dump(exclude={"version"}):
        return latest
    return None


def parse_policy(
    data: dict[str, Any] | str,
    *,
    recorded: Sequence[PolicyRecord] = (),
    for_storage: bool = True,
    field: str = "policy",
) -> tuple[Policy, str | None]:
    """A policy from TOML text or a JSON object of the same keys, and the TOML text if any.

    For storage, ``effective_from`` is required, ``name`` defaults to ``default`` and a missing
    ``version`` becomes the next whole number after the name's recorded versions. Problems raise
    :class:`InvalidRequest` naming the key (``policy.stage_weights.test_drive``).
    """
    data, source = policy_document(data, "a policy", field)
    if for_storage:
        data = numbered_for_storage(data, recorded, "default", field)
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        raise InvalidRequest(validation_problems(exc, field)) from None
    if for_storage and "@" in policy.name:
        raise InvalidRequest.one(f"{field}.name", "must not contain '@'")
    return policy, source


def read_policy_file(path: str | Path, field: str = "file") -> str:
    """The text of a policy file; :class:`InvalidRequest` naming ``field`` and the file if it
    cannot be read or is not UTF-8 (TOML is UTF-8 by definition).

    >>> read_policy_file("/no/such/policy.toml")
    Traceback (most recent call last):
    ...
    contribnet.domain.settlement.InvalidRequest: file: cannot read /no/such/policy.toml: ...
    """
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidRequest.one(
            field, f"{path} is not UTF-8 text (byte {exc.start}); a policy is UTF-8 TOML"
        ) from None
    except OSError as exc:
        raise InvalidRequest.one(field, f"cannot read {path}: {exc.strerror or exc}") from None


def ensure_default_policy(store: Store) -> PolicyRecord | None:
    """Record ``policies/default.toml`` (the built-in defaults if absent) if the store has no
    policy yet; the record made, or None if there were policies already."""
    if store.ledger.policies():
        return None
    path = POLICIES_DIR / "default.toml"
    source = path.read_text(encoding="utf-8") if path.exists() else None
    with audit.unit(store):
        record, created = store.ledger.put_policy(
            policy_record(default_policy(), "bootstrap", source)
        )
        if created:
            audit.record(store, "policy_version", record.created_by, [record.id, record.name])
    _forget(store)
    return record


def add_policy(
    store: Store, data: dict[str, Any] | str, created_by: str
) -> tuple[PolicyRecord, bool]:
    """Record a new policy version from TOML text or a JSON object: ``(record, True)``.

    The same ``name@version`` with identical values again, or an unnumbered policy identical to
    its name's latest version, returns ``(the recorded one, False)``; the same ``name@version``
    with other values raises :class:`~contribnet.domain.settlement.RecordConflict`."""
    recorded = store.ledger.policies()
    policy, source = parse_policy(data, recorded=recorded)
    try:
        payable(policy.model, policy)  # an "analysis only" model, unless the policy allows it
    except CreditError as exc:
        raise InvalidRequest.one("policy.model", str(exc)) from None
    retried = retried_version(data, policy, recorded)
    if retried is not None:
        return retried, False
    with audit.unit(store):
        record, created = store.ledger.put_policy(policy_record(policy, created_by, source))
        if created:
            audit.record(store, "policy_version", created_by, [record.id, record.name])
    _forget(store)
    return record, created


def find_policy(records: Sequence[PolicyRecord], ref: str) -> PolicyRecord:
    """The version ``name@version``, or the latest recorded version of ``name``; ``NotFound``."""
    if "@" in ref:
        for record in records:
            if record.id == ref:
                return record
    else:
        named = [r for r in records if r.name == ref]
        if named:
            return max(named, key=lambda r: (r.created_at, r.id))
    raise NotFound("policy", ref)


def in_force(records: Sequence[PolicyRecord], at: datetime | date) -> PolicyRecord | None:
    """The version in force at an instant (or on a business day); None before the first.

    >>> from contribnet.domain.policy import Policy
    >>> v1 = policy_record(Policy(version="1", effective_from=date(2024, 11, 1)), "t")
    >>> v2 = policy_record(Policy(version="2", effective_from=date(2025, 3, 1)), "t")
    >>> in_force([v1, v2], date(2025, 2, 28)).id, in_force([v1, v2], date(2025, 3, 1)).id
    ('default@1', 'default@2')
    >>> in_force([v1, v2], date(2024, 10, 31)) is None
    True
    """
    day = business_date(at) if isinstance(at, datetime) else at
    candidates = [
        (r.effective_from, r.created_at, r.id, r) for r in records if r.effective_from <= day
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda c: c[:3])[3]


def in_force_until(
    records: Sequence[PolicyRecord], record: PolicyRecord
) -> tuple[bool, date | None]:
    """Whether a version is ever in force, and the first day it no longer is (None: open)."""
    later = [
        r
        for r in records
        if r.id != record.id
        and (r.effective_from, r.created_at, r.id)
        > (record.effective_from, record.created_at, record.id)
    ]
    if any(r.effective_from == record.effective_from for r in later):
        return False, None
    return True, min((r.effective_from for r in later), default=None)


def resolve_policy(
    store: Store,
    ref: str | None,
    closed_at: datetime,
    field: str = "policy",
    max_age: float = 0.0,
) -> PolicyRecord:
    """The named version, else the one in force at ``closed_at``; problems name ``field``.
    ``max_age``: see :func:`recorded_policies`."""
    records = recorded_policies(store, max_age)
    if ref:
        try:
            return find_policy(records, ref)
        except NotFound:
            raise InvalidRequest.one(field, f"no policy {ref!r} is recorded") from None
    return policy_in_force(records, closed_at, field)


def policy_in_force(
    records: Sequence[PolicyRecord], closed_at: datetime, field: str = "policy"
) -> PolicyRecord:
    record = in_force(records, closed_at)
    if record is None:
        raise InvalidRequest.one(
            field,
            f"no policy is in force on {business_date(closed_at).isoformat()} "
            "(before every effective_from): name one",
        )
    return record
