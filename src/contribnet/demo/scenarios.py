"""The six scenarios of the domain brief as small hand-built event lists, with who must be credited.

Each :class:`Scenario` is self-contained: its ``events`` (dicts in the ``POST /v1/events``
format) include the brands, stores, staff and customers it needs, so it can be loaded alone;
:func:`all_events` merges all six into one small demo network (shared entities once). Each
scenario names the deals to split and, per deal, the contributors that must be credited, those
that must not, and minimum shares under the default policy.

1. Cross-brand referral -- a NIO advisor refers a customer with a small budget to ONVO, which
   closes; and the reverse, ONVO to NIO.
2. Cross-city assist -- a Harbin customer on holiday is convinced by a Sanya (Hainan) advisor;
   the order is placed back in Harbin.
3. Bulk handover -- the Shanghai ONVO team hands customers over to the NIO team; the handing
   advisor earns credit on those that convert, even one they had never touched.
4. Joint event -- NIO and ONVO stores in one mall run a roadshow together; a customer met there
   credits both organising stores.
5. Order grabbing -- three test drives with advisor X at store A, order closed by advisor Y at
   store B after a discount: X keeps at least a third of the pool.
6. Owner referral -- an owner refers a friend; the owner is credited in points, not cash.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from contribnet.domain.errors import NotFound
from contribnet.domain.events import (
    VOIDABLE_TYPES,
    Customer,
    Deal,
    Handover,
    JointEvent,
    LeadAssignment,
    Referral,
    Staff,
    Store,
    Touch,
    Void,
    event_adapter,
)
from contribnet.domain.fairness import KeyContributor, ScenarioInstance
from contribnet.domain.journey import DealJourney, DealMark, VoidedItem, earlier_live_deals

__all__ = [
    "KEY_CONTRIBUTORS",
    "SCENARIOS",
    "DealCheck",
    "Scenario",
    "all_events",
    "deal_journey",
    "fixture_instances",
    "scenario",
]

Event = dict[str, Any]

YUAN = 100  # fen


@dataclass(frozen=True)
class DealCheck:
    """What a correct split of ``deal`` looks like.

    ``credited`` -- ``(kind, id)`` of everyone who must get a positive amount or points;
    ``not_credited`` -- who must get nothing; ``min_share`` -- id -> the least share they keep
    under the default policy; ``stores`` -- stores that must receive part of the cash.
    """

    deal: str
    credited: frozenset[tuple[str, str]]
    not_credited: frozenset[tuple[str, str]] = frozenset()
    min_share: dict[str, float] = field(default_factory=dict)
    stores: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Scenario:
    number: int
    key: str
    title: str
    story: str
    events: tuple[Event, ...]
    checks: tuple[DealCheck, ...]


# --- shared entities ----------------------------------------------------------------------------

_BRANDS = {
    "nio": {"type": "brand", "id": "nio", "name": "NIO"},
    "onvo": {"type": "brand", "id": "onvo", "name": "ONVO"},
}

_STORES = {
    sid: {"type": "store", "id": sid, "name": name, "brand": brand, "city": city, "region": region}
    | ({"mall": mall} if mall else {})
    for sid, name, brand, city, region, mall in (
        ("st-nio-bj-1", "NIO House Beijing Wangfujing", "nio", "Beijing", "North", None),
        ("st-onvo-bj-1", "ONVO Center Beijing Chaoyang", "onvo", "Beijing", "North", None),
        ("st-nio-hrb-1", "NIO Space Harbin", "nio", "Harbin", "North", None),
        ("st-nio-sanya-1", "NIO House Sanya", "nio", "Sanya", "South", None),
        ("st-onvo-sh-1", "ONVO Center Shanghai Minhang", "onvo", "Shanghai", "East", None),
        ("st-nio-sh-1", "NIO House Shanghai Jing'an", "nio", "Shanghai", "East", "Jing'an Kerry"),
        (
            "st-onvo-sh-2",
            "ONVO Center Shanghai Jing'an",
            "onvo",
            "Shanghai",
            "East",
            "Jing'an Kerry",
        ),
        ("st-nio-hz-a", "NIO Space Hangzhou West Lake", "nio", "Hangzhou", "East", None),
        ("st-nio-hz-b", "NIO Space Hangzhou Binjiang", "nio", "Hangzhou", "East", None),
    )
}


def _staff(sid: str, name: str, store: str, role: str = "fellow") -> Event:
    return {
        "type": "staff",
        "id": sid,
        "name": name,
        "store": store,
        "role": role,
        "from": "2024-01-01",
    }


def _customer(cid: str, name: str, city: str) -> Event:
    return {"type": "customer", "id": cid, "name": name, "city": city}


def _touch(
    tid: str, at: str, customer: str, staff: str, store: str, stage: str, **extra: Any
) -> Event:
    return {
        "type": "touch",
        "id": tid,
        "at": at,
        "customer": customer,
        "staff": staff,
        "store": store,
        "stage": stage,
    } | extra


def _deal(did: str, customer: str, store: str, staff: str, closed_at: str, **extra: Any) -> Event:
    return {
        "type": "deal",
        "id": did,
        "customer": customer,
        "store": store,
        "staff": staff,
        "closed_at": closed_at,
        "amount": 298_000 * YUAN,
        "reward_pool": 5_000 * YUAN,
    } | extra


def _with_entities(brands: list[str], stores: list[str], rest: list[Event]) -> tuple[Event, ...]:
    return tuple([_BRANDS[b] for b in brands] + [_STORES[s] for s in stores] + rest)


# --- 1. cross-brand referral ----------------------------------------------------------------

_S1 = Scenario(
    number=1,
    key="cross_brand_referral",
    title="Cross-brand referral",
    story=(
        "NIO advisor Li Na in Beijing finds Zhang Wei's budget too small for a NIO and refers him "
        "to the ONVO store nearby, where Wang Qiang closes. The reverse: ONVO advisor Zhao Min "
        "refers Sun Yu, who wants a flagship, to NIO, where Chen Jie closes."
    ),
    events=_with_entities(
        ["nio", "onvo"],
        ["st-nio-bj-1", "st-onvo-bj-1"],
        [
            _staff("sf-nio-bj-li", "Li Na", "st-nio-bj-1"),
            _staff("sf-nio-bj-chen", "Chen Jie", "st-nio-bj-1"),
            _staff("sf-onvo-bj-wang", "Wang Qiang", "st-onvo-bj-1"),
            _staff("sf-onvo-bj-zhao", "Zhao Min", "st-onvo-bj-1"),
            _customer("c-s1-zhang", "Zhang Wei", "Beijing"),
            _customer("c-s1-sun", "Sun Yu", "Beijing"),
            # NIO -> ONVO
            _touch(
                "t-s1-1",
                "2025-01-04T03:00:00Z",
                "c-s1-zhang",
                "sf-nio-bj-li",
                "st-nio-bj-1",
                "reception",
            ),
            _touch(
                "t-s1-2",
                "2025-01-04T03:40:00Z",
                "c-s1-zhang",
                "sf-nio-bj-li",
                "st-nio-bj-1",
                "consultation",
                evidence={
                    "kind": "crm_record",
                    "ref": "crm-s1-2: budget under 250k; suggested ONVO L60",
                },
            ),
            {
                "type": "referral",
                "id": "r-s1-1",
                "at": "2025-01-04T04:00:00Z",
                "customer": "c-s1-zhang",
                "to_store": "st-onvo-bj-1",
                "referrer_staff": "sf-nio-bj-li",
            },
            _touch(
                "t-s1-3",
                "2025-01-06T06:00:00Z",
                "c-s1-zhang",
                "sf-onvo-bj-wang",
                "st-onvo-bj-1",
                "reception",
            ),
            _touch(
                "t-s1-4",
                "2025-01-06T06:30:00Z",
                "c-s1-zhang",
                "sf-onvo-bj-wang",
                "st-onvo-bj-1",
                "test_drive",
            ),
            _touch(
                "t-s1-5",
                "2025-01-12T07:00:00Z",
                "c-s1-zhang",
                "sf-onvo-bj-wang",
                "st-onvo-bj-1",
                "order",
            ),
            _deal(
                "d-s1-1",
                "c-s1-zhang",
                "st-onvo-bj-1",
                "sf-onvo-bj-wang",
                "2025-01-12T07:10:00Z",
                amount=206_900 * YUAN,
                reward_pool=3_000 * YUAN,
            ),
            # ONVO -> NIO
            _touch(
                "t-s1-6",
                "2025-02-08T02:30:00Z",
                "c-s1-sun",
                "sf-onvo-bj-zhao",
                "st-onvo-bj-1",
                "consultation",
            ),
            {
                "type": "referral",
                "id": "r-s1-2",
                "at": "2025-02-08T03:00:00Z",
                "customer": "c-s1-sun",
                "to_store": "st-nio-bj-1",
                "referrer_staff": "sf-onvo-bj-zhao",
            },
            _touch(
                "t-s1-7",
                "2025-02-10T05:00:00Z",
                "c-s1-sun",
                "sf-nio-bj-chen",
                "st-nio-bj-1",
                "test_drive",
            ),
            _touch(
                "t-s1-8",
                "2025-02-15T05:00:00Z",
                "c-s1-sun",
                "sf-nio-bj-chen",
                "st-nio-bj-1",
                "order",
            ),
            _deal(
                "d-s1-2",
                "c-s1-sun",
                "st-nio-bj-1",
                "sf-nio-bj-chen",
                "2025-02-15T05:20:00Z",
                amount=528_000 * YUAN,
                reward_pool=8_000 * YUAN,
            ),
        ],
    ),
    checks=(
        DealCheck(
            "d-s1-1",
            credited=frozenset({("staff", "sf-nio-bj-li"), ("staff", "sf-onvo-bj-wang")}),
            stores=frozenset({"st-nio-bj-1", "st-onvo-bj-1"}),
        ),
        DealCheck(
            "d-s1-2",
            credited=frozenset({("staff", "sf-onvo-bj-zhao"), ("staff", "sf-nio-bj-chen")}),
            stores=frozenset({"st-nio-bj-1", "st-onvo-bj-1"}),
        ),
    ),
)

# --- 2. cross-city assist -------------------------------------------------------------------

_S2 = Scenario(
    number=2,
    key="cross_city_assist",
    title="Cross-city assist",
    story=(
        "Liu Yang from Harbin, on holiday in Hainan, test-drives at NIO House Sanya with Lin Hai, "
        "who convinces him. Back home he orders with his Harbin advisor Sun Li. Lin Hai's "
        "contribution is credited to the Sanya store; the delivery after the order does not count."
    ),
    events=_with_entities(
        ["nio"],
        ["st-nio-hrb-1", "st-nio-sanya-1"],
        [
            _staff("sf-nio-hrb-sun", "Sun Li", "st-nio-hrb-1"),
            _staff("sf-nio-sanya-lin", "Lin Hai", "st-nio-sanya-1"),
            _customer("c-s2-liu", "Liu Yang", "Harbin"),
            _touch(
                "t-s2-1",
                "2024-12-02T02:00:00Z",
                "c-s2-liu",
                "sf-nio-hrb-sun",
                "st-nio-hrb-1",
                "lead",
                channel="app",
            ),
            _touch(
                "t-s2-2",
                "2024-12-07T06:00:00Z",
                "c-s2-liu",
                "sf-nio-hrb-sun",
                "st-nio-hrb-1",
                "reception",
            ),
            _touch(
                "t-s2-3",
                "2025-01-18T03:00:00Z",
                "c-s2-liu",
                "sf-nio-sanya-lin",
                "st-nio-sanya-1",
                "consultation",
            ),
            _touch(
                "t-s2-4",
                "2025-01-18T04:00:00Z",
                "c-s2-liu",
                "sf-nio-sanya-lin",
                "st-nio-sanya-1",
                "test_drive",
            ),
            _touch(
                "t-s2-5",
                "2025-01-27T07:00:00Z",
                "c-s2-liu",
                "sf-nio-hrb-sun",
                "st-nio-hrb-1",
                "quote",
            ),
            _touch(
                "t-s2-6",
                "2025-01-28T07:00:00Z",
                "c-s2-liu",
                "sf-nio-hrb-sun",
                "st-nio-hrb-1",
                "order",
            ),
            _deal("d-s2-1", "c-s2-liu", "st-nio-hrb-1", "sf-nio-hrb-sun", "2025-01-28T07:30:00Z"),
            _touch(
                "t-s2-7",
                "2025-03-01T03:00:00Z",
                "c-s2-liu",
                "sf-nio-hrb-sun",
                "st-nio-hrb-1",
                "delivery",
            ),
        ],
    ),
    checks=(
        DealCheck(
            "d-s2-1",
            credited=frozenset({("staff", "sf-nio-hrb-sun"), ("staff", "sf-nio-sanya-lin")}),
            min_share={"sf-nio-sanya-lin": 0.25},
            stores=frozenset({"st-nio-hrb-1", "st-nio-sanya-1"}),
        ),
    ),
)

# --- 3. bulk handover -------------------------------------------------------------------------

_S3_CUSTOMERS = [f"c-s3-{i}" for i in range(1, 6)]

_S3 = Scenario(
    number=3,
    key="bulk_handover",
    title="Bulk handover",
    story=(
        "At year end ONVO cannot deliver in time, so He Jun's Shanghai ONVO team hands its "
        "customers over to Gao Fei's NIO team in one bulk handover. Two of them buy a NIO: one "
        "He Jun had nurtured for weeks, one only in the handover list. He Jun is credited on both."
    ),
    events=_with_entities(
        ["nio", "onvo"],
        ["st-onvo-sh-1", "st-nio-sh-1"],
        [
            _staff("sf-onvo-sh-he", "He Jun", "st-onvo-sh-1", role="team lead"),
            _staff("sf-nio-sh-gao", "Gao Fei", "st-nio-sh-1", role="team lead"),
            *[_customer(c, f"Customer {c[-1]}", "Shanghai") for c in _S3_CUSTOMERS],
            _touch(
                "t-s3-1",
                "2024-11-20T03:00:00Z",
                "c-s3-1",
                "sf-onvo-sh-he",
                "st-onvo-sh-1",
                "reception",
            ),
            _touch(
                "t-s3-2",
                "2024-11-20T03:30:00Z",
                "c-s3-1",
                "sf-onvo-sh-he",
                "st-onvo-sh-1",
                "consultation",
            ),
            _touch(
                "t-s3-3",
                "2024-11-28T05:00:00Z",
                "c-s3-2",
                "sf-onvo-sh-he",
                "st-onvo-sh-1",
                "reception",
            ),
            {
                "type": "handover",
                "id": "h-s3-1",
                "at": "2024-12-20T02:00:00Z",
                "from_staff": "sf-onvo-sh-he",
                "to_staff": "sf-nio-sh-gao",
                "customers": _S3_CUSTOMERS,
            },
            _touch(
                "t-s3-4",
                "2024-12-23T06:00:00Z",
                "c-s3-1",
                "sf-nio-sh-gao",
                "st-nio-sh-1",
                "test_drive",
            ),
            _touch(
                "t-s3-5", "2024-12-29T06:00:00Z", "c-s3-1", "sf-nio-sh-gao", "st-nio-sh-1", "order"
            ),
            _deal("d-s3-1", "c-s3-1", "st-nio-sh-1", "sf-nio-sh-gao", "2024-12-29T06:20:00Z"),
            _touch(
                "t-s3-6",
                "2024-12-24T06:00:00Z",
                "c-s3-5",
                "sf-nio-sh-gao",
                "st-nio-sh-1",
                "test_drive",
            ),
            _touch(
                "t-s3-7", "2024-12-30T08:00:00Z", "c-s3-5", "sf-nio-sh-gao", "st-nio-sh-1", "order"
            ),
            _deal("d-s3-2", "c-s3-5", "st-nio-sh-1", "sf-nio-sh-gao", "2024-12-30T08:30:00Z"),
        ],
    ),
    checks=(
        DealCheck(
            "d-s3-1",
            credited=frozenset({("staff", "sf-onvo-sh-he"), ("staff", "sf-nio-sh-gao")}),
            stores=frozenset({"st-onvo-sh-1", "st-nio-sh-1"}),
        ),
        DealCheck(
            "d-s3-2",
            credited=frozenset({("staff", "sf-onvo-sh-he"), ("staff", "sf-nio-sh-gao")}),
            stores=frozenset({"st-onvo-sh-1", "st-nio-sh-1"}),
        ),
    ),
)

# --- 4. joint event ---------------------------------------------------------------------------

_S4 = Scenario(
    number=4,
    key="joint_event",
    title="Joint event",
    story=(
        "NIO House and the ONVO Center in the Jing'an Kerry mall run a weekend roadshow together. "
        "ONVO's Xu Lei meets Ma Jun there; Ma later test-drives and orders a NIO with Ma Li at NIO "
        "House. Xu Lei is credited as usual, and at store level the roadshow touch is shared by "
        "both organising stores."
    ),
    events=_with_entities(
        ["nio", "onvo"],
        ["st-nio-sh-1", "st-onvo-sh-2"],
        [
            _staff("sf-onvo-sh-xu", "Xu Lei", "st-onvo-sh-2"),
            _staff("sf-nio-sh-ma", "Ma Li", "st-nio-sh-1"),
            _customer("c-s4-ma", "Ma Jun", "Shanghai"),
            {
                "type": "joint_event",
                "id": "je-s4-1",
                "at": "2025-03-08T02:00:00Z",
                "name": "Jing'an Kerry spring roadshow",
                "organisers": ["st-nio-sh-1", "st-onvo-sh-2"],
            },
            _touch(
                "t-s4-1",
                "2025-03-08T05:00:00Z",
                "c-s4-ma",
                "sf-onvo-sh-xu",
                "st-onvo-sh-2",
                "event",
                joint_event="je-s4-1",
            ),
            _touch(
                "t-s4-2",
                "2025-03-15T03:00:00Z",
                "c-s4-ma",
                "sf-nio-sh-ma",
                "st-nio-sh-1",
                "reception",
            ),
            _touch(
                "t-s4-3",
                "2025-03-15T04:00:00Z",
                "c-s4-ma",
                "sf-nio-sh-ma",
                "st-nio-sh-1",
                "test_drive",
            ),
            _touch(
                "t-s4-4", "2025-03-22T06:00:00Z", "c-s4-ma", "sf-nio-sh-ma", "st-nio-sh-1", "order"
            ),
            _deal("d-s4-1", "c-s4-ma", "st-nio-sh-1", "sf-nio-sh-ma", "2025-03-22T06:15:00Z"),
        ],
    ),
    checks=(
        DealCheck(
            "d-s4-1",
            credited=frozenset({("staff", "sf-onvo-sh-xu"), ("staff", "sf-nio-sh-ma")}),
            stores=frozenset({"st-nio-sh-1", "st-onvo-sh-2"}),
        ),
    ),
)

# --- 5. order grabbing ------------------------------------------------------------------------

_S5 = Scenario(
    number=5,
    key="order_grabbing",
    title="Order grabbing",
    story=(
        "Zhou Xin (X) at the West Lake store is assigned Qian Hao as a lead, receives him, adds "
        "him on WeChat, invites him to test drives and takes him on three (one visit logged "
        "twice). Wu Bo (Y) at the "
        "Binjiang store offers a bigger discount and closes the order; a test drive Y logged "
        "without evidence was voided. X keeps at least a third of the pool under the default "
        "policy, and earns activity points for the nurturing."
    ),
    events=_with_entities(
        ["nio"],
        ["st-nio-hz-a", "st-nio-hz-b"],
        [
            _staff("sf-nio-hz-x", "Zhou Xin", "st-nio-hz-a"),
            _staff("sf-nio-hz-y", "Wu Bo", "st-nio-hz-b"),
            _customer("c-s5-qian", "Qian Hao", "Hangzhou"),
            {
                "type": "lead_assignment",
                "id": "la-s5-1",
                "at": "2025-04-05T01:00:00Z",
                "lead": "c-s5-qian",
                "reason": "assigned",
                "staff": "sf-nio-hz-x",
            },
            _touch(
                "t-s5-1",
                "2025-04-05T02:00:00Z",
                "c-s5-qian",
                "sf-nio-hz-x",
                "st-nio-hz-a",
                "reception",
            ),
            {
                "type": "activity",
                "id": "act-s5-1",
                "at": "2025-04-05T02:10:00Z",
                "staff": "sf-nio-hz-x",
                "customer": "c-s5-qian",
                "action": "wechat_add",
            },
            {
                "type": "activity",
                "id": "act-s5-2",
                "at": "2025-04-05T02:20:00Z",
                "staff": "sf-nio-hz-x",
                "customer": "c-s5-qian",
                "action": "test_drive_invite",
                "evidence": {"kind": "wechat_message", "ref": "msg-8812"},
            },
            _touch(
                "t-s5-2",
                "2025-04-05T02:30:00Z",
                "c-s5-qian",
                "sf-nio-hz-x",
                "st-nio-hz-a",
                "test_drive",
            ),
            _touch(
                "t-s5-3",
                "2025-04-12T06:00:00Z",
                "c-s5-qian",
                "sf-nio-hz-x",
                "st-nio-hz-a",
                "test_drive",
            ),
            _touch(
                "t-s5-3b",
                "2025-04-12T06:05:00Z",
                "c-s5-qian",
                "sf-nio-hz-x",
                "st-nio-hz-a",
                "test_drive",
            ),
            _touch(
                "t-s5-4",
                "2025-04-19T03:00:00Z",
                "c-s5-qian",
                "sf-nio-hz-x",
                "st-nio-hz-a",
                "test_drive",
            ),
            _touch(
                "t-s5-5",
                "2025-04-26T07:00:00Z",
                "c-s5-qian",
                "sf-nio-hz-y",
                "st-nio-hz-b",
                "test_drive",
            ),
            {
                "type": "void",
                "id": "v-s5-1",
                "target": "t-s5-5",
                "reason": "no evidence: the test-drive car was at West Lake that day",
            },
            _touch(
                "t-s5-6",
                "2025-04-26T07:30:00Z",
                "c-s5-qian",
                "sf-nio-hz-y",
                "st-nio-hz-b",
                "quote",
                evidence={"kind": "crm_record", "ref": "quote-s5-6: discount 8000 yuan"},
            ),
            _touch(
                "t-s5-7", "2025-04-27T03:00:00Z", "c-s5-qian", "sf-nio-hz-y", "st-nio-hz-b", "order"
            ),
            _deal("d-s5-1", "c-s5-qian", "st-nio-hz-b", "sf-nio-hz-y", "2025-04-27T03:20:00Z"),
        ],
    ),
    checks=(
        DealCheck(
            "d-s5-1",
            credited=frozenset({("staff", "sf-nio-hz-x"), ("staff", "sf-nio-hz-y")}),
            min_share={"sf-nio-hz-x": 1 / 3},
            stores=frozenset({"st-nio-hz-a", "st-nio-hz-b"}),
        ),
    ),
)

# --- 6. owner referral ------------------------------------------------------------------------

_S6 = Scenario(
    number=6,
    key="owner_referral",
    title="Owner referral",
    story=(
        "Tang Yue bought a NIO in November. In March she refers her friend Feng Lin, who buys "
        "one with Ma Li at NIO House Shanghai. Tang Yue is a contributor too, rewarded in points "
        "from the deal's points pool; the cash goes to the staff."
    ),
    events=_with_entities(
        ["nio"],
        ["st-nio-sh-1"],
        [
            _staff("sf-nio-sh-ma", "Ma Li", "st-nio-sh-1"),
            _customer("c-s6-tang", "Tang Yue", "Shanghai"),
            _customer("c-s6-feng", "Feng Lin", "Shanghai"),
            _touch(
                "t-s6-1",
                "2024-11-09T04:00:00Z",
                "c-s6-tang",
                "sf-nio-sh-ma",
                "st-nio-sh-1",
                "test_drive",
            ),
            _deal("d-s6-0", "c-s6-tang", "st-nio-sh-1", "sf-nio-sh-ma", "2024-11-16T04:00:00Z"),
            {
                "type": "referral",
                "id": "r-s6-1",
                "at": "2025-03-01T10:00:00Z",
                "customer": "c-s6-feng",
                "to_store": "st-nio-sh-1",
                "referrer_customer": "c-s6-tang",
            },
            _touch(
                "t-s6-2",
                "2025-03-02T03:00:00Z",
                "c-s6-feng",
                "sf-nio-sh-ma",
                "st-nio-sh-1",
                "reception",
            ),
            _touch(
                "t-s6-3",
                "2025-03-02T03:30:00Z",
                "c-s6-feng",
                "sf-nio-sh-ma",
                "st-nio-sh-1",
                "test_drive",
            ),
            _touch(
                "t-s6-4",
                "2025-03-09T06:00:00Z",
                "c-s6-feng",
                "sf-nio-sh-ma",
                "st-nio-sh-1",
                "order",
            ),
            _deal(
                "d-s6-1",
                "c-s6-feng",
                "st-nio-sh-1",
                "sf-nio-sh-ma",
                "2025-03-09T06:30:00Z",
                points_pool=2000,
            ),
        ],
    ),
    checks=(
        DealCheck(
            "d-s6-1",
            credited=frozenset({("owner", "c-s6-tang"), ("staff", "sf-nio-sh-ma")}),
            stores=frozenset({"st-nio-sh-1"}),
        ),
    ),
)

#: The six scenarios of the domain brief, in its order.
SCENARIOS: tuple[Scenario, ...] = (_S1, _S2, _S3, _S4, _S5, _S6)


def scenario(key: str) -> Scenario:
    """The scenario with this key (or number as text)."""
    for s in SCENARIOS:
        if key in (s.key, str(s.number)):
            return s
    raise KeyError(f"no scenario {key!r}; one of: {', '.join(s.key for s in SCENARIOS)}")


#: Who each hand-built deal's scenario names, as the fairness check holds every model offered for
#: pay to it (:mod:`contribnet.credit.fairness`): the order-grab victim keeps at least a third of
#: the staff cash; everyone else named gets more than 0 (stores: of the cash in ``store_totals``).
KEY_CONTRIBUTORS: dict[str, tuple[KeyContributor, ...]] = {
    "d-s1-1": (KeyContributor("staff", "sf-nio-bj-li", "referrer"),),
    "d-s1-2": (KeyContributor("staff", "sf-onvo-bj-zhao", "referrer"),),
    "d-s2-1": (KeyContributor("staff", "sf-nio-sanya-lin", "assist"),),
    "d-s3-1": (KeyContributor("staff", "sf-onvo-sh-he", "handing"),),
    "d-s3-2": (KeyContributor("staff", "sf-onvo-sh-he", "handing"),),
    "d-s4-1": (
        KeyContributor("staff", "sf-onvo-sh-xu", "event_advisor"),
        KeyContributor("store", "st-nio-sh-1", "organiser"),
        KeyContributor("store", "st-onvo-sh-2", "organiser"),
    ),
    "d-s5-1": (KeyContributor("staff", "sf-nio-hz-x", "victim"),),
    "d-s6-1": (KeyContributor("owner", "c-s6-tang", "owner"),),
}

_NOTES = {"d-s1-1": "nio->onvo", "d-s1-2": "onvo->nio"}


def fixture_instances() -> list[ScenarioInstance]:
    """The hand-built scenarios' deals as scenario instances (``source="fixture"``).

    >>> [(i.scenario, i.deal) for i in fixture_instances()][:2]
    [('cross_brand_referral', 'd-s1-1'), ('cross_brand_referral', 'd-s1-2')]
    """
    return [
        ScenarioInstance(
            s.key, c.deal, KEY_CONTRIBUTORS[c.deal], source="fixture", note=_NOTES.get(c.deal)
        )
        for s in SCENARIOS
        for c in s.checks
    ]


def all_events() -> list[Event]:
    """Every scenario's events as one demo network, each shared entity event once.

    >>> events = all_events()
    >>> sum(e["type"] == "deal" for e in events), sum(e["type"] == "brand" for e in events)
    (9, 2)
    """
    seen: dict[tuple[str, str], Event] = {}
    out: list[Event] = []
    for s in SCENARIOS:
        for e in s.events:
            key = (e["type"], e["id"])
            if key in seen:
                if seen[key] != e:
                    raise ValueError(f"scenarios disagree about {key}")
                continue
            seen[key] = e
            out.append(e)
    return out


def deal_journey(events: Iterable[Event], deal_id: str) -> DealJourney:
    """The :class:`DealJourney` of a deal, assembled in memory from event dicts.

    What a store's ``deal_journey`` returns, without a store: voided events dropped, the deal
    customer's touches (by time), referrals and the handovers that include them, the joint
    events their touches name, and the stores and employment spells of everyone involved. For
    tests, examples and the scenarios; raises ``NotFound`` if the deal is absent or voided.

    >>> j = deal_journey(scenario("order_grabbing").events, "d-s5-1")
    >>> len(j.touches), j.deal.staff, sorted(j.stores)
    (7, 'sf-nio-hz-y', ['st-nio-hz-a', 'st-nio-hz-b'])
    """
    parsed = [event_adapter.validate_python(e) for e in events]
    voided = {e.target for e in parsed if isinstance(e, Void)}
    live = [e for e in parsed if not (e.type in VOIDABLE_TYPES and e.id in voided)]
    deals = [e for e in live if isinstance(e, Deal) and e.id == deal_id]
    if not deals:
        raise NotFound("deal", deal_id)
    deal = deals[-1]
    cid = deal.customer
    touches = sorted(
        (e for e in live if isinstance(e, Touch) and e.customer == cid), key=lambda t: (t.at, t.id)
    )
    referrals = sorted(
        (e for e in live if isinstance(e, Referral) and e.customer == cid),
        key=lambda r: (r.at, r.id),
    )
    handovers = sorted(
        (e for e in live if isinstance(e, Handover) and cid in e.customers),
        key=lambda h: (h.at, h.id),
    )
    named = {t.joint_event for t in touches if t.joint_event}
    joint = sorted(
        (e for e in live if isinstance(e, JointEvent) and e.id in named), key=lambda j: j.id
    )
    assignments = sorted(
        (e for e in live if isinstance(e, LeadAssignment) and e.lead == cid),
        key=lambda a: (a.at, a.id),
    )
    staff_ids = {deal.staff} | {t.staff for t in touches}
    staff_ids |= {h.from_staff for h in handovers} | {h.to_staff for h in handovers}
    staff_ids |= {r.referrer_staff for r in referrals if r.referrer_staff}
    staff_ids |= {a.staff for a in assignments if a.staff}
    spells: dict[str, list[Staff]] = {}
    for e in live:
        if isinstance(e, Staff) and e.id in staff_ids:
            spells.setdefault(e.id, []).append(e)
    store_ids = {deal.store} | {t.store for t in touches} | {r.to_store for r in referrals}
    store_ids |= {o for j in joint for o in j.organisers}
    store_ids |= {s.store for ss in spells.values() for s in ss}
    stores = {e.id: e for e in live if isinstance(e, Store) and e.id in store_ids}
    customers = [e for e in live if isinstance(e, Customer) and e.id == cid]
    marks = {
        e.id: DealMark(e.closed_at, e.id) for e in live if isinstance(e, Deal) and e.customer == cid
    }
    return DealJourney(
        deal=deal,
        customer=customers[-1] if customers else None,
        touches=tuple(touches),
        referrals=tuple(referrals),
        handovers=tuple(handovers),
        joint_events=tuple(joint),
        stores=dict(sorted(stores.items())),
        staff={
            k: tuple(sorted(v, key=lambda s: s.from_ or date.min))
            for k, v in sorted(spells.items())
        },
        earlier_deals=earlier_live_deals(DealMark(deal.closed_at, deal.id), marks.values()),
        voided=tuple(
            sorted(
                VoidedItem(e.at, e.id, e.type)
                for e in parsed
                if isinstance(e, Touch | Referral | Handover)
                and e.id in voided
                and (e.customer == cid if not isinstance(e, Handover) else cid in e.customers)
            )
        ),
        assignments=tuple(assignments) or None,
    )
