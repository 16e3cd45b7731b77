"""Typed evidence, on both stores: bad evidence is refused naming the field and writes nothing;
evidence stored by earlier versions (any JSON object) still reads, settles and verifies; a policy's
``[evidence_required]`` drops a touch without the evidence, says so, and is part of the policy's
hash."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.flags.conftest import NETWORK, Flags, touch

from contribnet.api.app import create_app
from contribnet.domain.errors import InvalidEvents
from contribnet.domain.events import Touch, canonical_json, event_hash
from contribnet.domain.evidence import STORED, evidence_kinds
from contribnet.domain.policy import Policy
from contribnet.domain.settlement import InvalidRequest
from contribnet.services.credit import preview
from contribnet.services.ingest import ingest_events
from contribnet.services.policies import add_policy, ensure_default_policy, policy_hash
from contribnet.services.settlement import settle
from contribnet.services.verify import verify_settlement
from contribnet.settings import Settings
from contribnet.store.base import RecordedEvent

ADMIN = "evidence-admin-key-0123456789"

STRICT = """
name = "strict"
version = "1"
effective_from = "2024-12-01"
[evidence_required]
test_drive = ["test_drive_log"]
"""


def _drive(id: str, evidence: Any) -> dict[str, Any]:
    return touch(id, "2025-01-07T02:00:00Z", "c-1", "sf-x", evidence=evidence)


@pytest.mark.parametrize(
    ("evidence", "field"),
    [
        ({"kind": "selfie", "ref": "img-1"}, "evidence.kind"),
        ({"kind": "photo"}, "evidence.ref"),
        ({"kind": "photo", "ref": "img-1", "note": "blurry"}, "evidence.note"),
        ([{"kind": "photo", "ref": "img-1"}, {"ref": "img-2"}], "evidence.1.kind"),
        ({"kind": "photo", "ref": "img-1", "captured_at": 1736215200}, "evidence.captured_at"),
        ([], "evidence"),
        ("img-1", "evidence"),
    ],
)
def test_bad_evidence_is_refused_naming_the_field_and_nothing_is_written(
    flags: Flags, evidence: Any, field: str
) -> None:
    store = flags.store
    with pytest.raises(InvalidEvents) as refused:
        ingest_events(store, [*NETWORK, _drive("t-9", evidence)])
    assert [(e.index, e.id, e.field) for e in refused.value.errors] == [
        (len(NETWORK), "t-9", field)
    ]
    assert store.count_events() == {}


def test_the_api_answers_422_naming_the_field(flags: Flags) -> None:
    app = create_app(store=flags.store, settings=Settings(admin_key=ADMIN))
    with TestClient(app, headers={"Authorization": f"Bearer {ADMIN}"}) as client:
        bad = [_drive("t-8", {"kind": "photo", "ref": "img-1"}), _drive("t-9", {"ref": "x"})]
        response = client.post("/v1/events", json={"events": bad})
        assert response.status_code == 422, response.text
        (error,) = response.json()["errors"]
        assert (error["index"], error["id"], error["field"]) == (1, "t-9", "evidence.kind")
        assert flags.store.count_events() == {}
        schema = client.get("/openapi.json").json()["components"]["schemas"]
        assert set(schema["Evidence"]["properties"]["kind"]["enum"]) == {
            "crm_record", "test_drive_log", "photo", "wechat_message", "store_checkin"
        }  # fmt: skip


def test_one_item_or_a_list_is_kept_as_sent_with_its_instant_in_utc(flags: Flags) -> None:
    store = flags.store
    one = {"kind": "test_drive_log", "ref": "TD-9", "captured_at": "2025-01-07T10:30:00+08:00"}
    several = [{"kind": "photo", "ref": "img-9", "location": "NIO Shanghai"}, one]
    ingest_events(store, [*NETWORK, _drive("t-8", one), _drive("t-9", several)])
    touches = {t["id"]: t for t in store.journey("c-1").touches}
    stored_one = {"kind": "test_drive_log", "ref": "TD-9", "captured_at": "2025-01-07T02:30:00Z"}
    assert touches["t-8"]["evidence"] == stored_one
    assert touches["t-9"]["evidence"] == [several[0], stored_one]
    again = ingest_events(store, [_drive("t-8", dict(one, captured_at="2025-01-07T02:30:00Z"))])
    assert (again.accepted, again.duplicates) == (0, 1)  # the same instant: the same content


def _legacy_touch(store: Any) -> None:
    """A test-drive touch as an earlier version stored it: its evidence any JSON object."""
    fields = {
        "id": "t-old",
        "at": "2025-01-07T02:00:00Z",
        "customer": "c-1",
        "staff": "sf-x",
        "store": "st-a",
        "stage": "test_drive",
        "evidence": {"model": "ES6", "minutes": 30, "notes": {"weather": "rain"}},
    }
    event = Touch.model_validate(fields, context=STORED)
    canonical = canonical_json(event)
    store.append([RecordedEvent("t-old", event, canonical, event_hash(canonical), None)])


def test_legacy_evidence_still_reads_settles_and_verifies(flags: Flags) -> None:
    store = flags.store
    ingest_events(store, NETWORK)
    _legacy_touch(store)
    ensure_default_policy(store)
    (old,) = [t for t in store.journey("c-1").touches if t["id"] == "t-old"]
    assert old["evidence"] == {"model": "ES6", "minutes": 30, "notes": {"weather": "rain"}}
    journey = store.deal_journeys(["d-1"])["d-1"]
    (legacy,) = [t for t in journey.touches if t.id == "t-old"]
    assert evidence_kinds(legacy.evidence) == frozenset()  # no typed kind
    settlement, created = settle(store, "d-1", requested_by="test")
    assert created and "sf-x" in {a.id for a in settlement.allocations}
    verified = verify_settlement(store, settlement.id)
    assert verified.status == "reproduced", verified
    assert verified.input.altered_events == []


def test_evidence_required_drops_the_touch_and_says_why(flags: Flags) -> None:
    store = flags.store
    ingest_events(
        store,
        [
            *NETWORK,
            _drive("t-8", {"kind": "photo", "ref": "img-8"}),  # not the kind required
            touch("t-9", "2025-01-08T02:00:00Z", "c-1", "sf-z", store="st-b"),  # none at all
        ],
    )
    _legacy_touch(store)
    ensure_default_policy(store)
    before = preview(store, "d-1", policy="default")
    assert {"sf-x", "sf-z"} <= {a.id for a in before.split.allocations}
    add_policy(store, STRICT, "test")
    after = preview(store, "d-1").split
    assert after.policy.name == "strict"
    assert {a.id for a in after.allocations} == {"sf-y"}  # t-2 carries its test_drive_log
    dropped = {n.id: n for n in after.not_counted if n.code == "no_evidence"}
    assert set(dropped) == {"t-8", "t-9", "t-old"}
    assert dropped["t-9"].reason == (
        "test_drive touch t-9 has no test_drive_log evidence; policy requires it"
    )
    assert sum(a.amount for a in after.allocations) == after.pool


def test_evidence_required_is_part_of_the_policy_hash_and_absent_keys_keep_old_hashes() -> None:
    plain = Policy()
    strict = Policy(evidence_required={"test_drive": ("test_drive_log",)})
    other = Policy(evidence_required={"test_drive": ("test_drive_log", "photo")})
    assert len({policy_hash(plain), policy_hash(strict), policy_hash(other)}) == 3
    # a policy that sets none of the later keys hashes as it did before they existed
    assert "evidence_required" not in plain.hashed() and "hold_flagged" not in plain.hashed()
    before = plain.model_dump(mode="json")
    del before["evidence_required"], before["hold_flagged"]
    text = json.dumps(before, sort_keys=True, separators=(",", ":"))
    assert policy_hash(plain) == hashlib.sha256(text.encode()).hexdigest()[:32]


def test_a_policy_naming_an_unknown_evidence_kind_is_refused_naming_the_key(flags: Flags) -> None:
    store = flags.store
    ensure_default_policy(store)
    with pytest.raises(InvalidRequest) as refused:
        add_policy(store, STRICT.replace('"test_drive_log"', '"selfie"'), "test")
    assert "evidence_required.test_drive.0" in str(refused.value)
    assert [r.id for r in store.ledger.policies()] == ["default@1"]
