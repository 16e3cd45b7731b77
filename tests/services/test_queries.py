"""The analysts' query library and read-only Cypher, against a real Neo4j.

Every library query runs on the six hand-built scenarios (plus a short owner-referral chain and a
voided deal) and its result is checked against answers known from the scenarios; the aggregate
ones also run on the tiny generated network and are checked against the generator's own counts
or an independent computation over its events. Then the safety of free Cypher: every form of
write is refused and the database is unchanged, a slow query stops at its timeout, a huge result
at its cap.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import neo4j
import pytest

from contribnet.demo.generator import generate_with_summary
from contribnet.demo.scenarios import all_events
from contribnet.services import queries
from contribnet.services.ingest import ingest_stream
from contribnet.services.queries import (
    Neo4jRequired,
    QueryError,
    QueryParameterError,
    QueryRefused,
    QueryService,
    QueryTimeout,
    UnknownQuery,
    check_read_only,
    get_query,
    library,
    parse_assignments,
)
from contribnet.store import open_store

LIBRARY = {
    "advisor_credits",
    "assists",
    "collaborating_staff",
    "collaborating_stores",
    "cross_brand_referrals",
    "cross_city_assists",
    "customer_journey",
    "farmers",
    "handover_conversion",
    "joint_event_reach",
    "owner_referral_chains",
    "time_to_close_by_brand",
    "touches_before_deal",
}

# Beyond the scenarios: the owner of scenario 6's friend refers a friend who buys and refers a
# friend in turn (a chain of depth 3); a fourth referral and a deal are voided.
EXTRA: list[dict[str, Any]] = [
    {"type": "customer", "id": "c-x-gu", "name": "Gu Ming", "city": "Shanghai"},
    {"type": "customer", "id": "c-x-bai", "name": "Bai Lu", "city": "Shanghai"},
    {"type": "customer", "id": "c-x-kong", "name": "Kong Yi", "city": "Shanghai"},
    {"type": "referral", "id": "r-x-1", "at": "2025-04-01T02:00:00Z", "customer": "c-x-gu",
     "to_store": "st-nio-sh-1", "referrer_customer": "c-s6-feng"},
    {"type": "touch", "id": "t-x-1", "at": "2025-04-02T03:00:00Z", "customer": "c-x-gu",
     "staff": "sf-nio-sh-ma", "store": "st-nio-sh-1", "stage": "test_drive"},
    {"type": "deal", "id": "d-x-gu", "customer": "c-x-gu", "store": "st-nio-sh-1",
     "staff": "sf-nio-sh-ma", "closed_at": "2025-04-09T03:00:00Z", "amount": 29_800_000,
     "reward_pool": 500_000},
    {"type": "referral", "id": "r-x-2", "at": "2025-05-01T02:00:00Z", "customer": "c-x-bai",
     "to_store": "st-nio-sh-1", "referrer_customer": "c-x-gu"},
    {"type": "referral", "id": "r-x-3", "at": "2025-05-02T02:00:00Z", "customer": "c-x-kong",
     "to_store": "st-nio-sh-1", "referrer_customer": "c-x-bai"},
    {"type": "void", "id": "v-x-1", "target": "r-x-3", "reason": "entered by mistake"},
    {"type": "deal", "id": "d-x-void", "customer": "c-x-bai", "store": "st-nio-sh-1",
     "staff": "sf-nio-sh-ma", "closed_at": "2025-05-10T03:00:00Z", "amount": 29_800_000,
     "reward_pool": 500_000},
    {"type": "void", "id": "v-x-2", "target": "d-x-void", "reason": "order cancelled"},
]  # fmt: skip

# Settled credit, written by hand in the shape the settlement service will write
# ((:Deal)-[:CREDITED {settlement, amount, share, points, model, policy, policy_version}]->...)
# until that service exists. (deal, staff, customer, amount in fen, share, points)
CREDITED: list[tuple[str, str | None, str | None, int, float, int]] = [
    ("d-s1-1", "sf-nio-bj-li", None, 120_000, 0.4, 0),
    ("d-s1-1", "sf-onvo-bj-wang", None, 180_000, 0.6, 0),
    ("d-s1-2", "sf-onvo-bj-zhao", None, 240_000, 0.3, 0),
    ("d-s1-2", "sf-nio-bj-chen", None, 560_000, 0.7, 0),
    ("d-s2-1", "sf-nio-hrb-sun", None, 300_000, 0.6, 0),
    ("d-s2-1", "sf-nio-sanya-lin", None, 200_000, 0.4, 0),
    ("d-s3-1", "sf-onvo-sh-he", None, 175_000, 0.35, 0),
    ("d-s3-1", "sf-nio-sh-gao", None, 325_000, 0.65, 0),
    ("d-s3-2", "sf-onvo-sh-he", None, 100_000, 0.2, 0),
    ("d-s3-2", "sf-nio-sh-gao", None, 400_000, 0.8, 0),
    ("d-s4-1", "sf-onvo-sh-xu", None, 125_000, 0.25, 0),
    ("d-s4-1", "sf-nio-sh-ma", None, 375_000, 0.75, 0),
    ("d-s5-1", "sf-nio-hz-x", None, 225_000, 0.45, 0),
    ("d-s5-1", "sf-nio-hz-y", None, 275_000, 0.55, 0),
    ("d-s6-0", "sf-nio-sh-ma", None, 500_000, 1.0, 0),
    ("d-s6-1", "sf-nio-sh-ma", None, 500_000, 1.0, 0),
    ("d-s6-1", None, "c-s6-tang", 0, 1.0, 2_000),
    ("d-x-gu", "sf-nio-sh-ma", None, 500_000, 1.0, 0),
    ("d-x-void", "sf-nio-sh-ma", None, 500_000, 1.0, 0),  # a voided deal: never shown
]

CREDITED_FIXTURE = Path(__file__).with_name("credited_fixture.cypher")


def store_url(uri: str, user: str, password: str) -> str:
    parts = urlsplit(uri)
    return (
        f"{parts.scheme}://{quote(user)}:{quote(password, safe='')}@{parts.hostname}:{parts.port}"
    )


def wipe(driver: neo4j.Driver) -> None:
    with driver.session(database="neo4j") as session:  # IN TRANSACTIONS needs auto-commit
        session.run(
            "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
        ).consume()


class Graph:
    """The module's Neo4j content: one data set at a time, loaded on demand."""

    def __init__(self, driver: neo4j.Driver, url: str) -> None:
        self.driver = driver
        self.url = url
        self.loaded: str | None = None
        self.events: list[dict[str, Any]] = []
        self.summary: Any = None

    def use(self, name: str) -> Graph:
        if self.loaded == name:
            return self
        wipe(self.driver)
        store = open_store(self.url)
        try:
            if name == "scenarios":
                self.events = all_events() + EXTRA
                ingest_stream(store, self.events)
                rows = [
                    {"deal": d, "staff": s, "customer": c, "settlement": f"set-{d}",
                     "amount": a, "share": share, "points": p}
                    for d, s, c, a, share, p in CREDITED
                ]  # fmt: skip
                self.driver.execute_query(
                    CREDITED_FIXTURE.read_text(encoding="utf-8"), rows=rows, database_="neo4j"
                )
            else:
                stream, self.summary = generate_with_summary("tiny", 1)
                self.events = list(stream)
                ingest_stream(store, self.events)
        finally:
            store.close()
        self.loaded = name
        return self

    def counts(self) -> tuple[int, int, list[str]]:
        records, _, _ = self.driver.execute_query(
            "CALL () { MATCH (n) RETURN count(n) AS nodes } "
            "CALL () { MATCH ()-[r]->() RETURN count(r) AS rels } "
            "CALL () { CALL db.labels() YIELD label RETURN collect(label) AS labels } "
            "RETURN nodes, rels, labels",
            database_="neo4j",
        )
        row = records[0]
        return row["nodes"], row["rels"], sorted(row["labels"])


@pytest.fixture(scope="module")
def graph(neo4j_server: Any, neo4j_driver: neo4j.Driver) -> Iterator[Graph]:
    g = Graph(neo4j_driver, store_url(neo4j_server.uri, neo4j_server.user, neo4j_server.password))
    yield g
    wipe(neo4j_driver)


@pytest.fixture(scope="module")
def service(neo4j_driver: neo4j.Driver) -> QueryService:
    return QueryService(neo4j_driver, "neo4j")


@pytest.fixture
def scenarios(graph: Graph) -> Graph:
    return graph.use("scenarios")


@pytest.fixture
def tiny(graph: Graph) -> Graph:
    return graph.use("tiny")


def run(service: QueryService, name: str, **params: Any) -> list[dict[str, Any]]:
    """The rows of a library query, checked for the header's columns and Neo4j's warnings (no
    deprecated syntax, no unknown label, relationship type or property)."""
    result = service.run_query(name, params)
    assert result.columns == list(get_query(name).returns), "columns differ from the header"
    assert not result.truncated
    warnings = [n for n in result.notifications if "`to` does not exist" not in n]
    assert warnings == [], warnings  # no spell in the data has an end date: `to` is unknown yet
    return result.rows


def column(rows: list[dict[str, Any]], name: str) -> list[Any]:
    return [row[name] for row in rows]


# --- the library itself ------------------------------------------------------------------------


def test_library_headers_are_complete() -> None:
    found = {q.name: q for q in library()}
    assert set(found) >= LIBRARY
    for q in found.values():
        assert q.question.endswith((".", "?", ")")) and len(q.question) > 20, q.name
        assert q.returns and q.example, q.name
        for p in q.parameters:
            assert p.description, (q.name, p.name)
            assert f"${p.name}" in q.text, f"{q.name} declares ${p.name} but never uses it"
    touches = get_query("touches_before_deal")
    deal, days = touches.parameters
    assert (deal.name, deal.type, deal.required) == ("deal", "STRING", True)
    assert (days.name, days.type, days.required, days.default) == ("days", "INTEGER", False, 90)
    stages = get_query("farmers").parameters[0]
    assert stages.type == "LIST<STRING>" and stages.default[:2] == ["lead", "reception"]


def test_parameters_are_typed_and_checked() -> None:
    touches = get_query("touches_before_deal")
    assert touches.bind({"deal": "d-1"}) == {"deal": "d-1", "days": 90}
    assert touches.bind(parse_assignments(["deal=d-1", "days=30"])) == {"deal": "d-1", "days": 30}
    assists = get_query("assists")
    bound = assists.bind(parse_assignments(["from=2025-01-01", "to=2025-02-01T08:00:00+08:00"]))
    assert bound["from"] == datetime(2025, 1, 1, tzinfo=UTC)
    assert bound["to"].utcoffset().total_seconds() == 8 * 3600
    farmers = get_query("farmers").bind(parse_assignments(["early_stages=lead, test_drive"]))
    assert farmers["early_stages"] == ["lead", "test_drive"]
    with pytest.raises(QueryParameterError) as unknown:
        touches.bind({"deal": "d-1", "dayz": 3})
    assert unknown.value.name == "dayz" and "$days" in str(unknown.value)
    with pytest.raises(QueryParameterError) as missing:
        touches.bind({"days": 3})
    assert missing.value.name == "deal"
    with pytest.raises(QueryParameterError) as mistyped:
        touches.bind({"deal": "d-1", "days": "soon"})
    assert mistyped.value.name == "days" and "INTEGER" in str(mistyped.value)
    with pytest.raises(QueryParameterError, match=r"\$deal"):
        touches.bind({"deal": 7})
    with pytest.raises(QueryParameterError):
        parse_assignments(["days"])
    with pytest.raises(UnknownQuery):
        get_query("no_such_query")
    with pytest.raises(Neo4jRequired, match="needs the Neo4j store"):
        QueryService.open("sqlite:///./somewhere.db")


# --- known answers from the scenarios ----------------------------------------------------------


def test_customer_journey(scenarios: Graph, service: QueryService) -> None:
    liu = run(service, "customer_journey", customer="c-s2-liu")
    assert [(r["kind"], r["stage"], r["who"]) for r in liu] == [
        ("touch", "lead", "sf-nio-hrb-sun"),
        ("touch", "reception", "sf-nio-hrb-sun"),
        ("touch", "consultation", "sf-nio-sanya-lin"),
        ("touch", "test_drive", "sf-nio-sanya-lin"),
        ("touch", "quote", "sf-nio-hrb-sun"),
        ("touch", "order", "sf-nio-hrb-sun"),
        ("deal", None, "sf-nio-hrb-sun"),
        ("touch", "delivery", "sf-nio-hrb-sun"),
    ]
    assert liu[0]["at"] == "2024-12-02T02:00:00Z" and liu[0]["detail"] == "app"
    assert liu[6]["detail"] == "d-s2-1 amount 29800000 fen"
    handed = run(service, "customer_journey", customer="c-s3-1")
    assert column(handed, "kind") == ["touch", "touch", "handover", "touch", "touch", "deal"]
    assert handed[2]["detail"] == "h-s3-1 to sf-nio-sh-gao"
    referred = run(service, "customer_journey", customer="c-s6-feng")
    assert referred[0]["kind"] == "referral" and referred[0]["who"] == "c-s6-tang"
    assert referred[0]["detail"] == "by owner"
    grabbed = run(service, "customer_journey", customer="c-s5-qian")
    assert len(grabbed) == 8  # 7 touches (t-s5-5 is voided) and the deal
    bai = run(service, "customer_journey", customer="c-x-bai")
    assert column(bai, "kind") == ["referral"]  # the voided deal is not shown
    assert run(service, "customer_journey", customer="nobody") == []


def test_touches_before_deal(scenarios: Graph, service: QueryService) -> None:
    rows = run(service, "touches_before_deal", deal="d-s5-1", days=30)
    assert column(rows, "stage") == [
        "reception", "test_drive", "test_drive", "test_drive", "test_drive", "quote", "order",
    ]  # fmt: skip
    assert column(rows, "days_before") == [22.06, 22.03, 14.89, 14.89, 8.01, 0.83, 0.01]
    assert set(column(rows, "store_city")) == {"Hangzhou"}
    week = run(service, "touches_before_deal", deal="d-s5-1", days=7)
    assert column(week, "staff") == ["sf-nio-hz-y", "sf-nio-hz-y"]
    cross_city = run(service, "touches_before_deal", deal="d-s2-1", days=30)
    assert column(cross_city, "store") == [
        "st-nio-sanya-1", "st-nio-sanya-1", "st-nio-hrb-1", "st-nio-hrb-1",
    ]  # fmt: skip
    assert len(run(service, "touches_before_deal", deal="d-s2-1")) == 6  # default 90 days
    assert run(service, "touches_before_deal", deal="d-x-void") == []


def test_assists(scenarios: Graph, service: QueryService) -> None:
    rows = run(service, "assists")
    by_deal = {r["deal"]: r for r in rows}
    assert list(by_deal) == ["d-s3-1", "d-s1-1", "d-s2-1", "d-s1-2", "d-s4-1", "d-s5-1"]
    assert by_deal["d-s1-1"]["closing_store"] == "st-onvo-bj-1"
    assert by_deal["d-s1-1"]["first_store"] == "st-nio-bj-1"
    assert by_deal["d-s2-1"]["first_store"] == "st-nio-hrb-1"  # assisted later, in Sanya
    assert by_deal["d-s2-1"]["assisting_staff"] == ["sf-nio-sanya-lin"]
    assert by_deal["d-s5-1"]["assist_touches"] == 5
    assert by_deal["d-s4-1"]["assisting_stores"] == ["st-onvo-sh-2"]
    one_store = run(service, "assists", store="st-nio-sh-1")
    assert column(one_store, "deal") == ["d-s3-1", "d-s4-1"]
    in_2025 = run(service, "assists", **{"from": "2025-01-01T00:00:00Z", "to": "2025-03-01"})
    assert column(in_2025, "deal") == ["d-s1-1", "d-s2-1", "d-s1-2"]


def test_cross_brand_referrals(scenarios: Graph, service: QueryService) -> None:
    rows = run(service, "cross_brand_referrals")
    assert rows == [
        {"from_brand": "nio", "to_brand": "onvo", "referrals": 1, "converted": 1,
         "conversion": 1.0, "referred_customers": ["c-s1-zhang"]},
        {"from_brand": "onvo", "to_brand": "nio", "referrals": 1, "converted": 1,
         "conversion": 1.0, "referred_customers": ["c-s1-sun"]},
    ]  # fmt: skip
    january = run(service, "cross_brand_referrals", **{"from": "2025-01-01", "to": "2025-02-01"})
    assert [(r["from_brand"], r["to_brand"]) for r in january] == [("nio", "onvo")]


def test_handover_conversion(scenarios: Graph, service: QueryService) -> None:
    rows = run(service, "handover_conversion")
    assert rows == [
        {"handover": "h-s3-1", "at": "2024-12-20T02:00:00Z", "from_staff": "sf-onvo-sh-he",
         "to_staff": "sf-nio-sh-gao", "customers": 5, "converted": 2, "closed_by_receiver": 2,
         "conversion": 0.4, "amount": 2 * 29_800_000},
    ]  # fmt: skip
    assert run(service, "handover_conversion", handover="h-s3-1") == rows
    assert run(service, "handover_conversion", handover="h-none") == []


def test_cross_city_assists(scenarios: Graph, service: QueryService) -> None:
    rows = run(service, "cross_city_assists")
    assert rows == [
        {"deal": "d-s2-1", "closed_at": "2025-01-28T07:30:00Z", "customer": "c-s2-liu",
         "home_city": "Harbin", "closing_store": "st-nio-hrb-1", "closing_city": "Harbin",
         "assisting_store": "st-nio-sanya-1", "assisting_city": "Sanya",
         "assisting_staff": ["sf-nio-sanya-lin"], "touches": 2},
    ]  # fmt: skip
    assert run(service, "cross_city_assists", **{"from": "2025-02-01"}) == []


def test_joint_event_reach(scenarios: Graph, service: QueryService) -> None:
    rows = run(service, "joint_event_reach")
    assert rows == [
        {"joint_event": "je-s4-1", "name": "Jing'an Kerry spring roadshow",
         "at": "2025-03-08T02:00:00Z", "organisers": ["st-nio-sh-1", "st-onvo-sh-2"],
         "reached": 1, "converted": 1, "converted_at_organisers": 1, "conversion": 1.0},
    ]  # fmt: skip


def test_farmers(scenarios: Graph, service: QueryService) -> None:
    """Credited on a deal someone else closed, for a touch at an early stage that counts for it
    (the fixture's hand-written credit)."""
    rows = run(service, "farmers")
    by_staff = {r["staff"]: r for r in rows}
    assert list(by_staff) == [  # one farmed deal each: by the fen it paid
        "sf-onvo-bj-zhao", "sf-nio-hz-x", "sf-nio-sanya-lin", "sf-onvo-sh-he", "sf-onvo-sh-xu",
        "sf-nio-bj-li",
    ]  # fmt: skip
    assert by_staff["sf-onvo-sh-he"] == {
        "staff": "sf-onvo-sh-he", "name": "He Jun", "store": "st-onvo-sh-1",
        "early_deals": 1, "farmed_deals": 1, "farmed": 175_000, "farmed_share": 1.0,
    }  # fmt: skip
    assert "sf-nio-sh-ma" not in by_staff  # early work, but on their own closes only
    assert "sf-nio-hz-y" not in by_staff  # closed d-s5-1 themselves
    limited = run(service, "farmers", early_stages=["event"], limit=5)
    assert column(limited, "staff") == ["sf-onvo-sh-xu"]
    assert run(service, "farmers", min_deals=2) == []
    assert run(service, "farmers", lookback_days=0) == []  # every early touch is days older


def _days_to_close(events: list[dict[str, Any]]) -> dict[str, list[float]]:
    """Independently of Cypher: days from each deal customer's first touch to the close."""
    voided = {e["target"] for e in events if e["type"] == "void"}
    brand = {e["id"]: e["brand"] for e in events if e["type"] == "store"}

    def when(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    touches: dict[str, list[datetime]] = {}
    for e in events:
        if e["type"] == "touch" and e["id"] not in voided:
            touches.setdefault(e["customer"], []).append(when(e["at"]))
    out: dict[str, list[float]] = {}
    for e in events:
        if e["type"] != "deal" or e["id"] in voided:
            continue
        closed = when(e["closed_at"])
        before = [t for t in touches.get(e["customer"], []) if t <= closed]
        if before:
            days = (closed - min(before)).total_seconds() / 86_400
            out.setdefault(brand[e["store"]], []).append(days)
    return out


def _check_time_to_close(rows: list[dict[str, Any]], events: list[dict[str, Any]]) -> None:
    expected = _days_to_close(events)
    assert column(rows, "brand") == sorted(expected)
    for row in rows:
        days = sorted(expected[row["brand"]])
        assert row["deals"] == len(days)
        assert row["avg_days"] == pytest.approx(statistics.fmean(days), abs=0.006)
        assert row["median_days"] == pytest.approx(statistics.median(days), abs=0.006)
        p90 = statistics.quantiles(days, n=10, method="inclusive")[-1] if len(days) > 1 else days[0]
        assert row["p90_days"] == pytest.approx(p90, abs=0.006)
        assert row["min_days"] == pytest.approx(days[0], abs=0.006)
        assert row["max_days"] == pytest.approx(days[-1], abs=0.006)


def test_time_to_close_by_brand(scenarios: Graph, service: QueryService) -> None:
    rows = run(service, "time_to_close_by_brand")
    assert [(r["brand"], r["deals"]) for r in rows] == [("nio", 9), ("onvo", 1)]
    assert rows[1]["avg_days"] == 8.17  # d-s1-1: 4 Jan 03:00 to 12 Jan 07:10
    _check_time_to_close(rows, scenarios.events)


def test_collaborating_staff(scenarios: Graph, service: QueryService) -> None:
    rows = run(service, "collaborating_staff")
    assert [(r["staff_a"], r["staff_b"], r["shared_deals"]) for r in rows] == [
        ("sf-nio-sh-gao", "sf-onvo-sh-he", 2),
        ("sf-nio-bj-chen", "sf-onvo-bj-zhao", 1),
        ("sf-nio-hrb-sun", "sf-nio-sanya-lin", 1),
        ("sf-nio-hz-x", "sf-nio-hz-y", 1),
        ("sf-nio-sh-ma", "sf-onvo-sh-xu", 1),
        ("sf-nio-bj-li", "sf-onvo-bj-wang", 1),
    ]
    assert rows[0] == {
        "staff_a": "sf-nio-sh-gao", "staff_b": "sf-onvo-sh-he", "store_a": "st-nio-sh-1",
        "store_b": "st-onvo-sh-1", "shared_deals": 2, "amount_a": 725_000, "amount_b": 275_000,
        "deals": ["d-s3-1", "d-s3-2"],
    }  # fmt: skip
    assert len(run(service, "collaborating_staff", min_deals=2)) == 1
    assert len(run(service, "collaborating_staff", limit=2)) == 2


def test_collaborating_stores(scenarios: Graph, service: QueryService) -> None:
    rows = run(service, "collaborating_stores")
    assert [(r["store_a"], r["store_b"], r["cross_brand"], r["shared_deals"]) for r in rows] == [
        ("st-nio-bj-1", "st-onvo-bj-1", True, 2),
        ("st-nio-sh-1", "st-onvo-sh-1", True, 2),
        ("st-nio-hrb-1", "st-nio-sanya-1", False, 1),
        ("st-nio-hz-a", "st-nio-hz-b", False, 1),
        ("st-nio-sh-1", "st-onvo-sh-2", True, 1),
    ]
    beijing = rows[0]
    assert (beijing["amount_a"], beijing["amount_b"]) == (120_000 + 560_000, 180_000 + 240_000)


def test_advisor_credits(scenarios: Graph, service: QueryService) -> None:
    rows = run(service, "advisor_credits", staff="sf-nio-sh-ma")
    assert [(r["deal"], r["share"], r["amount"]) for r in rows] == [
        ("d-s6-0", 1.0, 500_000),
        ("d-s6-1", 1.0, 500_000),
        ("d-s4-1", 0.75, 375_000),
        ("d-x-gu", 1.0, 500_000),
    ]  # d-x-void is voided
    assert rows[2] == {
        "deal": "d-s4-1", "closed_at": "2025-03-22T06:15:00Z", "store": "st-nio-sh-1",
        "customer": "c-s4-ma", "closed_by": "sf-nio-sh-ma", "share": 0.75, "amount": 375_000,
        "points": 0, "reward_pool": 500_000, "settlement": "set-d-s4-1", "model": "rules",
        "policy": "default", "policy_version": 1,
    }  # fmt: skip
    farmer = run(service, "advisor_credits", staff="sf-nio-hz-x")
    assert [(r["deal"], r["closed_by"], r["share"]) for r in farmer] == [
        ("d-s5-1", "sf-nio-hz-y", 0.45)
    ]
    march = run(
        service,
        "advisor_credits",
        staff="sf-nio-sh-ma",
        **{"from": "2025-03-01", "to": "2025-04-01"},
    )
    assert column(march, "deal") == ["d-s6-1", "d-s4-1"]
    assert run(service, "advisor_credits", staff="nobody") == []


def test_owner_referral_chains(scenarios: Graph, service: QueryService) -> None:
    rows = run(service, "owner_referral_chains")
    assert rows == [
        {
            "root": "c-s6-tang",
            "chain": ["c-s6-tang", "c-s6-feng", "c-x-gu", "c-x-bai"],
            "depth": 3,
            "converted": 2,
            "deals": ["d-s6-1", "d-x-gu"],
        },
    ]  # fmt: skip  (r-x-3 to c-x-kong is voided; d-x-void too)
    assert run(service, "owner_referral_chains", min_depth=4) == []


# --- free Cypher: reads work, nothing else does ------------------------------------------------


def test_read_only_cypher_returns_plain_json(scenarios: Graph, service: QueryService) -> None:
    result = service.run_cypher(
        "MATCH (s:Store {brand: $brand}) RETURN s.id AS store, s.city AS city ORDER BY store",
        {"brand": "onvo"},
    )
    assert result.columns == ["store", "city"]
    assert result.rows[0] == {"store": "st-onvo-bj-1", "city": "Beijing"}
    assert not result.truncated and result.notifications == []
    path = service.run_cypher(
        "MATCH p = (:Staff {id: 'sf-nio-hz-x'})-[t:TOUCHED {id: 't-s5-1'}]->(c) "
        "RETURN p, t.at AS at, c, date('2025-01-02') AS day, duration('P1D') AS span;"
    ).rows[0]
    assert path["at"] == "2025-04-05T02:00:00Z"
    assert path["c"]["labels"] == ["Customer"] and path["c"]["properties"]["id"] == "c-s5-qian"
    assert path["p"]["relationships"][0]["type"] == "TOUCHED"
    assert (path["day"], path["span"]) == ("2025-01-02", "P1D")
    labels = service.run_cypher("CALL db.labels() YIELD label RETURN label ORDER BY label")
    assert "Deal" in column(labels.rows, "label")
    unknown = service.run_cypher("MATCH (n:NoSuchLabel) RETURN n")
    assert unknown.rows == [] and any("NoSuchLabel" in n for n in unknown.notifications)


WRITES = [
    "CREATE (:Intruder)",
    "MERGE (n:Intruder {id: 1}) RETURN n",
    "MATCH (d:Deal) SET d.amount = 0",
    "MATCH (d:Deal) WITH d LIMIT 1 CREATE (d)-[:HACKED]->(:Intruder)",
    "MATCH (d:Deal) DETACH DELETE d",
    "MATCH (t:Staff) DELETE t",
    "MATCH (d:Deal) REMOVE d.amount",
    "MATCH (d:Deal) REMOVE d:Deal",
    "MATCH (s:Store) WITH s MERGE (s)-[:X]->(s)",
    "LOAD CSV FROM 'file:///etc/passwd' AS line RETURN line",
    "WITH 1 AS x LOAD CSV FROM 'https://example.com/x.csv' AS line RETURN line",
    "CALL db.createLabel('Intruder')",
    "CALL db.createProperty('intruder')",
    "CALL db.createRelationshipType('INTRUDED')",
    "CALL `db`.`createLabel`('Intruder')",
    "CALL db.stats.clear('QUERIES')",
    "CALL dbms.listConfig()",
    "MATCH (n) WITH n LIMIT 1 CALL db.createLabel('Intruder') RETURN n",
    "CALL () { CREATE (:Intruder) }",
    "MATCH (d:Deal) CALL (d) { SET d.voided = true } RETURN d",
    "CALL () { MATCH (n) RETURN n } IN TRANSACTIONS RETURN n",
    "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10 ROWS",
    "MATCH (n) RETURN n; CREATE (:Intruder)",
    "MATCH (n) RETURN count(n);\nMATCH (n) DETACH DELETE n",
    "RETURN 1 AS x UNION CREATE (i:Intruder) RETURN 1 AS x",
    "FOREACH (x IN [1] | CREATE (:Intruder))",
    "SHOW TRANSACTIONS",
    "TERMINATE TRANSACTIONS 'neo4j-transaction-1'",
    "SHOW USERS",
    "CREATE INDEX intruder IF NOT EXISTS FOR (n:Intruder) ON (n.id)",
    "DROP CONSTRAINT deal_id",
    "EXPLAIN CREATE (:Intruder)",
    "PROFILE MATCH (n) RETURN n",
    "// a comment, then a write\nCREATE (:Intruder)",
    "MATCH (n) RETURN n /* unterminated ; CREATE (:Intruder)",
    "",
]


@pytest.mark.parametrize("text", WRITES)
def test_writes_of_every_form_are_refused(
    text: str, scenarios: Graph, service: QueryService
) -> None:
    before = scenarios.counts()
    with pytest.raises((QueryRefused, QueryError)):
        service.run_cypher(text)
    assert scenarios.counts() == before


def test_each_lock_holds_alone(
    scenarios: Graph, service: QueryService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the lexical check, EXPLAIN refuses; without both, the READ transaction does."""
    before = scenarios.counts()
    monkeypatch.setattr(queries, "check_read_only", lambda text: text)
    for text, why in [
        ("LOAD CSV FROM 'file:///etc/passwd' AS line RETURN line", "LOAD CSV"),
        ("CALL db.createLabel('Intruder')", "write"),
        ("CALL db.stats.clear('QUERIES')", "db.stats.clear"),
        ("SHOW TRANSACTIONS", "administration"),
        ("TERMINATE TRANSACTIONS 'neo4j-transaction-1'", "administration"),
        ("MATCH (d:Deal) SET d.amount = 0", "write"),
    ]:
        with pytest.raises(QueryRefused, match=why):
            service.run_cypher(text)
    monkeypatch.setattr(queries, "_check_plan", lambda summary: None)
    for text in ("CREATE (:Intruder)", "MATCH (d:Deal) SET d.amount = 0"):
        with pytest.raises(QueryError) as refused:
            service.run_cypher(text)
        assert refused.value.code == "Neo.ClientError.Statement.AccessMode"
        assert "read access mode" in refused.value.message
    assert scenarios.counts() == before


def test_lexical_check() -> None:
    assert check_read_only("MATCH (n) RETURN n;  // done") == "MATCH (n) RETURN n"
    assert check_read_only("RETURN 'a;b' AS x") == "RETURN 'a;b' AS x"
    assert check_read_only('RETURN "it\\"s; CREATE" AS x /* ; */')
    assert check_read_only("MATCH (c:Call) RETURN c.call, c.load AS csv")
    assert check_read_only("CALL db.labels() YIELD label RETURN label")
    assert check_read_only("CALL db.schema.visualization")
    assert check_read_only("OPTIONAL CALL (x) { RETURN 1 AS y } RETURN y")
    for text, reason in [
        ("MATCH (n) RETURN n; MATCH (m) RETURN m", "one statement"),
        ("load csv from 'x' as l return l", "starts with"),
        ("WITH 1 AS x LOAD\nCSV FROM 'x' AS l RETURN l", "LOAD CSV"),
        ("CALL apoc.cypher.runWrite('CREATE (:X)', {})", "apoc.cypher.runWrite"),
        ("CALL db . createLabel('X')", "db.createLabel"),
        ("CALL () { RETURN 1 AS x } IN TRANSACTIONS RETURN x", "IN TRANSACTIONS"),
        ("RETURN 'open", "unterminated string"),
        ("RETURN `open", "unterminated quoted"),
    ]:
        with pytest.raises(QueryRefused, match=reason):
            check_read_only(text)


def test_slow_query_is_stopped_at_the_timeout(scenarios: Graph, service: QueryService) -> None:
    # QueryTimeout (not a result after minutes) is the proof: tests never assert wall-clock time
    with pytest.raises(QueryTimeout) as stopped:
        service.run_cypher(
            "UNWIND range(1, 100000000) AS x UNWIND range(1, 100) AS y RETURN count(*) AS n",
            timeout=1.0,
        )
    assert "timeout" in str(stopped.value) and stopped.value.code
    assert service.run_cypher("RETURN 1 AS one").rows == [{"one": 1}]  # the next one runs


def test_huge_result_stops_at_the_cap(scenarios: Graph, service: QueryService) -> None:
    huge = service.run_cypher("UNWIND range(1, 50000000) AS x RETURN x", max_rows=250)
    assert huge.truncated and huge.row_count == 250 and huge.rows[-1] == {"x": 250}
    exact = service.run_cypher("UNWIND range(1, 250) AS x RETURN x", max_rows=250)
    assert not exact.truncated and exact.row_count == 250
    capped = service.run_query("customer_journey", {"customer": "c-s5-qian"}, max_rows=3)
    assert capped.truncated and capped.row_count == 3


def test_neo4j_errors_carry_neo4js_message(scenarios: Graph, service: QueryService) -> None:
    with pytest.raises(QueryError) as syntax:
        service.run_cypher("MATCH (n RETURN n")
    assert syntax.value.code == "Neo.ClientError.Statement.SyntaxError"
    assert "Invalid input" in syntax.value.message
    with pytest.raises(QueryError) as missing:
        service.run_cypher("MATCH (n {id: $id}) RETURN n")
    assert "id" in missing.value.message and missing.value.code


# --- the tiny generated network: the generator's own counts ------------------------------------


def test_tiny_network_scenario_counts(tiny: Graph, service: QueryService) -> None:
    summary = tiny.summary
    referrals = {(r["from_brand"], r["to_brand"]): r for r in run(service, "cross_brand_referrals")}
    for direction, count in summary.cross_brand_referrals.items():
        row = referrals[tuple(direction.split("->"))]
        assert row["referrals"] == count, direction
        assert row["converted"] == summary.cross_brand_deals[direction], direction
    handovers = run(service, "handover_conversion")
    assert len(handovers) == summary.handover_events
    assert sum(column(handovers, "customers")) == summary.handover_customers
    assert sum(column(handovers, "converted")) == summary.handover_deals
    events = run(service, "joint_event_reach")
    assert len(events) == summary.joint_events
    assert sum(column(events, "reached")) == summary.joint_event_touches
    assert sum(column(events, "converted")) == summary.joint_event_deals
    assists = run(service, "cross_city_assists")
    assert len(set(column(assists, "deal"))) == summary.cross_city_assist_deals
    assert all(r["home_city"] != r["assisting_city"] for r in assists)


def test_tiny_network_time_to_close_and_chains(tiny: Graph, service: QueryService) -> None:
    _check_time_to_close(run(service, "time_to_close_by_brand"), tiny.events)
    # Owner referral chains, computed from the events without Cypher.
    voided = {e["target"] for e in tiny.events if e["type"] == "void"}
    edges: dict[str, list[str]] = {}
    referred: set[str] = set()
    for e in tiny.events:
        if e["type"] == "referral" and e.get("referrer_customer") and e["id"] not in voided:
            edges.setdefault(e["referrer_customer"], []).append(e["customer"])
            referred.add(e["customer"])

    def paths(node: str) -> list[list[str]]:
        nexts = edges.get(node, [])
        return [[node]] if not nexts else [[node, *p] for n in nexts for p in paths(n)]

    expected = sorted(
        tuple(p) for root in edges if root not in referred for p in paths(root) if len(p) >= 3
    )
    rows = run(service, "owner_referral_chains")
    assert expected and sorted(tuple(r["chain"]) for r in rows) == expected
