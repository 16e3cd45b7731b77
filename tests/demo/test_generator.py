"""The demo network generator: scenarios at their promised counts, determinism, sanity, memory."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import tracemalloc
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from functools import cache
from itertools import islice
from typing import Any

import pytest

from contribnet.demo.generator import (
    MAX_JOURNEY_DAYS,
    SIZES,
    NetworkGenerator,
    Summary,
    generate,
    generate_with_summary,
)
from contribnet.domain.events import DEFAULT_STAGES, canonical_json, event_adapter

Event = dict[str, Any]
HAINAN = {"Haikou", "Sanya"}
SEED = 7

#: What each size promises, scenario by scenario (minimums unless a range is given).
PROMISES: dict[str, dict[str, Any]] = {
    "tiny": {
        "customers": 360,
        "handover_customers": 60,
        "handover_deals": (5, 35),
        "cross_brand_each_way": 4,
        "cross_brand_deals_each_way": 0,
        "assists": 5,
        "assist_deals": 1,
        "joint_event_touches": 5,
        "order_grabs": 3,
        "owner_share_of_regular_deals": (0.2, 0.55),
        "regular_conversion": (0.10, 0.25),
    },
    "demo": {
        "customers": 2_200,
        "handover_customers": 1_050,
        "handover_deals": (200, 450),
        "cross_brand_each_way": 20,
        "cross_brand_deals_each_way": 3,
        "assists": 20,
        "assist_deals": 8,
        "joint_event_touches": 40,
        "order_grabs": 15,
        "owner_share_of_regular_deals": (0.25, 0.5),
        "regular_conversion": (0.12, 0.25),
    },
}
SIZES_UNDER_TEST = tuple(PROMISES)


# --- the network as a test sees it ---------------------------------------------------------------


@dataclasses.dataclass
class Network:
    """One generated stream, indexed."""

    events: list[Event]
    summary: Summary
    stores: dict[str, Event]
    spells: dict[str, list[Event]]
    customers: dict[str, Event]
    joint_events: dict[str, Event]
    touches: dict[str, list[Event]]  # by customer, in stream order
    deals: dict[str, Event]  # by customer
    referrals: list[Event]
    handovers: list[Event]
    voided: set[str]

    def of_type(self, kind: str) -> list[Event]:
        return [e for e in self.events if e["type"] == kind]

    def staff_store(self, staff: str, on: date) -> str | None:
        for spell in self.spells[staff]:
            first = date.fromisoformat(spell["from"])
            last = date.fromisoformat(spell["to"]) if "to" in spell else date.max
            if first <= on <= last:
                return str(spell["store"])
        return None

    def brand_of_staff(self, staff: str, on: date) -> str:
        return str(self.stores[self.staff_store(staff, on) or ""]["brand"])


def _when(event: Event) -> datetime:
    return datetime.fromisoformat(event.get("at") or event["closed_at"])


@cache
def network(size: str, seed: int = SEED) -> Network:
    events, summary = generate_with_summary(size, seed)
    return index(list(events), summary)


def index(events: list[Event], summary: Summary) -> Network:
    by_type: dict[str, list[Event]] = defaultdict(list)
    for e in events:
        by_type[e["type"]].append(e)
    spells: dict[str, list[Event]] = defaultdict(list)
    for s in by_type["staff"]:
        spells[s["id"]].append(s)
    touches: dict[str, list[Event]] = defaultdict(list)
    for t in by_type["touch"]:
        touches[t["customer"]].append(t)
    return Network(
        events=events,
        summary=summary,
        stores={s["id"]: s for s in by_type["store"]},
        spells=dict(spells),
        customers={c["id"]: c for c in by_type["customer"]},
        joint_events={j["id"]: j for j in by_type["joint_event"]},
        touches=dict(touches),
        deals={d["customer"]: d for d in by_type["deal"]},
        referrals=by_type["referral"],
        handovers=by_type["handover"],
        voided={v["target"] for v in by_type["void"]},
    )


def json_lines_digest(events: Iterable[Event]) -> str:
    digest = hashlib.sha256()
    for e in events:
        digest.update((json.dumps(e, sort_keys=True, ensure_ascii=False) + "\n").encode())
    return digest.hexdigest()


def regular_deals(net: Network) -> list[Event]:
    handed = {c for h in net.handovers for c in h["customers"]}
    return [d for d in net.of_type("deal") if d["customer"] not in handed]


@pytest.fixture(params=SIZES_UNDER_TEST)
def size(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# --- the stream is valid and deterministic -------------------------------------------------------


def test_every_event_validates_and_is_already_canonical(size: str) -> None:
    for raw in network(size).events:
        event = event_adapter.validate_python(raw)
        assert json.loads(canonical_json(event)) == raw, raw["id"]


def test_touch_stages_come_from_the_default_stages(size: str) -> None:
    stages = Counter(t["stage"] for t in network(size).of_type("touch"))
    assert set(stages) <= set(DEFAULT_STAGES)
    assert {"lead", "reception", "test_drive", "order", "delivery", "event", "referral"} <= set(
        stages
    )


def test_same_seed_same_bytes_other_seed_other_bytes() -> None:
    first = json_lines_digest(generate("tiny", 11))
    assert json_lines_digest(generate("tiny", 11)) == first
    assert json_lines_digest(generate("tiny", 12)) != first
    assert json_lines_digest(network("demo").events) == json_lines_digest(generate("demo", SEED))


def test_the_summary_matches_the_stream(size: str) -> None:
    net = network(size)
    s = net.summary
    assert s.events == Counter(e["type"] for e in net.events)
    assert s.deals == len(net.deals) == s.events["deal"]
    assert s.customers == len(net.customers) == PROMISES[size]["customers"]
    assert s.voids == len(net.voided) == s.events["void"]
    assert s.handover_customers == sum(len(h["customers"]) for h in net.handovers)
    assert s.owner_referrals == sum("referrer_customer" in r for r in net.referrals)
    assert s.staff == len(net.spells)
    assert s.stores == len(net.stores)
    assert s.joint_events == len(net.joint_events)
    assert sum(s.journeys.values()) == s.customers
    assert sum(s.journey_deals.values()) == s.deals


# --- referential sanity --------------------------------------------------------------------------


def test_entities_come_first_then_activity_in_time_order(size: str) -> None:
    kinds = [e["type"] for e in network(size).events]
    entity_order = ["brand", "store", "staff", "customer", "joint_event"]
    first_activity = next(i for i, k in enumerate(kinds) if k not in entity_order)
    entities = [k for k in kinds[:first_activity]]
    assert entities == sorted(entities, key=entity_order.index)
    assert set(kinds[first_activity:]) <= {"touch", "referral", "handover", "deal", "void"}
    times = [_when(e) for e in network(size).events[first_activity:] if e["type"] != "void"]
    assert times == sorted(times)


def test_ids_are_unique_and_readable(size: str) -> None:
    net = network(size)
    keys = Counter(
        f"{e['id']}@{e['from']}" if e["type"] == "staff" else e["id"] for e in net.events
    )
    assert max(keys.values()) == 1
    prefixes = {"store": "st-", "staff": "sf-", "customer": "c-", "touch": "t-", "deal": "d-"}
    for e in net.events:
        if e["type"] in prefixes:
            assert e["id"].startswith(prefixes[e["type"]])


def test_activity_references_existing_entities(size: str) -> None:
    net = network(size)
    for t in net.of_type("touch"):
        assert t["customer"] in net.customers
        assert t["store"] in net.stores
        # the staff member works at that very store on that day
        assert net.staff_store(t["staff"], _when(t).date()) == t["store"], t
        if "joint_event" in t:
            assert t["store"] in net.joint_events[t["joint_event"]]["organisers"]
    for d in net.of_type("deal"):
        assert net.staff_store(d["staff"], _when(d).date()) == d["store"]
        assert d["customer"] in net.customers
    for r in net.referrals:
        assert r["to_store"] in net.stores and r["customer"] in net.customers
    for h in net.handovers:
        assert set(h["customers"]) <= set(net.customers)
    ids = {e["id"] for e in net.events}
    assert net.voided <= ids


def test_a_deal_comes_after_its_touches(size: str) -> None:
    net = network(size)
    position = {id(e): i for i, e in enumerate(net.events)}
    for customer, deal in net.deals.items():
        touches = net.touches[customer]
        assert max(_when(t) for t in touches) <= _when(deal)
        assert max(position[id(t)] for t in touches) < position[id(deal)]
        # the closer touched the customer at the deal's store
        assert any(t["staff"] == deal["staff"] and t["store"] == deal["store"] for t in touches)


def test_voids_follow_their_touch_and_give_a_reason(size: str) -> None:
    net = network(size)
    seen: set[str] = set()
    for e in net.events:
        if e["type"] == "void":
            assert e["target"] in seen and e["target"].startswith("t-") and e["reason"]
        seen.add(e["id"])
    share = len(net.voided) / len(net.of_type("touch"))
    assert 0.002 < share < 0.03


def test_duplicate_visit_logs_are_there(size: str) -> None:
    net = network(size)
    doubles = 0
    for touches in net.touches.values():
        for a, b in zip(touches, touches[1:], strict=False):
            same = all(a[k] == b[k] for k in ("staff", "store", "stage"))
            if same and (_when(b) - _when(a)).total_seconds() <= 300:
                doubles += 1
    assert doubles >= net.summary.duplicate_visits >= 1


def test_journeys_last_at_most_max_journey_days(size: str) -> None:
    net = network(size)
    handed = {c for h in net.handovers for c in h["customers"]}
    for customer, touches in net.touches.items():
        if customer in handed:
            continue
        times = [_when(t) for t in touches]
        if customer in net.deals:
            times.append(_when(net.deals[customer]))
        assert (max(times) - min(times)).days <= MAX_JOURNEY_DAYS


def test_money_is_realistic_integer_fen(size: str) -> None:
    for d in network(size).of_type("deal"):
        assert isinstance(d["amount"], int) and isinstance(d["reward_pool"], int)
        assert 100_000 * 100 <= d["amount"] <= 500_000 * 100
        assert 1_000 * 100 <= d["reward_pool"] <= 8_000 * 100


# --- the network's shape -------------------------------------------------------------------------


def test_cities_regions_malls_and_roles() -> None:
    net = network("demo")
    cities = {s["city"]: s["region"] for s in net.stores.values()}
    assert len(cities) >= 30
    assert cities["Shanghai"] == "East" and cities["Harbin"] == "Northeast"
    assert cities["Haikou"] == cities["Sanya"] == "South"
    malls = defaultdict(set)
    for s in net.stores.values():
        if "mall" in s:
            malls[(s["city"], s["mall"])].add(s["brand"])
    assert sum(brands == {"nio", "onvo"} for brands in malls.values()) >= 15
    roles = {spell["role"] for spells in net.spells.values() for spell in spells}
    assert {"advisor", "product_expert", "delivery", "store_manager"} <= roles


def test_some_staff_move_stores(size: str) -> None:
    net = network(size)
    movers = [s for s in net.spells.values() if len(s) > 1]
    assert movers
    for first, second in movers:
        assert first["to"] < second["from"] and first["store"] != second["store"]


def test_conversion_is_realistic(size: str) -> None:
    net = network(size)
    handed = net.summary.handover_customers
    regular = len(regular_deals(net)) / (len(net.customers) - handed)
    lo, hi = PROMISES[size]["regular_conversion"]
    assert lo <= regular <= hi


def test_journeys_wander_across_stores_brands_and_cities(size: str) -> None:
    net = network(size)
    wandering = cross_city = 0
    for customer, touches in net.touches.items():
        stores = {t["store"] for t in touches}
        wandering += len(stores) > 1
        home = net.customers[customer]["city"]
        cross_city += any(net.stores[s]["city"] != home for s in stores)
    assert wandering >= 0.1 * len(net.customers)
    assert cross_city >= 0.02 * len(net.customers)


# --- the six scenarios ---------------------------------------------------------------------------


def test_cross_brand_referrals_both_ways(size: str) -> None:
    net = network(size)
    promise = PROMISES[size]
    referrals: Counter[str] = Counter()
    converted: Counter[str] = Counter()
    for r in net.referrals:
        if "referrer_staff" not in r:
            continue
        source = net.brand_of_staff(r["referrer_staff"], _when(r).date())
        target = net.stores[r["to_store"]]["brand"]
        assert source != target
        direction = f"{source}->{target}"
        referrals[direction] += 1
        deal = net.deals.get(r["customer"])
        if deal and net.stores[deal["store"]]["brand"] == target and _when(deal) > _when(r):
            converted[direction] += 1
    for direction in ("nio->onvo", "onvo->nio"):
        assert referrals[direction] >= promise["cross_brand_each_way"]
        assert converted[direction] >= promise["cross_brand_deals_each_way"]
    assert referrals == net.summary.cross_brand_referrals
    assert converted == net.summary.cross_brand_deals


def test_holiday_cross_city_assists(size: str) -> None:
    """A customer from elsewhere touched in Hainan; some order back home, in another city."""
    net = network(size)
    promise = PROMISES[size]
    assists = deals_elsewhere = 0
    for customer, touches in net.touches.items():
        home = net.customers[customer]["city"]
        if home in HAINAN:
            continue
        if any(net.stores[t["store"]]["city"] in HAINAN for t in touches):
            assists += 1
            deal = net.deals.get(customer)
            if deal and net.stores[deal["store"]]["city"] not in HAINAN:
                deals_elsewhere += 1
    assert assists >= promise["assists"]
    assert deals_elsewhere >= promise["assist_deals"]
    # a Harbin customer in Hainan, in the cold season, is among them
    harbin_in_hainan = [
        t
        for c, touches in net.touches.items()
        if net.customers[c]["city"] == "Harbin"
        for t in touches
        if net.stores[t["store"]]["city"] in HAINAN
    ]
    assert harbin_in_hainan or size == "tiny"


def test_year_end_bulk_handover(size: str) -> None:
    """Shanghai ONVO advisors hand their pool to NIO Shanghai at year end; hundreds convert."""
    net = network(size)
    promise = PROMISES[size]
    handed = [c for h in net.handovers for c in h["customers"]]
    assert len(handed) == len(set(handed)) == promise["handover_customers"]
    for h in net.handovers:
        assert h["at"].startswith("2024-12-27")
        on = _when(h).date()
        assert net.staff_store(h["from_staff"], on) == "st-sh-onvo-1"
        assert net.staff_store(h["to_staff"], on) == "st-sh-nio-1"
        for customer in h["customers"]:
            before = [t for t in net.touches[customer] if _when(t) < _when(h)]
            assert any(t["staff"] == h["from_staff"] for t in before)
    converted = [
        net.deals[c]
        for c in handed
        if c in net.deals and net.stores[net.deals[c]["store"]]["brand"] == "nio"
    ]
    lo, hi = promise["handover_deals"]
    assert lo <= len(converted) <= hi
    assert len(converted) == net.summary.handover_deals


def test_joint_mall_events(size: str) -> None:
    net = network(size)
    for event in net.joint_events.values():
        organisers = [net.stores[s] for s in event["organisers"]]
        assert {s["brand"] for s in organisers} == {"nio", "onvo"}
        assert len({s["mall"] for s in organisers}) == 1
    at_events = [t for t in net.of_type("touch") if "joint_event" in t]
    assert len(at_events) >= PROMISES[size]["joint_event_touches"]
    for t in at_events:
        event = net.joint_events[t["joint_event"]]
        assert t["stage"] == "event" and _when(t).date() == _when(event).date()


def test_order_grabbing(size: str) -> None:
    """Three test drives with X at store A, then Y at store B closes the order."""
    net = network(size)
    grabs = 0
    for customer, deal in net.deals.items():
        drives = Counter(
            (t["staff"], t["store"]) for t in net.touches[customer] if t["stage"] == "test_drive"
        )
        farmed = [(x, a) for (x, a), n in drives.items() if n >= 3]
        if any(x != deal["staff"] and a != deal["store"] for x, a in farmed):
            grabs += 1
    assert grabs >= PROMISES[size]["order_grabs"]
    assert grabs >= net.summary.order_grabs


def test_owner_referrals_are_a_large_share_of_deals(size: str) -> None:
    net = network(size)
    position = {id(e): i for i, e in enumerate(net.events)}
    referred = set()
    for r in net.referrals:
        if "referrer_customer" not in r:
            continue
        owner_deal = net.deals[r["referrer_customer"]]  # the referrer is an earlier buyer
        assert _when(owner_deal) < _when(r) and position[id(owner_deal)] < position[id(r)]
        referred.add(r["customer"])
    deals = regular_deals(net)
    share = sum(d["customer"] in referred for d in deals) / len(deals)
    lo, hi = PROMISES[size]["owner_share_of_regular_deals"]
    assert lo <= share <= hi


def test_counts_hold_for_other_seeds() -> None:
    """The tiny promises do not depend on a lucky seed."""
    for seed in (1, 2, 3):
        s = generate_with_summary("tiny", seed)
        events, summary = s
        for _ in events:
            pass
        assert min(summary.cross_brand_referrals.values()) >= 4
        assert summary.cross_city_assists >= 5 and summary.order_grabs >= 3
        assert summary.joint_event_touches >= 5 and summary.handover_customers == 60
        assert 0.15 <= summary.conversion <= 0.3


def test_rates_at_scale() -> None:
    """Without the one-off handover dominating, owner referrals are 30-50% of deals and about
    one customer in five buys (a slice of the ``m`` size: its shape, fewer customers)."""
    spec = dataclasses.replace(SIZES["m"], customers=20_000)
    gen = NetworkGenerator(spec, SEED)
    for _ in gen.events():
        pass
    s = gen.summary
    assert 0.3 <= s.owner_referral_deals / s.deals <= 0.5
    assert 0.15 <= s.conversion <= 0.25
    assert s.cross_brand_referrals["nio->onvo"] > s.cross_brand_referrals["onvo->nio"] > 0


# --- streaming in bounded memory -----------------------------------------------------------------


def test_customers_of_l_stream_without_growing_state() -> None:
    """A customer is a pure function of the seed and their number: nothing is kept per customer.

    Streaming the first 40,000 events of ``l`` allocates no more at its peak than streaming
    the first 4,000 do (plus noise), and a customer far down the list is the same whether or
    not the ones before were generated.
    """
    late = 4_000_000

    def peak_of_first(n: int) -> int:
        gen = NetworkGenerator("l", SEED)
        skeleton = gen.net  # built before tracing: stores and staff, a few thousand entities
        assert skeleton.stores
        tracemalloc.start()
        for _ in islice(gen.entities(), n):
            pass
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak

    assert peak_of_first(40_000) < peak_of_first(4_000) + 1_000_000
    fresh = NetworkGenerator("l", SEED)
    walked = NetworkGenerator("l", SEED)
    for _ in islice(walked.entities(), 20_000):
        pass
    assert fresh.profile(late) == walked.profile(late)


def _pending_by_day(gen: NetworkGenerator, events: Iterator[Event]) -> dict[str, int]:
    """The number of planned-but-unreleased events after each simulated day's last touch."""
    pending: dict[str, int] = {}
    for e in events:
        if e["type"] == "touch":
            pending[e["at"][:10]] = gen.pending
    return pending


#: ``l``'s shape (cities, stores, staff, two-year span) with 1/100 of its customers per day.
#: The year-end handover pool is left out: it is the same 1,050 customers in every size, so at
#: 1/100 scale it would weigh a hundred times more than it does in ``l``.
L_SCALE = 100
L_SCALED = dataclasses.replace(
    SIZES["l"], customers=SIZES["l"].customers // L_SCALE, handover_customers=0
)
L_NO_POOL = dataclasses.replace(SIZES["l"], handover_customers=0)


@cache
def scaled_l_run() -> tuple[dict[str, int], Summary, NetworkGenerator]:
    gen = NetworkGenerator(L_SCALED, SEED)
    pending = _pending_by_day(gen, gen.activity())
    return pending, gen.summary, gen


def test_waiting_events_plateau_instead_of_growing() -> None:
    """The activity's state is the journeys in flight: it stops growing once the oldest journeys
    finish, and stays flat however long the stream runs.

    At ``l``'s shape with 1/100 of its customers, the events waiting at any time in the second
    year are no more than in the months after warm-up, and stay under ``customers per day x
    MAX_JOURNEY_DAYS x 4``; the rings of recent owners stay at their bound.
    """
    pending, summary, gen = scaled_l_run()
    warm = max(n for d, n in pending.items() if "2025-03-01" <= d < "2025-11-01")
    late = max(n for d, n in pending.items() if "2025-11-01" <= d < "2026-10-01")
    assert late <= 1.15 * warm
    per_day = L_SCALED.customers / L_SCALED.days
    assert summary.peak_pending <= per_day * MAX_JOURNEY_DAYS * 4
    assert all(len(ring) <= 500 for ring in gen.recent_owners.values())


def test_waiting_events_scale_with_customers_per_day() -> None:
    """The first days of the real ``l`` hold 100 times the waiting events of the 1/100 run, so
    ``l``'s plateau is 100 times the plateau above."""
    days = "2024-11-04"
    waiting = []
    for spec in (L_NO_POOL, L_SCALED):
        gen = NetworkGenerator(spec, SEED)
        waiting.append(_pending_by_day(gen, gen.activity(days=4))[days])
    assert 0.85 * L_SCALE <= waiting[0] / waiting[1] <= 1.15 * L_SCALE


def test_projected_l_memory_is_under_1_gib() -> None:
    """Bytes per waiting event (traced while the 1/100 run warms up) x ``l``'s projected plateau
    (100 x the 1/100 run's peak) stays well under 1 GiB; ``benchmarks/generate.py`` measures the
    real run's peak RSS."""
    gen = NetworkGenerator(L_SCALED, SEED)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    traced, waiting = 0, 0
    for e in gen.activity(days=120):
        if e["type"] == "touch" and e["at"] >= "2025-02-20":
            traced, waiting = tracemalloc.get_traced_memory()[0] - before, gen.pending
            break
    tracemalloc.stop()
    per_event = traced / waiting
    assert 200 < per_event < 2_000
    projected = per_event * L_SCALE * scaled_l_run()[1].peak_pending
    assert projected < 0.6 * 2**30
