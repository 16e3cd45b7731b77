"""Evidence: what backs a contribution -- what it is, where to find it, when, where and by whom.

A touch's (or an activity's) ``evidence`` is one item or a list of items (a test drive may carry
its log and a photo), each ``{kind, ref, captured_at?, captured_by?, location?}``:

- ``kind``: one of :data:`EVIDENCE_KINDS` -- ``crm_record``, ``test_drive_log``, ``photo``,
  ``wechat_message``, ``store_checkin``;
- ``ref``: where the evidence is (a CRM record id, a file name, a message id);
- ``captured_at``: when it was captured (ISO 8601; naive is read as UTC);
- ``captured_by``: who captured it (a staff id, or a system's);
- ``location``: where (a store, an address).

An unknown kind, a missing ``ref`` or a key not listed is refused, naming the field
(``evidence.kind``; ``evidence.1.ref`` for the second item of a list). The item or list is kept as
sent (a single item is not turned into a list, so the event's content hash is that of what was
sent), with its instant in UTC. Evidence written by earlier versions (any JSON object) is read
back as it was stored; unless it names a known kind and a ``ref`` it carries no typed kind, so
:func:`evidence_kinds` finds none in it and it meets no policy's ``evidence_required``.

>>> evidence_kinds({"kind": "test_drive_log", "ref": "td-881"})
frozenset({'test_drive_log'})
>>> evidence_kinds([{"kind": "photo", "ref": "img-1"}, {"note": "an old blob"}])
frozenset({'photo'})
>>> evidence_kinds({"model": "ES6", "minutes": 30})  # stored by an earlier version
frozenset()
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)

from contribnet.domain.limits import MAX_EVIDENCE_BYTES
from contribnet.domain.values import Id, Note, Text, UtcDatetime

__all__ = [
    "EVIDENCE_KINDS",
    "STORED",
    "Evidence",
    "EvidenceField",
    "EvidenceJson",
    "EvidenceKind",
    "evidence_items",
    "evidence_kinds",
    "evidence_refs",
]

EvidenceKind = Literal["crm_record", "test_drive_log", "photo", "wechat_message", "store_checkin"]
#: Every kind of evidence.
EVIDENCE_KINDS: tuple[EvidenceKind, ...] = get_args(EvidenceKind)

#: The validation context of a record read back from a store: its evidence is taken as stored
#: (an earlier version's blob included), since it was checked when it was accepted.
STORED: dict[str, Any] = {"stored": True}


class Evidence(BaseModel):
    """One item of evidence (see the module notes)."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "kind": "test_drive_log",
                    "ref": "td-2025-0105-881",
                    "captured_at": "2025-01-05T10:40:00+08:00",
                    "captured_by": "sf-sh-nio-1-01",
                    "location": "NIO House Shanghai",
                }
            ]
        },
    )

    kind: EvidenceKind
    ref: Annotated[Text, Field(strict=True)]
    captured_at: UtcDatetime | None = None
    captured_by: Id | None = None
    location: Note | None = None


#: Evidence as an event holds it: the JSON of one item or of a list of items (or, read back from
#: a store, an earlier version's JSON object).
EvidenceJson = dict[str, Any] | list[dict[str, Any]]

_one: TypeAdapter[Evidence] = TypeAdapter(Evidence)
_many: TypeAdapter[list[Evidence]] = TypeAdapter(
    Annotated[list[Evidence], Field(min_length=1)]  # an empty list: leave evidence out instead
)


def _json(item: Evidence) -> dict[str, Any]:
    return item.model_dump(mode="json", exclude_none=True)


def _checked(value: Any, _: ValidatorFunctionWrapHandler, info: ValidationInfo) -> EvidenceJson:
    """Typed evidence, kept as its JSON; as stored when read back from a store (``STORED``)."""
    if info.context is not None and info.context.get("stored") and isinstance(value, dict | list):
        return value
    checked: EvidenceJson = (
        [_json(item) for item in _many.validate_python(value)]
        if isinstance(value, list)
        else _json(_one.validate_python(value))
    )
    size = len(json.dumps(checked, ensure_ascii=False, separators=(",", ":")).encode())
    if size > MAX_EVIDENCE_BYTES:
        raise ValueError(f"evidence is {size:,} bytes as JSON; the limit is {MAX_EVIDENCE_BYTES:,}")
    return checked


#: The ``evidence`` field of touches and activities.
EvidenceField = Annotated[
    EvidenceJson, WrapValidator(_checked, json_schema_input_type=Evidence | list[Evidence])
]


def evidence_items(evidence: EvidenceJson | None) -> tuple[Evidence, ...]:
    """The typed items of an event's evidence; an item that is not typed evidence (an earlier
    version's blob) is no item.

    >>> [e.ref for e in evidence_items([{"kind": "photo", "ref": "img-1"}])]
    ['img-1']
    """
    found = []
    for value in _values(evidence):
        if _typed(value):
            try:
                found.append(_one.validate_python(value))
            except ValidationError:
                continue
    return tuple(found)


def evidence_kinds(evidence: EvidenceJson | None) -> frozenset[str]:
    """The kinds of an event's evidence items that name a known kind and a ``ref``.

    Read for every touch by the guards and the flags, so without validating again: a stored
    item was checked when it was accepted, and an earlier version's blob counts only if it names
    a known kind and a ``ref`` too.
    """
    return frozenset(value["kind"] for value in _values(evidence) if _typed(value))


def evidence_refs(evidence: EvidenceJson | None) -> frozenset[str]:
    """The ``ref`` of an event's evidence items that name a known kind (as
    :func:`evidence_kinds`).

    >>> sorted(evidence_refs([{"kind": "photo", "ref": "img-1"}, {"ref": "blob-2"}]))
    ['img-1']
    """
    return frozenset(value["ref"] for value in _values(evidence) if _typed(value))


def _values(evidence: EvidenceJson | None) -> list[Any]:
    if evidence is None:
        return []
    return evidence if isinstance(evidence, list) else [evidence]


def _typed(value: object) -> bool:
    """Whether a stored item names a known kind and a ``ref``."""
    return (
        isinstance(value, dict)
        and value.get("kind") in EVIDENCE_KINDS
        and isinstance(value.get("ref"), str)
        and bool(value["ref"])
    )
