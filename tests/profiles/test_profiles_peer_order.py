"""The region's averages do not depend on the order a store hands the advisors over in.

Found on the demo network: every input of the profiles (touches, activities, spells, stores)
and every settlement were the same on SQLite and Neo4j, yet 341 of 495 advisors' profiles
differed, each in the last digit of a conversion average. SQLite returns the spells by staff
id, Neo4j in the order of its event nodes, and the mean was a running float sum over the peers
in that order.

The network: three advisors of NIO Shanghai (East) whose reception conversions are 2/3, 1/2
and 1/3; summed in the order of their ids that is 1.4999999999999998, and the mean 0.5 would
come out as 0.49999999999999994 (the staff events are loaded in id order too).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from tests.conftest import Neo4jServer
from tests.contract.conftest import _wipe
from tests.profiles.conftest import _staff, _store, deal, touch

from contribnet.services.ingest import ingest_events
from contribnet.services.policies import ensure_default_policy
from contribnet.services.profiles import board_profile, profile_board, staff_profile
from contribnet.services.settlement import settle_period
from contribnet.store import Store, open_store

#: Each advisor's customers received, and how many of them bought (from that advisor).
RECEIVED = {"sf-a": (3, 2), "sf-b": (2, 1), "sf-c": (3, 1)}


def _network() -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = [
        {"type": "brand", "id": "nio", "name": "NIO"},
        _store("st-a", "NIO Shanghai", "nio", "Shanghai", "East"),
    ]
    events += [_staff(staff, staff, "st-a") for staff in RECEIVED]
    for staff, (customers, bought) in RECEIVED.items():
        for n in range(1, customers + 1):
            customer = f"c-{staff}-{n}"
            events.append({"type": "customer", "id": customer, "city": "Shanghai"})
            events.append(touch(f"t-{customer}", 3, customer, staff, "st-a", "reception"))
            if n <= bought:
                events.append(deal(f"d-{customer}", 10, customer, staff, "st-a", 100_000))
    return events


@pytest.fixture(params=["sqlite", "neo4j"])
def store(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Store]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'order.db'}"
    else:
        server: Neo4jServer = request.getfixturevalue("neo4j_server")
        _wipe(request.getfixturevalue("neo4j_driver"))
        url = server.store_url
    opened = open_store(url)
    try:
        ingest_events(opened, _network())
        ensure_default_policy(opened)
        for _ in settle_period(opened, None, None, requested_by="test"):
            pass
        yield opened
    finally:
        opened.close()


def _reception(profile: Any) -> Any:
    return next(s for s in profile.stages if s.stage == "reception")


def test_conversion_average_is_the_exact_mean_of_the_peers(store: Store) -> None:
    board = profile_board(store, date(2025, 1, 1), date(2025, 1, 31))
    conversions = {staff: _reception(board_profile(board, staff)).conversion for staff in RECEIVED}
    assert {staff: c.value for staff, c in conversions.items()} == {
        staff: bought / customers for staff, (customers, bought) in RECEIVED.items()
    }
    # 0.5 exactly: 2/3 + 1/2 + 1/3 summed in id order is 1.4999999999999998.
    assert math.fsum([2 / 3, 1 / 2, 1 / 3]) / 3 == 0.5 != sum([2 / 3, 1 / 2, 1 / 3]) / 3
    assert {c.average for c in conversions.values()} == {0.5}
    assert {c.top_decile for c in conversions.values()} == {2 / 3}


def test_one_profile_matches_the_board(store: Store) -> None:
    board = profile_board(store, date(2025, 1, 1), date(2025, 1, 31))
    one = staff_profile(store, "sf-b", date(2025, 1, 1), date(2025, 1, 31))
    assert one == board_profile(board, "sf-b")
    assert _reception(one).conversion.average == 0.5
