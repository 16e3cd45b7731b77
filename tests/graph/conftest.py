"""A hand-built network of settled credit with known answers.

Four stores: NIO ``n1`` and ONVO ``o1`` share a Shanghai mall (East), NIO ``n2`` is in Beijing
(North), ONVO ``o2`` in Haikou (South). Five deals, amounts in fen:

=====  ==========  ======  ==============================================================
deal   closed      at, by  credit
=====  ==========  ======  ==============================================================
d1     2025-01-10  o1 o1a  n1x (n1) 300 -- a NIO advisor referred to ONVO; o1a (o1) 200
d2     2025-01-20  n1 n1x  n1x (n1) 400; o2h (o2) 100 -- a holiday assist in Haikou;
                           owner c9 1,000 points
d3     2025-02-05  n2 n2y  n2y (n2) 500
d4     2025-02-10  n1 n1z  o1a (o1) 250; n1z (n1) 250; n1x 100 for a joint event of n1
                           and o1, credited 50 to each store
d5     2025-02-20  n2 n2y  o2h (o2) 100; n2y (n2) 300
=====  ==========  ======  ==============================================================
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from contribnet.domain.credit_rows import CreditRow

STORES = {
    "n1": ("nio", "Shanghai", "East"),
    "o1": ("onvo", "Shanghai", "East"),
    "n2": ("nio", "Beijing", "North"),
    "o2": ("onvo", "Haikou", "South"),
}
DEALS = {  # deal: (closed on, store, closer)
    "d1": ("2025-01-10", "o1", "o1a"),
    "d2": ("2025-01-20", "n1", "n1x"),
    "d3": ("2025-02-05", "n2", "n2y"),
    "d4": ("2025-02-10", "n1", "n1z"),
    "d5": ("2025-02-20", "n2", "n2y"),
}
CREDIT = [  # deal, contributor, store credited, fen
    ("d1", "n1x", "n1", 300),
    ("d1", "o1a", "o1", 200),
    ("d2", "n1x", "n1", 400),
    ("d2", "o2h", "o2", 100),
    ("d3", "n2y", "n2", 500),
    ("d4", "o1a", "o1", 250),
    ("d4", "n1z", "n1", 250),
    ("d4", "n1x", "n1", 50),
    ("d4", "n1x", "o1", 50),
    ("d5", "o2h", "o2", 100),
    ("d5", "n2y", "n2", 300),
]


def _row(deal: str, kind: str, contributor: str, store: str | None, amount: int, points: int):
    day, deal_store, closer = DEALS[deal]
    deal_brand, deal_city, deal_region = STORES[deal_store]
    brand, city, region = STORES[store] if store else (None, None, None)
    return CreditRow(
        settlement=f"s-{deal}",
        deal=deal,
        closed_at=datetime.fromisoformat(day).replace(hour=6, tzinfo=UTC),
        deal_store=deal_store,
        deal_brand=deal_brand,
        deal_city=deal_city,
        deal_region=deal_region,
        closer=closer,
        kind=kind,  # type: ignore[arg-type]
        contributor=contributor,
        store=store,
        brand=brand,
        city=city,
        region=region,
        amount=amount,
        points=points,
        share=0.0,
    )


def network() -> list[CreditRow]:
    rows = [_row(d, "staff", c, s, fen, 0) for d, c, s, fen in CREDIT]
    rows.append(_row("d2", "owner", "c9", None, 0, 1_000))
    return rows


@pytest.fixture
def rows() -> list[CreditRow]:
    return network()


@pytest.fixture
def stores() -> dict[str, tuple[str, str, str]]:
    """Store id to (brand, city, region)."""
    return dict(STORES)
