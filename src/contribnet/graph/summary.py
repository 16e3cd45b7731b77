"""Headline figures of settled credit: how much of it crossed a store, brand or city line."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from contribnet.domain.credit_rows import CreditRow
from contribnet.graph.filters import business_day

__all__ = ["CreditSummary", "credit_summary", "monthly_summary"]


@dataclass(frozen=True)
class CreditSummary:
    """Totals over staff credit, in fen.

    ``cross_store`` is credit earned for a store other than the one that closed the deal;
    ``cross_brand`` and ``cross_city`` likewise for brands and cities (rows with either side
    unknown do not count as crossing). ``deals`` counts distinct deals, ``contributors``
    distinct staff credited.
    """

    deals: int
    contributors: int
    credit: int
    cross_store: int
    cross_brand: int
    cross_city: int


def credit_summary(rows: Iterable[CreditRow]) -> CreditSummary:
    """Totals of staff credit, and how much of it crossed a store, brand or city line.

    >>> from datetime import UTC, datetime
    >>> def row(deal, store, brand, amount):
    ...     return CreditRow(settlement="s", deal=deal, closed_at=datetime(2025, 1, 5, tzinfo=UTC),
    ...         deal_store="o1", deal_brand="onvo", deal_city="Haikou", deal_region="South",
    ...         closer="y", kind="staff", contributor=store + "-staff", store=store, brand=brand,
    ...         city="Haikou", region="South", amount=amount, points=0, share=0.5)
    >>> credit_summary([row("d1", "n1", "nio", 300), row("d1", "o1", "onvo", 200)])
    CreditSummary(deals=1, contributors=2, credit=500, cross_store=300, cross_brand=300, \
cross_city=0)
    """
    deals: set[str] = set()
    staff: set[str] = set()
    credit = cross_store = cross_brand = cross_city = 0
    for r in rows:
        if r.kind != "staff":
            continue
        deals.add(r.deal)
        staff.add(r.contributor)
        credit += r.amount
        if r.store is not None and r.store != r.deal_store:
            cross_store += r.amount
        if r.brand is not None and r.deal_brand is not None and r.brand != r.deal_brand:
            cross_brand += r.amount
        if r.city is not None and r.deal_city is not None and r.city != r.deal_city:
            cross_city += r.amount
    return CreditSummary(len(deals), len(staff), credit, cross_store, cross_brand, cross_city)


def monthly_summary(
    rows: Iterable[CreditRow], store: str | None = None
) -> list[tuple[str, CreditSummary]]:
    """:func:`credit_summary` month by month (``YYYY-MM`` of the close, China Standard Time),
    in order; with ``store``, only the credit earned for that store or on its deals. Months
    with no credit between the first and the last are included, with zeros.

    >>> from datetime import UTC, datetime
    >>> def row(deal, month, store, amount):
    ...     return CreditRow(settlement="s", deal=deal, closed_at=datetime(2025, month, 5,
    ...         tzinfo=UTC), deal_store="o1", deal_brand="onvo", deal_city="Haikou",
    ...         deal_region="South", closer="y", kind="staff", contributor="x", store=store,
    ...         brand="nio", city="Haikou", region="South", amount=amount, points=0, share=1.0)
    >>> [(m, s.credit, s.cross_brand) for m, s in monthly_summary(
    ...     [row("d1", 1, "n1", 300), row("d2", 3, "o1", 200)])]
    [('2025-01', 300, 300), ('2025-02', 0, 0), ('2025-03', 200, 200)]
    """
    months: dict[str, list[CreditRow]] = {}
    for r in rows:
        if store is not None and store not in (r.store, r.deal_store):
            continue
        months.setdefault(business_day(r.closed_at).strftime("%Y-%m"), []).append(r)
    if not months:
        return []
    first, last = min(months), max(months)
    out = []
    y, m = int(first[:4]), int(first[5:])
    while (key := f"{y:04d}-{m:02d}") <= last:
        out.append((key, credit_summary(months.get(key, []))))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out
