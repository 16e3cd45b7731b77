"""The demo network: a realistic NIO/ONVO collaboration network, streamed as events.

``generate(size, seed)`` yields the event dicts of ``POST /v1/events``: the brands, the stores of
about thirty cities (some NIO and ONVO stores share a mall), the staff's employment spells (some
staff move stores), the customers, the joint mall events, and then the activity — touches,
referrals, handovers, deals and voids — in time order. Every scenario of the domain brief appears at
a realistic rate: cross-brand referrals both ways, holiday cross-city assists in Hainan, the
year-end bulk handover from the Shanghai ONVO team to NIO, joint mall events, order grabbing and
owner referrals; plus the flaws real records have (voided touches, visits logged twice).

How the stream stays small in memory
------------------------------------
Entities are few (stores, staff) or computed from their index (a customer's city, name, start date
and journey archetype are a hash of the seed and the index, so they are never stored). Journeys
start in customer order, day by day; each is planned whole when it starts and its events wait in a
heap until the clock reaches them. A journey lasts at most ``MAX_JOURNEY_DAYS``, so the heap holds
about ``customers per day x MAX_JOURNEY_DAYS`` journeys whatever the size; the only other state is
a bounded ring of recent buyers per city (the owners who refer friends). The same seed gives the
same events, byte for byte.
"""

from __future__ import annotations

import heapq
import random
from bisect import bisect_left
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import accumulate
from typing import Any, NamedTuple

from contribnet.domain.evidence import EvidenceKind
from contribnet.domain.fairness import KeyContributor, ScenarioInstance

__all__ = [
    "CITIES",
    "MAX_JOURNEY_DAYS",
    "SIZES",
    "START",
    "City",
    "NetworkGenerator",
    "SizeSpec",
    "Summary",
    "generate",
    "generate_with_summary",
    "scenario_instances",
]

Event = dict[str, Any]

# --- time ---------------------------------------------------------------------------------------
# Times are integer seconds since the Unix epoch (UTC); stores keep China Standard Time (UTC+8)
# and open 09:30-21:30 local, which is 01:30-13:30 UTC on the same calendar date.

_DAY = 86_400
_CST = 8 * 3600
_OPEN = 9 * 3600 + 1800
_CLOSE = 21 * 3600 + 1800
_EPOCH = date(1970, 1, 1)

#: The first day of the simulated span: the month the collaboration network went live at NIO.
START = date(2024, 11, 1)
#: No regular journey lasts longer than this (its events all fall within this many days).
MAX_JOURNEY_DAYS = 120

_date_text: dict[int, str] = {}
_clock_text: dict[int, str] = {}


def _day_of(d: date) -> int:
    """Days since the Unix epoch."""
    return (d - _EPOCH).days


def _date_of(day: int) -> date:
    return _EPOCH + timedelta(days=day)


def _at(day: int, local_seconds: int) -> int:
    """The instant ``local_seconds`` after local midnight of ``day`` (China Standard Time)."""
    return day * _DAY + local_seconds - _CST


def _local_day(t: int) -> int:
    return (t + _CST) // _DAY


def _stamp(t: int) -> str:
    """ISO 8601 in UTC, e.g. ``2025-01-05T02:00:00Z``."""
    day, seconds = divmod(t, _DAY)
    text = _date_text.get(day)
    if text is None:
        text = _date_text[day] = _date_of(day).isoformat()
    clock = _clock_text.get(seconds)
    if clock is None:
        hours, rest = divmod(seconds, 3600)
        clock = _clock_text[seconds] = f"T{hours:02d}:{rest // 60:02d}:{rest % 60:02d}Z"
    return text + clock


#: Chinese New Year's Eve by year: the Spring Festival holiday and the winter trips around it.
_NEW_YEARS_EVE = {
    2024: date(2024, 2, 9),
    2025: date(2025, 1, 28),
    2026: date(2026, 2, 16),
    2027: date(2027, 2, 5),
    2028: date(2028, 1, 25),
}

#: Fixed-date holidays as ((month, day) first, (month, day) last).
_FIXED_HOLIDAYS = (
    ((12, 30), (12, 31)),  # New Year (with 1 January of the next year, below)
    ((1, 1), (1, 1)),
    ((5, 1), (5, 5)),  # Labour Day
    ((7, 15), (8, 20)),  # summer holidays
    ((10, 1), (10, 7)),  # National Day golden week
)


def _holidays(first: date, last: date) -> list[tuple[int, int]]:
    """Holiday windows ``(first_day, last_day)`` overlapping ``first..last``, sorted."""
    windows: set[tuple[int, int]] = set()
    for year in range(first.year - 1, last.year + 2):
        eve = _NEW_YEARS_EVE.get(year)
        if eve is not None:
            windows.add((_day_of(eve) - 3, _day_of(eve) + 7))
        for (m1, d1), (m2, d2) in _FIXED_HOLIDAYS:
            windows.add((_day_of(date(year, m1, d1)), _day_of(date(year, m2, d2))))
    lo, hi = _day_of(first), _day_of(last)
    return sorted(w for w in windows if w[1] >= lo and w[0] <= hi)


# --- geography and catalogue --------------------------------------------------------------------


@dataclass(frozen=True)
class City:
    """A city where the brands sell; ``weight`` is its share of buyers, ``mall`` a shared mall."""

    code: str
    name: str
    region: str
    weight: float
    tier: int
    mall: str | None = None

    @property
    def northern(self) -> bool:
        """Cold-winter cities whose people spend the holidays in Hainan."""
        return self.region in ("North", "Northeast", "Northwest")

    @property
    def hainan(self) -> bool:
        return self.code in ("hk", "sya")


CITIES: tuple[City, ...] = (
    City("sh", "Shanghai", "East", 10, 1, "Jing'an Kerry Centre"),
    City("hz", "Hangzhou", "East", 6, 1, "Hubin InTime in77"),
    City("nj", "Nanjing", "East", 4, 2, "Deji Plaza"),
    City("suz", "Suzhou", "East", 4, 2, "Suzhou Center"),
    City("hf", "Hefei", "East", 3, 2, "Hefei Intime Centre"),
    City("nb", "Ningbo", "East", 2.5, 2),
    City("qd", "Qingdao", "East", 2.5, 2, "Qingdao MixC"),
    City("jn", "Jinan", "East", 2, 2),
    City("xm", "Xiamen", "East", 2, 2, "Xiamen SM City"),
    City("fz", "Fuzhou", "East", 1.5, 2),
    City("bj", "Beijing", "North", 9, 1, "Sanlitun Taikoo Li"),
    City("tj", "Tianjin", "North", 3, 2, "Tianjin Joy City"),
    City("sjz", "Shijiazhuang", "North", 1.5, 2),
    City("ty", "Taiyuan", "North", 1.2, 2),
    City("hrb", "Harbin", "Northeast", 2, 2, "Harbin Joy City"),
    City("cc", "Changchun", "Northeast", 1.5, 2),
    City("sy", "Shenyang", "Northeast", 2, 2, "Shenyang MixC"),
    City("dl", "Dalian", "Northeast", 1.5, 2),
    City("gz", "Guangzhou", "South", 7, 1, "Tianhe City"),
    City("sz", "Shenzhen", "South", 8, 1, "Shenzhen Bay MixC"),
    City("dg", "Dongguan", "South", 2.5, 2),
    City("nn", "Nanning", "South", 1.5, 2),
    City("hk", "Haikou", "South", 1.5, 2, "Haikou Mission Hills"),
    City("sya", "Sanya", "South", 1, 2, "Sanya International Duty Free City"),
    City("wh", "Wuhan", "Central", 4, 2, "Wuhan Tiandi"),
    City("cs", "Changsha", "Central", 3, 2, "Changsha IFS"),
    City("zz", "Zhengzhou", "Central", 3, 2, "Zhengzhou David Mall"),
    City("cd", "Chengdu", "Southwest", 6, 1, "Chengdu Taikoo Li"),
    City("cq", "Chongqing", "Southwest", 4, 2, "Chongqing Raffles City"),
    City("km", "Kunming", "Southwest", 1.5, 2),
    City("gy", "Guiyang", "Southwest", 1, 2),
    City("xa", "Xi'an", "Northwest", 3, 2, "Xi'an SKP"),
    City("lz", "Lanzhou", "Northwest", 1, 2),
)

#: How much more often people of a city winter in Hainan (Harbin's snowbirds above all).
_SNOWBIRDS = {"hrb": 4.0, "cc": 2.5, "sy": 2.5, "dl": 1.5}

_BRANDS = {"nio": "NIO", "onvo": "ONVO"}
#: Of a city's buyers, the share who start at NIO (the rest start at ONVO).
_NIO_SHARE = 0.6

#: Models by brand: (model, list price, price with battery-as-a-service), in yuan.
_MODELS: dict[str, tuple[tuple[str, int, int], ...]] = {
    "nio": (
        ("ET5", 298_000, 228_000),
        ("ET5T", 298_000, 228_000),
        ("ES6", 338_000, 268_000),
        ("EC6", 358_000, 288_000),
        ("ET7", 428_000, 358_000),
        ("ES8", 498_000, 428_000),
    ),
    "onvo": (("L60", 206_900, 149_900), ("L90", 265_900, 179_900)),
}
_DEPOSIT_FEN = {"nio": 500_000, "onvo": 200_000}
#: Points for the deal's contributors who are paid in points (referring owners).
_POINTS_POOL = {"nio": 3_000, "onvo": 2_000}

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
)
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕彬晨宇浩然子轩梓涵欣怡博文"

_LEAD_CHANNELS = ("app", "app", "web", "phone", "douyin", "wechat")
_FOLLOW_UPS = ("wechat_added", "material_sent", "store_invite", "test_drive_invite", "call")
_VOID_REASONS = (
    "logged against the wrong customer",
    "test drive did not take place",
    "staff member was not on shift (audit)",
    "entered by mistake",
)
_DUPLICATE_REASON = "duplicate visit log"
_P_VOID = 0.008
_P_DUPLICATE = 0.003
_P_WANDER = 0.1


# --- sizes --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SizeSpec:
    """How big a network to generate.

    ``customers`` journeys start evenly over ``days`` days from ``START``; besides them the
    Shanghai ONVO team holds ``handover_customers`` leads it hands to NIO at the end of 2024.
    Stores per brand and city are given for tier-1 cities and for the others.
    """

    name: str
    customers: int
    handover_customers: int
    days: int
    cities: tuple[str, ...] | None
    nio_stores: tuple[int, int]
    onvo_stores: tuple[int, int]
    advisors: tuple[int, int]
    joint_event_gap: tuple[int, int]


_TINY_CITIES = ("sh", "hz", "bj", "hrb", "sy", "gz", "sz", "hk", "sya", "cd", "wh", "xa")

#: The sizes (figures for seed 1):
#:
#: - ``tiny``: 12 cities, 360 customers (60 of them the handover pool), ~75 deals, ~2,100 events.
#: - ``demo``: 33 cities, 2,200 customers of whom 1,050 are the Shanghai ONVO pool handed to NIO
#:   (~300 of those buy), ~550 deals, ~12,700 events.
#: - ``m``: 471,050 customers over a year, ~99k deals, ~1.7M touches, ~2.4M events.
#: - ``l``: 4.7M customers over two years, ~1M deals, ~17M touches, ~24M events. With about one
#:   customer in five buying, every deal comes with four customers who did not buy, each touched
#:   at least once: ~17 touches per deal, not 10.
SIZES: dict[str, SizeSpec] = {
    "tiny": SizeSpec("tiny", 300, 60, 151, _TINY_CITIES, (2, 1), (1, 1), (3, 4), (35, 50)),
    "demo": SizeSpec("demo", 1_150, 1_050, 151, None, (3, 1), (2, 1), (4, 8), (21, 35)),
    "m": SizeSpec("m", 470_000, 1_050, 365, None, (5, 2), (3, 1), (8, 14), (14, 21)),
    "l": SizeSpec("l", 4_700_000, 1_050, 730, None, (10, 4), (6, 2), (12, 20), (7, 14)),
}


# --- summary ------------------------------------------------------------------------------------


@dataclass
class Summary:
    """What a generation produced, filled in while it streams (complete once exhausted).

    ``events`` counts emitted events by type; the other fields count scenarios as they are planned.
    """

    size: str = ""
    seed: int = 0
    events: Counter[str] = field(default_factory=Counter)
    cities: int = 0
    stores: int = 0
    mall_pairs: int = 0
    staff: int = 0
    staff_moves: int = 0
    customers: int = 0
    deals: int = 0
    cross_brand_referrals: Counter[str] = field(default_factory=Counter)
    cross_brand_deals: Counter[str] = field(default_factory=Counter)
    cross_city_assists: int = 0
    cross_city_assist_deals: int = 0
    handover_events: int = 0
    handover_customers: int = 0
    handover_deals: int = 0
    joint_events: int = 0
    joint_event_touches: int = 0
    joint_event_deals: int = 0
    order_grabs: int = 0
    owner_referrals: int = 0
    owner_referral_deals: int = 0
    journeys: Counter[str] = field(default_factory=Counter)
    journey_deals: Counter[str] = field(default_factory=Counter)
    lead_reclaims: int = 0
    multi_store_journeys: int = 0
    cross_brand_journeys: int = 0
    voids: int = 0
    duplicate_visits: int = 0
    peak_pending: int = 0

    @property
    def total_events(self) -> int:
        return sum(self.events.values())

    @property
    def conversion(self) -> float:
        """Deals per customer."""
        return self.deals / self.customers if self.customers else 0.0

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready counts."""
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            out[name] = dict(sorted(value.items())) if isinstance(value, Counter) else value
        out["total_events"] = self.total_events
        out["conversion"] = round(self.conversion, 4)
        return out


# --- hashing: per-customer facts without per-customer state -------------------------------------

_MASK = (1 << 64) - 1


def _mix(x: int) -> int:
    """SplitMix64's finaliser: a well-spread 64-bit hash of ``x``."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def _unit(h: int) -> float:
    """A uniform float in [0, 1) from the top 53 bits of a hash."""
    return (h >> 11) / 9007199254740992.0


# --- the skeleton: stores, staff, joint events --------------------------------------------------


@dataclass
class _Spell:
    staff: str
    first: int  # day
    last: int  # day (inclusive); a large number while still employed


@dataclass
class _Store:
    id: str
    name: str
    brand: str
    city: City
    mall: str | None
    roles: dict[str, list[_Spell]] = field(default_factory=dict)
    advisor_spells: dict[str, _Spell] = field(default_factory=dict)

    def spell_at(self, role: str, day: int, rng: random.Random) -> _Spell:
        """The spell of someone in ``role`` working here on ``day`` (an advisor if none)."""
        spells = self.roles.get(role) or self.roles["advisor"]
        for _ in range(4):
            spell = spells[int(rng.random() * len(spells))]
            if spell.first <= day <= spell.last:
                return spell
        working = [s for s in spells if s.first <= day <= s.last]
        if working:
            return working[int(rng.random() * len(working))]
        return self.spell_at("advisor", day, rng) if role != "advisor" else spells[0]

    def index_advisors(self) -> None:
        """Index the advisors' spells (after hiring and moves)."""
        self.advisor_spells = {s.staff: s for s in self.roles["advisor"]}


_STILL_EMPLOYED = 10**6


def _staff_name(rng: random.Random) -> str:
    given = "".join(rng.choice(_GIVEN) for _ in range(1 + (rng.random() < 0.6)))
    return rng.choice(_SURNAMES) + given


@dataclass
class _Network:
    """Everything fixed before the first journey: stores, staff spells, joint events, holidays."""

    spec: SizeSpec
    cities: tuple[City, ...]
    stores: list[_Store]
    by_city: dict[str, dict[str, list[_Store]]]
    store_by_id: dict[str, _Store]
    staff_events: list[Event]
    joint_events: list[Event]
    events_by_city: dict[str, list[tuple[int, Event]]]
    holidays: list[tuple[int, int]]
    moves: int
    by_region: dict[str, list[_Store]]


def _build_network(spec: SizeSpec, rng: random.Random) -> _Network:
    cities = CITIES if spec.cities is None else tuple(c for c in CITIES if c.code in spec.cities)
    stores = _open_stores(spec, cities)
    staff_events = _hire_staff(spec, stores, rng)
    moves = _move_staff(spec, stores, staff_events, rng)
    by_city: dict[str, dict[str, list[_Store]]] = {c.code: {"nio": [], "onvo": []} for c in cities}
    by_region: dict[str, list[_Store]] = {}
    for store in stores:
        store.index_advisors()
        by_city[store.city.code][store.brand].append(store)
        by_region.setdefault(store.city.region, []).append(store)
    joint_events, events_by_city = _plan_joint_events(spec, by_city, cities, rng)
    last = START + timedelta(days=spec.days + MAX_JOURNEY_DAYS)
    return _Network(
        spec=spec,
        cities=cities,
        stores=stores,
        by_city=by_city,
        store_by_id={s.id: s for s in stores},
        staff_events=staff_events,
        joint_events=joint_events,
        events_by_city=events_by_city,
        holidays=_holidays(START, last),
        moves=moves,
        by_region=by_region,
    )


def _open_stores(spec: SizeSpec, cities: tuple[City, ...]) -> list[_Store]:
    """Stores per city and brand; in a city with a mall the first NIO and ONVO stores share it."""
    stores = []
    for city in cities:
        for brand, counts in (("nio", spec.nio_stores), ("onvo", spec.onvo_stores)):
            count = counts[0] if city.tier == 1 else counts[1]
            for number in range(1, count + 1):
                mall = city.mall if number == 1 else None
                stores.append(
                    _Store(
                        id=f"st-{city.code}-{brand}-{number}",
                        name=_store_name(brand, city, number, mall),
                        brand=brand,
                        city=city,
                        mall=mall,
                    )
                )
    return stores


def _store_name(brand: str, city: City, number: int, mall: str | None) -> str:
    if brand == "nio":
        kind = "NIO House" if number == 1 else "NIO Space"
    else:
        kind = "ONVO Center" if number == 1 else "ONVO Store"
    where = mall if mall else f"{city.name} {number}" if number > 1 else city.name
    return f"{kind} {where}" if mall is None else f"{kind} {city.name} · {where}"


def _hire_staff(spec: SizeSpec, stores: list[_Store], rng: random.Random) -> list[Event]:
    """A manager, advisors, product experts and a delivery specialist per store, hired earlier."""
    events = []
    for store in stores:
        advisors = rng.randint(*spec.advisors)
        roster = (
            ["store_manager"]
            + ["advisor"] * advisors
            + ["product_expert"] * (1 + (advisors >= 8))
            + ["delivery"] * (1 + (advisors >= 12))
        )
        for number, role in enumerate(roster, start=1):
            staff = f"sf-{store.id[3:]}-{number:02d}"
            hired = _hired_on(store.brand, rng)
            store.roles.setdefault(role, []).append(_Spell(staff, _day_of(hired), _STILL_EMPLOYED))
            events.append(
                {
                    "type": "staff",
                    "id": staff,
                    "name": _staff_name(rng),
                    "store": store.id,
                    "role": role,
                    "from": hired.isoformat(),
                }
            )
    return events


def _hired_on(brand: str, rng: random.Random) -> date:
    """NIO staff joined from 2019; ONVO launched in 2024 and staffed up from May."""
    first = date(2019, 3, 1) if brand == "nio" else date(2024, 5, 1)
    span = (START - timedelta(days=14) - first).days
    return first + timedelta(days=rng.randrange(span))


def _move_staff(
    spec: SizeSpec, stores: list[_Store], staff_events: list[Event], rng: random.Random
) -> int:
    """Some advisors move to another store of their brand: their first spell ends, a second starts.

    Nobody moves twice, and the Shanghai mall stores keep their teams.
    """
    by_brand: dict[str, list[_Store]] = {"nio": [], "onvo": []}
    for store in stores:
        by_brand[store.brand].append(store)
    spell_events = {e["id"]: e for e in staff_events}
    moved: set[str] = set()
    for store in stores:
        if _keeps_team(store):
            continue
        for spell in list(store.roles["advisor"]):
            if rng.random() >= 0.06 or spell.staff in moved:
                continue
            target = _move_target(store, by_brand[store.brand], rng)
            if target is None:
                continue
            day = _day_of(START) + rng.randrange(20, max(21, spec.days - 20))
            spell.last = day - 1
            spell_events[spell.staff]["to"] = _date_of(day - 1).isoformat()
            target.roles["advisor"].append(_Spell(spell.staff, day, _STILL_EMPLOYED))
            first = spell_events[spell.staff]
            staff_events.append(
                {
                    "type": "staff",
                    "id": spell.staff,
                    "name": first["name"],
                    "store": target.id,
                    "role": "advisor",
                    "from": _date_of(day).isoformat(),
                }
            )
            moved.add(spell.staff)
    return len(moved)


def _move_target(store: _Store, same_brand: list[_Store], rng: random.Random) -> _Store | None:
    """Another store of the brand: in the same city if there is one, else in the region."""
    others = [s for s in same_brand if s is not store and not _keeps_team(s)]
    options = [s for s in others if s.city == store.city] or [
        s for s in others if s.city.region == store.city.region
    ]
    return rng.choice(options) if options else None


def _keeps_team(store: _Store) -> bool:
    """The Shanghai mall stores keep their teams all along: they carry the year-end handover."""
    return store.city.code == "sh" and store.mall is not None


def _plan_joint_events(
    spec: SizeSpec,
    by_city: dict[str, dict[str, list[_Store]]],
    cities: tuple[City, ...],
    rng: random.Random,
) -> tuple[list[Event], dict[str, list[tuple[int, Event]]]]:
    """Joint NIO x ONVO roadshows, every ``spec.joint_event_gap`` days in each shared mall."""
    names = ("Joint Roadshow", "Family Test-Drive Weekend", "Winter Range Challenge", "Owner Day")
    events: list[Event] = []
    by_city_events: dict[str, list[tuple[int, Event]]] = {}
    for city in cities:
        if city.mall is None:
            continue
        organisers = [by_city[city.code]["nio"][0].id, by_city[city.code]["onvo"][0].id]
        day = _day_of(START) + rng.randrange(3, 21)
        number = 0
        while day < _day_of(START) + spec.days:
            day += (5 - _date_of(day).weekday()) % 7  # the Saturday
            number += 1
            t = _at(day, 10 * 3600 + rng.randrange(0, 4) * 1800)
            event = {
                "type": "joint_event",
                "id": f"je-{city.code}-{number}",
                "at": _stamp(t),
                "name": f"NIO x ONVO {rng.choice(names)} · {city.mall}",
                "organisers": organisers,
            }
            events.append(event)
            by_city_events.setdefault(city.code, []).append((t, event))
            day += rng.randint(*spec.joint_event_gap)
    events.sort(key=lambda e: (e["at"], e["id"]))
    return events, by_city_events


# --- journeys -----------------------------------------------------------------------------------

_ARCHETYPES = ("local", "owner", "cross_brand", "order_grab", "assist", "event")
#: Shares of journey archetypes; ``assist`` only when a holiday is near, ``event`` only in a city
#: with a joint event soon — otherwise the journey is a local one.
_ARCHETYPE_WEIGHTS = {
    "owner": 0.21,
    "cross_brand": 0.05,
    "order_grab": 0.02,
    "assist": 0.06,
    "event": 0.08,
}


class _Profile(NamedTuple):
    """What a customer's index says about them: computed twice (entity and journey), never kept."""

    number: int
    archetype: str
    lean: float  # where in [0, 1) the customer falls within their archetype's share
    city: City
    name: str
    start: int  # epoch seconds of the first contact


class _Journey:
    """One customer's journey as it is planned: touches, referrals, maybe a deal, in time order.

    Events collect in ``out`` as ``(time, n, event)``; the journey keeps the customer's advisor
    per store so a customer is served by the same person until that person leaves the store.
    """

    def __init__(self, gen: NetworkGenerator, profile: _Profile) -> None:
        self.gen = gen
        self.rng = gen.rng
        self.profile = profile
        self.customer = f"c-{profile.number:07d}"
        self.tag = f"{profile.number:07d}"
        self.t = profile.start
        self.out: list[tuple[int, int, Event]] = []
        self.touches = 0
        self.advisor_at: dict[str, _Spell] = {}
        self.stores: list[_Store] = []
        self.model: tuple[str, int, int] | None = None
        self.kind = "local"
        self.deal_store: _Store | None = None
        # what the journey is an instance of (see ``scenario_instances``): set by the journey
        # functions; ``voided`` collects the ids of its touches voided later
        self.scenario: str | None = None
        self.keys: list[KeyContributor] = []
        self.note: str | None = None
        self.voided: set[str] = set()
        self.last_touch = ""

    def emit(self, t: int, event: Event) -> None:
        """Add an event at time ``t`` (ties keep planning order)."""
        self.out.append((t, len(self.out), event))

    # time

    def soon(self, lo_minutes: int = 10, hi_minutes: int = 60) -> None:
        """Move on within the same visit (not past closing time)."""
        t = self.t + 60 * (lo_minutes + int(self.rng.random() * (hi_minutes - lo_minutes + 1)))
        closing = _at(_local_day(self.t), _CLOSE)
        self.t = min(t, closing) + int(self.rng.random() * 60)

    def later(self, lo_days: int, hi_days: int) -> None:
        """Move on to another day, at a time the stores are open."""
        days = lo_days + int(self.rng.random() * (hi_days - lo_days + 1))
        if days == 0:
            self.soon(60, 240)
            return
        seconds = _OPEN + int(self.rng.random() * (_CLOSE - _OPEN - 3600))
        self.t = _at(_local_day(self.t) + days, seconds)

    def on_day(self, day: int) -> None:
        """Jump to a given local day, during opening hours."""
        self.t = max(self.t, _at(day, _OPEN + int(self.rng.random() * (_CLOSE - _OPEN - 3600))))

    def goes_on(self, p: float) -> bool:
        """Whether the customer takes the next step, with probability ``p``."""
        return self.rng.random() < p

    # people

    def advisor(self, store: _Store) -> str:
        """The customer's advisor at ``store``: the same person while they work there."""
        day = _local_day(self.t)
        spell = self.advisor_at.get(store.id)
        if spell is None or not spell.first <= day <= spell.last:
            spell = self.advisor_at[store.id] = store.spell_at("advisor", day, self.rng)
        return spell.staff

    def reassign(self, store: _Store, previous: str) -> None:
        """Give the customer another advisor at ``store`` (a lead reclaimed from ``previous``)."""
        day = _local_day(self.t)
        for _ in range(5):
            other = store.spell_at("advisor", day, self.rng)
            if other.staff != previous:
                break
        self.advisor_at[store.id] = other

    def staff(self, store: _Store, role: str) -> str:
        """Who serves the customer at ``store`` in ``role`` now."""
        if role == "advisor":
            return self.advisor(store)
        return store.spell_at(role, _local_day(self.t), self.rng).staff

    def pick_model(self, brand: str) -> tuple[str, int, int]:
        """The model the customer has in mind: kept until they look at the other brand."""
        models = _MODELS[brand]
        if self.model not in models:
            self.model = models[int(self.rng.random() * len(models))]
        return self.model

    # events

    def touch(
        self,
        store: _Store,
        stage: str,
        role: str = "advisor",
        *,
        staff: str | None = None,
        channel: str | None = None,
        joint_event: str | None = None,
        evidence: tuple[EvidenceKind, str] | None = None,
    ) -> str:
        """Record a touch now; returns the staff member who made it. ``evidence`` is its kind and
        what it records, which with the touch's id make its ``ref``."""
        who = staff or self.staff(store, role)
        if store not in self.stores:
            self.stores.append(store)
        event = self._touch_event(store, stage, who, self.t, channel, joint_event, evidence)
        self.last_touch = event["id"]
        self.emit(self.t, event)
        self._flaws(event)
        return who

    def _touch_event(
        self,
        store: _Store,
        stage: str,
        staff: str,
        t: int,
        channel: str | None,
        joint_event: str | None,
        evidence: tuple[EvidenceKind, str] | None,
    ) -> Event:
        self.touches += 1
        event: Event = {
            "type": "touch",
            "id": f"t-{self.tag}-{self.touches}",
            "at": _stamp(t),
            "customer": self.customer,
            "staff": staff,
            "store": store.id,
            "stage": stage,
        }
        if channel:
            event["channel"] = channel
        if joint_event:
            event["joint_event"] = joint_event
        if evidence:
            kind, what = evidence
            event["evidence"] = {"kind": kind, "ref": f"{event['id']}/{what}"}
        return event

    def _flaws(self, event: Event) -> None:
        """Now and then a visit is logged twice, or a touch is retracted later."""
        rng, summary = self.rng, self.gen.summary
        if rng.random() < _P_DUPLICATE:
            copy = dict(event, id=f"t-{self.tag}-{self.touches + 1}", at=_stamp(self.t + 120))
            self.touches += 1
            self.emit(self.t + 120, copy)
            summary.duplicate_visits += 1
            if rng.random() < 0.5:
                self._void(copy["id"], _DUPLICATE_REASON)
        elif rng.random() < _P_VOID:
            self._void(event["id"], _VOID_REASONS[int(rng.random() * len(_VOID_REASONS))])

    def _void(self, target: str, reason: str) -> None:
        delay = 3600 + int(self.rng.random() * 3 * _DAY)
        void = {"type": "void", "id": f"v-{target[2:]}", "target": target, "reason": reason}
        self.voided.add(target)
        self.emit(self.t + delay, void)
        self.gen.summary.voids += 1

    def refer(
        self, to_store: _Store, *, staff: str | None = None, owner: str | None = None
    ) -> None:
        """A referral of this customer to ``to_store`` by a staff member or an owner."""
        event: Event = {
            "type": "referral",
            "id": f"r-{self.tag}",
            "at": _stamp(self.t),
            "customer": self.customer,
            "to_store": to_store.id,
        }
        if staff is not None:
            event["referrer_staff"] = staff
        else:
            event["referrer_customer"] = owner
        self.emit(self.t, event)

    def close(self, store: _Store, discount_yuan: int, channel: str | None = None) -> Event:
        """Quote, order, delivery and the deal itself, closed by the customer's advisor."""
        rng = self.rng
        model, price, baas_price = self.pick_model(store.brand)
        list_price = baas_price if rng.random() < 0.45 else price
        amount = (list_price - discount_yuan) * 100
        self.touch(
            store,
            "quote",
            channel=channel,
            evidence=("crm_record", f"quote {model} {list_price} yuan, {discount_yuan} off"),
        )
        self.later(0, 5)
        taker = self.touch(
            store,
            "order",
            evidence=("crm_record", f"order {model}, deposit {_DEPOSIT_FEN[store.brand]} fen"),
        )
        self.later(7, 28)
        closer = self.advisor(store)
        if closer != taker:  # the order taker left the store: a colleague sees the order through
            self.touch(
                store,
                "follow_up",
                channel="phone",
                evidence=("crm_record", f"took over from {taker}"),
            )
            self.soon(10, 30)
        self.touch(store, "delivery", "delivery", evidence=("photo", f"delivery {model}"))
        self.soon(30, 90)
        deal = {
            "type": "deal",
            "id": f"d-{self.tag}",
            "customer": self.customer,
            "store": store.id,
            "staff": closer,
            "closed_at": _stamp(self.t),
            "amount": amount,
            "reward_pool": _reward_pool(amount),
            "points_pool": _POINTS_POOL[store.brand],
        }
        self.emit(self.t, deal)
        self.deal_store = store
        self.gen.summary.deals += 1
        return deal

    def follow_ups(self, store: _Store, most: int) -> None:
        """WeChat messages, material, invitations: the advisor farming between visits."""
        for _ in range(int(self.rng.random() * (most + 1))):
            self.later(1, 4)
            action = _FOLLOW_UPS[int(self.rng.random() * len(_FOLLOW_UPS))]
            self.touch(store, "follow_up", channel="wechat", evidence=("wechat_message", action))


def _reward_pool(amount_fen: int) -> int:
    """1.2% of the amount, rounded to 100 yuan: a few thousand yuan per car."""
    return (amount_fen * 12 // 1000 + 5_000) // 10_000 * 10_000


def _discount(rng: random.Random, lo: int = 0, hi: int = 8_000) -> int:
    """A discount in yuan, in steps of 500."""
    return 500 * int(rng.random() * (hi // 500 - lo // 500 + 1)) + lo


def _wander(j: _Journey, store: _Store) -> _Store:
    """Sometimes the customer drifts: another store of the city, or a city of the region."""
    rng, net = j.rng, j.gen.net
    if rng.random() >= _P_WANDER:
        return store
    if rng.random() < 0.8:
        city = net.by_city[store.city.code]
        options = city["nio"] + city["onvo"]
    else:
        options = net.by_region[store.city.region]
    moved = options[int(rng.random() * len(options))]
    if moved is store:
        return store
    j.later(1, 6)
    j.touch(moved, "reception", channel="walk_in")
    return moved


def _funnel(j: _Journey, store: _Store, warmth: float = 1.0, received: bool = False) -> bool:
    """Reception → consultation → test drive → quote → order → delivery; True if a deal closed.

    ``warmth`` scales the chance of going on at each step (a friend's referral makes it larger).
    """
    rng = j.rng
    if not received:
        j.touch(store, "reception", channel="walk_in")
    if not j.goes_on(0.85 * warmth):
        return False
    j.soon()
    role = "product_expert" if rng.random() < 0.2 else "advisor"
    j.touch(store, "consultation", role)
    if not j.goes_on(0.6 * warmth):
        j.follow_ups(store, 1)
        return False
    store = _wander(j, store)
    j.later(0, 7)
    model = j.pick_model(store.brand)[0]
    role = "product_expert" if rng.random() < 0.3 else "advisor"
    j.touch(
        store,
        "test_drive",
        role,
        evidence=("test_drive_log", f"{model} {20 + int(rng.random() * 40)} min"),
    )
    j.follow_ups(store, 1)
    if not j.goes_on(0.55 * warmth):
        return False
    store = _wander(j, store)
    j.later(1, 8)
    if not j.goes_on(0.65 * warmth):
        j.touch(
            store, "quote", evidence=("crm_record", f"quote {model}, {_discount(rng)} yuan off")
        )
        return False
    j.close(store, _discount(rng))
    return True


def _home_store(j: _Journey, brand: str | None = None) -> _Store:
    rng, city = j.rng, j.profile.city
    if brand is None:
        brand = "nio" if rng.random() < _NIO_SHARE else "onvo"
    stores = j.gen.net.by_city[city.code][brand]
    return stores[int(rng.random() * len(stores))]


def _journey_local(j: _Journey) -> bool:
    """Most customers: an online lead or a walk-in, then the funnel; most never buy."""
    j.kind = "local"
    rng, summary = j.rng, j.gen.summary
    store = _home_store(j)
    if rng.random() < 0.75:
        advisor = j.touch(store, "lead", channel=_LEAD_CHANNELS[int(rng.random() * 6)])
        if not j.goes_on(0.4):
            return False
        j.later(1, 6)
        if rng.random() < 0.06:  # not followed up in time: the lead pool reassigns it
            j.reassign(store, advisor)
            j.touch(
                store,
                "lead",
                channel="lead_pool",
                evidence=("crm_record", f"reclaimed from {advisor}"),
            )
            summary.lead_reclaims += 1
            j.later(0, 3)
    return _funnel(j, store)


def _journey_owner(j: _Journey) -> bool:
    """An owner brings a friend to the store where they bought."""
    j.kind = "owner"
    gen = j.gen
    referrer = gen.pick_owner(j.profile.city)
    if referrer is None:
        return _journey_local(j)
    owner, bought_at = referrer
    # a friend in another city is sent to a store of the brand they drive, in the friend's city
    store = bought_at if bought_at.city == j.profile.city else _home_store(j, bought_at.brand)
    j.refer(store, owner=owner)
    gen.summary.owner_referrals += 1
    j.later(0, 7)
    j.touch(
        store,
        "reception",
        channel="owner_referral",
        evidence=("store_checkin", f"referred by {owner}"),
    )
    converted = _funnel(j, store, warmth=1.2, received=True)
    gen.summary.owner_referral_deals += converted
    j.scenario = "owner_referral"
    j.keys.append(KeyContributor("owner", owner, "owner"))
    return converted


def _journey_cross_brand(j: _Journey) -> bool:
    """Advisor X of one brand finds the other brand fits better and refers the customer there."""
    j.kind = "cross_brand"
    rng, summary = j.rng, j.gen.summary
    source = _home_store(j, "nio" if j.profile.lean < _NIO_SHARE else "onvo")
    target_brand = "onvo" if source.brand == "nio" else "nio"
    targets = j.gen.net.by_city[j.profile.city.code][target_brand]
    target = (
        next((s for s in targets if s.mall and s.mall == source.mall), None)
        or targets[int(rng.random() * len(targets))]
    )
    j.touch(source, "reception", channel="walk_in")
    j.soon()
    budget = (180_000 if target_brand == "onvo" else 400_000) + _discount(rng, 0, 60_000)
    j.touch(source, "consultation", evidence=("crm_record", f"budget {budget} yuan"))
    j.soon(5, 20)
    reason = "budget" if target_brand == "onvo" else "wants_premium"
    referrer = j.touch(source, "referral", evidence=("crm_record", f"to {target.id}: {reason}"))
    j.refer(target, staff=referrer)
    direction = f"{source.brand}->{target_brand}"
    summary.cross_brand_referrals[direction] += 1
    j.later(0, 5)
    j.touch(target, "reception", channel="staff_referral")
    converted = _funnel(j, target, warmth=1.2, received=True)
    # counted when the deal is at the brand referred to (the customer may still wander back)
    landed = j.deal_store is not None and j.deal_store.brand == target_brand
    summary.cross_brand_deals[direction] += converted and landed
    if landed:
        j.scenario, j.note = "cross_brand_referral", direction
        j.keys.append(KeyContributor("staff", referrer, "referrer"))
    return converted


def _journey_order_grab(j: _Journey) -> bool:
    """Three test drives with advisor X at store A; advisor Y at store B closes with a discount."""
    j.kind = "order_grab"
    rng = j.rng
    brand = "nio" if len(j.gen.net.by_city[j.profile.city.code]["nio"]) > 1 else "onvo"
    stores = j.gen.net.by_city[j.profile.city.code][brand]
    a = int(rng.random() * len(stores))
    store_a, store_b = (
        stores[a],
        stores[(a + 1 + int(rng.random() * (len(stores) - 1))) % len(stores)],
    )
    j.touch(store_a, "reception", channel="walk_in")
    j.soon()
    j.touch(store_a, "consultation")
    model = j.pick_model(brand)[0]
    drivers = set()
    drives = []
    for _ in range(3):
        j.later(2, 8)
        minutes = 30 + int(rng.random() * 30)
        drivers.add(
            j.touch(store_a, "test_drive", evidence=("test_drive_log", f"{model} {minutes} min"))
        )
        drives.append(j.last_touch)
    j.follow_ups(store_a, 1)
    j.later(1, 6)
    j.touch(store_b, "reception", channel="walk_in")
    j.soon()
    deal = j.close(store_b, _discount(rng, 12_000, 30_000))
    # counted when X drove all three (X may leave the store mid-way) and Y is someone else
    j.gen.summary.order_grabs += len(drivers) == 1 and deal["staff"] not in drivers
    # an instance when X drove all three, Y is someone else, and none of the drives was voided
    if len(drivers) == 1 and deal["staff"] not in drivers and not j.voided.intersection(drives):
        j.scenario = "order_grabbing"
        j.keys.append(KeyContributor("staff", drivers.pop(), "victim"))
    return True


def _journey_assist(j: _Journey, holiday: tuple[int, int]) -> bool:
    """A northern customer meets a Hainan advisor on holiday, then orders back home."""
    j.kind = "assist"
    rng, net = j.rng, j.gen.net
    home = _home_store(j)
    if rng.random() < 0.6:
        j.touch(home, "lead", channel=_LEAD_CHANNELS[int(rng.random() * 6)])
    hainan_cities = [c for c in ("sya", "hk") if c in net.by_city]
    city = hainan_cities[0] if rng.random() < 0.6 else hainan_cities[-1]
    brand = home.brand if rng.random() < 0.8 else ("onvo" if home.brand == "nio" else "nio")
    options = net.by_city[city][brand]
    away = options[int(rng.random() * len(options))]
    first, last = holiday
    visit = first + int(rng.random() * min(last - first + 1, 10))
    j.on_day(visit)
    helpers = {}  # the Hainan touches' ids -> who made them
    who = j.touch(
        away,
        "reception",
        channel="walk_in",
        evidence=("store_checkin", f"visitor from {j.profile.city.name}"),
    )
    helpers[j.last_touch] = who
    j.soon()
    model = j.pick_model(away.brand)[0]
    who = j.touch(
        away,
        "test_drive",
        evidence=("test_drive_log", f"{model} {40 + int(rng.random() * 30)} min"),
    )
    helpers[j.last_touch] = who
    j.gen.summary.cross_city_assists += 1
    j.on_day(visit + 3 + int(rng.random() * 10))
    home = next(iter(net.by_city[j.profile.city.code][away.brand]), home)
    j.touch(home, "reception", channel="walk_in")
    if not j.goes_on(0.6):
        return False
    j.later(0, 6)
    j.close(home, _discount(rng))
    j.gen.summary.cross_city_assist_deals += 1
    # the Hainan advisor(s) whose touches stand (a voided touch credits no one)
    advisors = sorted({s for t, s in helpers.items() if t not in j.voided})
    if advisors:
        j.scenario = "cross_city_assist"
        j.keys += [KeyContributor("staff", s, "assist") for s in advisors]
    return True


def _journey_event(j: _Journey, joint_event: tuple[int, Event]) -> bool:
    """First met at a joint NIO x ONVO mall event, then on to one of the organising stores."""
    j.kind = "event"
    rng, net = j.rng, j.gen.net
    t, event = joint_event
    j.t = t + int(rng.random() * 5 * 3600)
    organisers = [net.store_by_id[s] for s in event["organisers"]]
    store = organisers[int(rng.random() * len(organisers))]
    role = "product_expert" if rng.random() < 0.5 else "advisor"
    advisor = j.touch(store, "event", role, channel="roadshow", joint_event=event["id"])
    met = j.last_touch
    j.gen.summary.joint_event_touches += 1
    if not j.goes_on(0.7):
        return False
    j.later(1, 10)
    if rng.random() < 0.3:
        store = organisers[int(rng.random() * len(organisers))]
    converted = _funnel(j, store, warmth=1.1)
    j.gen.summary.joint_event_deals += converted
    if met not in j.voided:
        j.scenario = "joint_event"
        j.keys.append(KeyContributor("staff", advisor, "event_advisor"))
        j.keys += [KeyContributor("store", s, "organiser") for s in event["organisers"]]
    return converted


# --- the year-end handover ----------------------------------------------------------------------

_HANDOVER_DAY = _day_of(date(2024, 12, 27))
_HANDOVER_AT = _at(_HANDOVER_DAY, 18 * 3600)
#: The handed customers first met the ONVO team between these days.
_POOL_FIRST, _POOL_LAST = _day_of(START), _day_of(date(2024, 12, 15))


def _journey_handed_over(j: _Journey, team: str, receiver: str, onvo: _Store, nio: _Store) -> bool:
    """An ONVO Shanghai lead handed to a NIO advisor at year end; some buy a NIO in the new year."""
    j.kind = "handed_over"
    rng = j.rng
    j.touch(onvo, "lead", staff=team, channel=_LEAD_CHANNELS[int(rng.random() * 6)])
    if rng.random() < 0.6:
        j.later(1, 4)
        j.touch(onvo, "reception", staff=team, channel="walk_in")
        if rng.random() < 0.4:
            j.soon()
            j.touch(onvo, "test_drive", staff=team, evidence=("test_drive_log", "L60 30 min"))
    j.t = _HANDOVER_AT
    j.later(1, 12)
    if not j.goes_on(0.72):
        return False
    j.advisor_at[nio.id] = nio.advisor_spells[receiver]
    j.touch(nio, "follow_up", staff=receiver, channel="phone", evidence=("crm_record", "call"))
    if not j.goes_on(0.6):
        return False
    j.later(1, 10)
    j.touch(nio, "reception", staff=receiver, channel="walk_in")
    j.soon()
    j.touch(nio, "test_drive", evidence=("test_drive_log", f"{j.pick_model('nio')[0]} 30 min"))
    if not j.goes_on(0.66):
        return False
    j.later(1, 8)
    j.close(nio, _discount(rng, 2_000, 10_000))
    j.gen.summary.handover_deals += 1
    j.scenario = "bulk_handover"
    j.keys.append(KeyContributor("staff", team, "handing"))
    return True


# --- the generator ------------------------------------------------------------------------------

_RELEASED: tuple[int, int, Event] = (0, 0, {})


class NetworkGenerator:
    """Streams one network: ``events()`` (entities, then activity), filling ``summary``.

    >>> gen = NetworkGenerator("tiny", seed=1)
    >>> first = next(gen.events())
    >>> first["type"], first["id"]
    ('brand', 'nio')
    """

    def __init__(self, size: str | SizeSpec, seed: int) -> None:
        spec = SIZES[size] if isinstance(size, str) else size
        self.spec = spec
        self.seed = seed
        self.rng = random.Random(f"contribnet-demo-journeys-{seed}")
        self.net = _build_network(spec, random.Random(f"contribnet-demo-network-{seed}"))
        self.summary = Summary(size=spec.name, seed=seed)
        self.recent_owners: dict[str, deque[tuple[str, str]]] = {}
        self.pending = 0  # events planned but not yet released
        #: The scenario instances planned so far, when asked for (``scenario_instances``); None
        #: keeps the stream's memory flat on big sizes.
        self.instances: list[ScenarioInstance] | None = None
        self._journeys = 0
        self._salt = _mix(seed & _MASK)
        self._cities = {c.code: c for c in self.net.cities}
        self._city_tables = self._weighted_city_tables()
        self._fill_skeleton_summary()

    # entities

    def events(self) -> Iterator[Event]:
        """The whole stream: brands, stores, staff spells, customers, joint events, activity.

        A generator streams once: call ``events()`` on a fresh ``NetworkGenerator`` each time.
        """
        yield from self.entities()
        yield from self.activity()

    def entities(self) -> Iterator[Event]:
        """Brands, stores, staff spells, customers and joint events."""
        count = self.summary.events
        for brand, name in _BRANDS.items():
            count["brand"] += 1
            yield {"type": "brand", "id": brand, "name": name}
        for store in self.net.stores:
            count["store"] += 1
            yield self._store_event(store)
        for spell in self.net.staff_events:
            count["staff"] += 1
            yield dict(spell)
        for number in range(self.customer_count):
            profile = self.profile(number)
            count["customer"] += 1
            yield {
                "type": "customer",
                "id": f"c-{number:07d}",
                "name": profile.name,
                "city": profile.city.name,
            }
        for event in self.net.joint_events:
            count["joint_event"] += 1
            yield dict(event, organisers=list(event["organisers"]))

    @property
    def customer_count(self) -> int:
        return self.spec.customers + self.spec.handover_customers

    @staticmethod
    def _store_event(store: _Store) -> Event:
        event: Event = {
            "type": "store",
            "id": store.id,
            "name": store.name,
            "brand": store.brand,
            "city": store.city.name,
            "region": store.city.region,
        }
        if store.mall:
            event["mall"] = store.mall
        return event

    def _fill_skeleton_summary(self) -> None:
        s, net = self.summary, self.net
        s.cities = len(net.cities)
        s.stores = len(net.stores)
        s.mall_pairs = sum(1 for st in net.stores if st.mall and st.brand == "nio")
        s.staff = len({e["id"] for e in net.staff_events})
        s.staff_moves = net.moves
        s.joint_events = len(net.joint_events)
        s.customers = self.customer_count

    # profiles

    def _weighted_city_tables(self) -> dict[str, tuple[list[City], list[float]]]:
        """Cumulative city weights for each kind of customer."""
        cities, net = self.net.cities, self.net

        def table(
            keep: Callable[[City], bool], weight: Callable[[City], float]
        ) -> tuple[list[City], list[float]]:
            chosen = [c for c in cities if keep(c)]
            return chosen, list(accumulate(weight(c) for c in chosen))

        return {
            "any": table(lambda c: True, lambda c: c.weight),
            "northern": table(lambda c: c.northern, lambda c: c.weight * _SNOWBIRDS.get(c.code, 1)),
            "mall": table(lambda c: c.code in net.events_by_city, lambda c: c.weight),
            "two_stores": table(
                lambda c: any(len(v) > 1 for v in net.by_city[c.code].values()), lambda c: c.weight
            ),
        }

    def _pick_city(self, kind: str, u: float) -> City:
        cities, cumulative = self._city_tables[kind]
        return cities[min(bisect_left(cumulative, u * cumulative[-1]), len(cities) - 1)]

    def profile(self, number: int) -> _Profile:
        """A customer's archetype, city, name and first contact, from the seed and their number."""
        h1 = _mix(self._salt ^ number)
        h2 = _mix(h1)
        h3 = _mix(h2)
        name = _SURNAMES[h2 % len(_SURNAMES)] + ("先生" if (h2 >> 8) & 1 else "女士")
        seconds = _OPEN + (h2 >> 16) % (_CLOSE - _OPEN - 4 * 3600)
        if number >= self.spec.customers:  # the Shanghai ONVO team's pool
            day = _POOL_FIRST + (h3 >> 16) % (_POOL_LAST - _POOL_FIRST + 1)
            sh = self._city("sh")
            return _Profile(number, "handed_over", 0.0, sh, name, _at(day, seconds))
        day = _day_of(START) + number * self.spec.days // self.spec.customers
        archetype, lean = self._archetype(self._spread(number), day)
        kind = {"assist": "northern", "event": "mall", "order_grab": "two_stores"}.get(
            archetype, "any"
        )
        city = self._pick_city(kind, _unit(h3))
        return _Profile(number, archetype, lean, city, name, _at(day, seconds))

    def _spread(self, number: int) -> float:
        """An evenly spread position in [0, 1) for customer ``number`` (a Weyl sequence).

        Consecutive customers land far apart and any run of n customers covers [0, 1) almost
        evenly, so each archetype gets its share of customers within a few, even in small sizes.
        """
        return ((number * 0x9E3779B97F4A7C15 + self._salt) & _MASK) / 18446744073709551616.0

    def _city(self, code: str) -> City:
        return self._cities[code]

    def _archetype(self, u: float, day: int) -> tuple[str, float]:
        """The archetype whose share holds ``u``, and where ``u`` falls within it."""
        for archetype in _ARCHETYPES[1:]:
            weight = _ARCHETYPE_WEIGHTS[archetype]
            if u < weight:
                if archetype == "assist" and self._next_holiday(day) is None:
                    break
                return archetype, u / weight
            u -= weight
        return "local", 0.0

    def _next_holiday(self, day: int) -> tuple[int, int] | None:
        """The first holiday that starts 2 to 45 days after ``day``."""
        for window in self.net.holidays:
            if day + 2 <= window[0] <= day + 45:
                return window
        return None

    def _next_joint_event(self, city: City, t: int) -> tuple[int, Event] | None:
        """The next joint event in ``city`` within 30 days after ``t``."""
        events = self.net.events_by_city.get(city.code, [])
        i = bisect_left(events, t, key=lambda e: e[0])
        if i < len(events) and events[i][0] <= t + 30 * _DAY:
            return events[i]
        return None

    # activity

    def activity(self, days: int | None = None) -> Iterator[Event]:
        """Touches, referrals, handovers, deals and voids, in time order.

        Each day the journeys starting that day are planned whole, and every waiting event
        before the next day is released. ``days`` stops starting journeys after that many days
        (to probe memory on big sizes); journeys already started still finish.
        """
        waiting: list[tuple[int, int, list[tuple[int, int, Event]], int]] = []
        pool = self._handover_pool(waiting)
        first_day = _day_of(START)
        span = self.spec.days if days is None else min(days, self.spec.days)
        number = 0
        for day in range(first_day, first_day + span):
            for customer in pool.get(day, ()):
                self._wait(waiting, self._plan(customer))
            while number < self.spec.customers and self._start_day(number) == day:
                self._wait(waiting, self._plan(number))
                number += 1
            yield from self._release(waiting, _at(day + 1, 0))
        yield from self._release(waiting, None)

    def _wait(
        self,
        waiting: list[tuple[int, int, list[tuple[int, int, Event]], int]],
        events: list[tuple[int, int, Event]],
    ) -> None:
        """Queue one journey's events (sorted by time, then planning order) until their time."""
        if not events:
            return
        events.sort()
        self._journeys += 1
        heapq.heappush(waiting, (events[0][0], self._journeys, events, 0))
        self.pending += len(events)
        self.summary.peak_pending = max(self.summary.peak_pending, self.pending)

    def _start_day(self, number: int) -> int:
        return _day_of(START) + number * self.spec.days // self.spec.customers

    def _release(
        self,
        waiting: list[tuple[int, int, list[tuple[int, int, Event]], int]],
        before: int | None,
    ) -> Iterator[Event]:
        """Emit the waiting events earlier than ``before`` (all if None), oldest first.

        The heap holds one entry per journey: its next event; ties go to the earlier journey.
        """
        count = self.summary.events
        while waiting and (before is None or waiting[0][0] < before):
            _, order, events, i = waiting[0]
            event = events[i][2]
            events[i] = _RELEASED  # let the released event go
            if i + 1 < len(events):
                heapq.heapreplace(waiting, (events[i + 1][0], order, events, i + 1))
            else:
                heapq.heappop(waiting)
            self.pending -= 1
            kind = event["type"]
            count[kind] += 1
            if kind == "deal":
                self._remember_owner(event)
            yield event

    def _remember_owner(self, deal: Event) -> None:
        """A buyer joins the ring of recent owners of their city, who may refer friends."""
        city = self.net.store_by_id[deal["store"]].city.code
        ring = self.recent_owners.get(city)
        if ring is None:
            ring = self.recent_owners[city] = deque(maxlen=500)
        ring.append((deal["customer"], deal["store"]))

    def pick_owner(self, city: City) -> tuple[str, _Store] | None:
        """A recent buyer to refer a friend from ``city``: from the city, else the region, else
        anywhere (friends live in other cities too); None before anyone has bought."""
        rings = self.recent_owners
        ring = rings.get(city.code)
        if not ring:
            nearby = [r for code, r in rings.items() if self._city(code).region == city.region]
            candidates = nearby or list(rings.values())
            if not candidates:
                return None
            ring = candidates[int(self.rng.random() * len(candidates))]
        customer, store_id = ring[int(self.rng.random() * len(ring))]
        return customer, self.net.store_by_id[store_id]

    def _plan(self, number: int) -> list[tuple[int, int, Event]]:
        """Plan one customer's whole journey; returns its events ``(time, n, event)``."""
        profile = self.profile(number)
        j = _Journey(self, profile)
        archetype = profile.archetype
        if archetype == "handed_over":
            converted = _journey_handed_over(j, *self._handover_roles(number))
        elif archetype == "owner":
            converted = _journey_owner(j)
        elif archetype == "cross_brand":
            converted = _journey_cross_brand(j)
        elif archetype == "order_grab":
            converted = _journey_order_grab(j)
        elif archetype == "assist":
            holiday = self._next_holiday(_local_day(profile.start))
            assert holiday is not None
            converted = _journey_assist(j, holiday)
        elif archetype == "event" and (joint := self._next_joint_event(profile.city, j.t)):
            converted = _journey_event(j, joint)
        else:
            converted = _journey_local(j)
        self._count_journey(j, converted)
        if converted and j.scenario is not None and self.instances is not None:
            self.instances.append(
                ScenarioInstance(j.scenario, f"d-{j.tag}", tuple(j.keys), note=j.note)
            )
        return j.out

    def _count_journey(self, j: _Journey, converted: bool) -> None:
        self.summary.journeys[j.kind] += 1
        self.summary.journey_deals[j.kind] += converted
        if len(j.stores) > 1:
            self.summary.multi_store_journeys += 1
        if len({s.brand for s in j.stores}) > 1:
            self.summary.cross_brand_journeys += 1

    # the year-end handover

    def _handover_stores(self) -> tuple[_Store, _Store]:
        shanghai = self.net.by_city["sh"]
        return shanghai["onvo"][0], shanghai["nio"][0]

    def _handover_teams(self) -> tuple[list[str], list[str]]:
        """The ONVO advisors who hand over and the NIO advisors who receive, in pairs."""
        onvo, nio = self._handover_stores()
        team = [s.staff for s in onvo.roles["advisor"]]
        receivers = [s.staff for s in nio.roles["advisor"]]
        return team, receivers

    def _handover_roles(self, number: int) -> tuple[str, str, _Store, _Store]:
        team, receivers = self._handover_teams()
        k = (number - self.spec.customers) % len(team)
        onvo, nio = self._handover_stores()
        return team[k], receivers[k % len(receivers)], onvo, nio

    def _handover_pool(
        self, waiting: list[tuple[int, int, list[tuple[int, int, Event]], int]]
    ) -> dict[int, list[int]]:
        """Queue the year-end handovers (one per handing advisor); return the pool by first day."""
        spec = self.spec
        if spec.handover_customers == 0:
            return {}
        team, receivers = self._handover_teams()
        handed: list[list[str]] = [[] for _ in team]
        pool: dict[int, list[int]] = {}
        for number in range(spec.customers, spec.customers + spec.handover_customers):
            handed[(number - spec.customers) % len(team)].append(f"c-{number:07d}")
            pool.setdefault(_local_day(self.profile(number).start), []).append(number)
        for k, (advisor, customers) in enumerate(zip(team, handed, strict=True)):
            if not customers:
                continue
            handover = {
                "type": "handover",
                "id": f"h-2024-yearend-{k + 1}",
                "at": _stamp(_HANDOVER_AT),
                "from_staff": advisor,
                "to_staff": receivers[k % len(receivers)],
                "customers": customers,
            }
            self._wait(waiting, [(_HANDOVER_AT, 0, handover)])
            self.summary.handover_events += 1
            self.summary.handover_customers += len(customers)
        return pool


def generate(size: str, seed: int) -> Iterator[Event]:
    """Yield the events of a ``size`` network (``tiny``, ``demo``, ``m``, ``l``) for ``seed``."""
    return NetworkGenerator(size, seed).events()


def generate_with_summary(size: str, seed: int) -> tuple[Iterator[Event], Summary]:
    """Like ``generate``, with the ``Summary`` that fills in while the stream is consumed."""
    gen = NetworkGenerator(size, seed)
    return gen.events(), gen.summary


def scenario_instances(size: str = "demo", seed: int = 1) -> list[ScenarioInstance]:
    """Every scenario instance of the ``size`` network for ``seed``: one per deal of a journey
    that plays one of the domain brief's scenarios, with its key contributors.

    The defaults are the network ``contribnet demo`` loads. Instances are counted as the summary
    counts its scenarios, and only where the key contributor's part of the record stands (a
    voided touch credits no one):

    - ``order_grabbing``: advisor X drove all three test drives (none voided) and someone else
      closed: X, the ``victim``;
    - ``cross_brand_referral``: the deal is at the brand referred to (``note`` gives the
      direction, ``nio->onvo`` or ``onvo->nio``): the referring staff, ``referrer``;
    - ``cross_city_assist``: the Hainan advisor(s) whose touches stand, ``assist``;
    - ``bulk_handover``: the ONVO advisor who handed the customer over, ``handing``;
    - ``joint_event``: the staff who met the customer at the joint event (``event_advisor``) and
      both organising stores (``organiser``), when that touch stands;
    - ``owner_referral``: the referring owner (paid in points), ``owner``.

    Deterministic, and cheap (the whole stream is generated and dropped: well under a second for
    ``demo``).

    >>> found = scenario_instances("tiny", 1)
    >>> grab = next(i for i in found if i.scenario == "order_grabbing")
    >>> [(k.kind, k.role) for k in grab.contributors]
    [('staff', 'victim')]
    """
    gen = NetworkGenerator(size, seed)
    gen.instances = []
    for _ in gen.events():
        pass
    return gen.instances
