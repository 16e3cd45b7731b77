"""Staff credit profiles, and the "farmers" (种地): staff whose credit comes mostly from deals
others closed."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from contribnet.domain.credit_rows import CreditRow

__all__ = ["StaffCredit", "farmers", "staff_credit", "store_contributors"]


@dataclass(frozen=True)
class StaffCredit:
    """What one staff member earned, and how much of it on other people's deals.

    ``own`` is credit on deals they closed themselves, ``assists`` on deals someone else closed
    (``credit = own + assists``); ``other_stores`` is the part earned for a store other than the
    one that closed the deal, ``other_brands`` for a brand other than the closing one.
    ``store``, ``brand``, ``city``, ``region`` are the staff member's home: the store most of
    their credit was earned for. ``deals_assisted`` counts distinct deals closed by others,
    ``closers_helped`` the distinct colleagues who closed them.
    """

    staff: str
    store: str | None
    brand: str | None
    city: str | None
    region: str | None
    credit: int
    own: int
    assists: int
    assist_ratio: float
    other_stores: int
    other_brands: int
    deals_credited: int
    deals_assisted: int
    closers_helped: int


def staff_credit(rows: Iterable[CreditRow]) -> list[StaffCredit]:
    """Each staff member's credit profile, ordered by staff id.

    Owner rows (points, not cash) are skipped.

    Examples
    --------
    ``x`` test-drove two customers that ``y`` closed, and closed one deal alone:

    >>> from datetime import UTC, datetime
    >>> def row(deal, contributor, closer, amount):
    ...     return CreditRow(settlement="s", deal=deal, closed_at=datetime(2025, 1, 5, tzinfo=UTC),
    ...         deal_store="b", deal_brand="onvo", deal_city="Shanghai", deal_region="East",
    ...         closer=closer, kind="staff", contributor=contributor, store="a", brand="nio",
    ...         city="Shanghai", region="East", amount=amount, points=0, share=0.5)
    >>> x = staff_credit([row("d1", "x", "y", 300), row("d2", "x", "y", 100),
    ...                   row("d3", "x", "x", 100)])[0]
    >>> x.credit, x.own, x.assists, x.assist_ratio, x.deals_assisted, x.closers_helped
    (500, 100, 400, 0.8, 2, 1)
    """
    credit: Counter[str] = Counter()
    own: Counter[str] = Counter()
    other_stores: Counter[str] = Counter()
    other_brands: Counter[str] = Counter()
    homes: defaultdict[str, Counter[tuple[str | None, str | None, str | None, str | None]]] = (
        defaultdict(Counter)
    )
    credited: defaultdict[str, set[str]] = defaultdict(set)
    assisted: defaultdict[str, set[str]] = defaultdict(set)
    closers: defaultdict[str, set[str]] = defaultdict(set)
    for r in rows:
        if r.kind != "staff":
            continue
        s = r.contributor
        credit[s] += r.amount
        homes[s][r.store, r.brand, r.city, r.region] += r.amount + 1
        credited[s].add(r.deal)
        if r.closer == s:
            own[s] += r.amount
        else:
            assisted[s].add(r.deal)
            closers[s].add(r.closer)
        if r.store is not None and r.store != r.deal_store:
            other_stores[s] += r.amount
        if r.brand is not None and r.deal_brand is not None and r.brand != r.deal_brand:
            other_brands[s] += r.amount
    out = []
    for s in sorted(credit):
        seen = homes[s]
        store, brand, city, region = max(seen, key=lambda p: (seen[p], tuple(x or "" for x in p)))
        assists = credit[s] - own[s]
        out.append(
            StaffCredit(
                staff=s,
                store=store,
                brand=brand,
                city=city,
                region=region,
                credit=credit[s],
                own=own[s],
                assists=assists,
                assist_ratio=assists / credit[s] if credit[s] > 0 else 0.0,
                other_stores=other_stores[s],
                other_brands=other_brands[s],
                deals_credited=len(credited[s]),
                deals_assisted=len(assisted[s]),
                closers_helped=len(closers[s]),
            )
        )
    return out


def farmers(
    rows: Iterable[CreditRow], min_ratio: float = 0.5, min_deals: int = 1, limit: int | None = 20
) -> list[StaffCredit]:
    """The farmers' leaderboard: staff who earn mostly on deals others close, most credit first.

    A farmer's ``assist_ratio`` is at least ``min_ratio`` (by default, at least half their
    credit was earned on deals someone else closed) and they assisted at least ``min_deals``
    deals. They are ranked by ``assists`` -- the credit the collaboration network pays them for
    early work that a pay-per-closed-order scheme would have paid to the closer -- then by ratio,
    then by id.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> def row(deal, contributor, closer, amount):
    ...     return CreditRow(settlement="s", deal=deal, closed_at=datetime(2025, 1, 5, tzinfo=UTC),
    ...         deal_store="b", deal_brand="nio", deal_city=None, deal_region=None, closer=closer,
    ...         kind="staff", contributor=contributor, store="a", brand="nio", city=None,
    ...         region=None, amount=amount, points=0, share=0.5)
    >>> rows = [row("d1", "x", "y", 300), row("d1", "y", "y", 200), row("d2", "z", "y", 100)]
    >>> [(f.staff, f.assists, f.assist_ratio) for f in farmers(rows)]
    [('x', 300, 1.0), ('z', 100, 1.0)]
    """
    chosen = [
        s
        for s in staff_credit(rows)
        if s.assist_ratio >= min_ratio and s.deals_assisted >= min_deals
    ]
    chosen.sort(key=lambda s: (-s.assists, -s.assist_ratio, s.staff))
    return chosen if limit is None else chosen[:limit]


def store_contributors(
    rows: Iterable[CreditRow], store: str, limit: int | None = 10
) -> list[StaffCredit]:
    """The staff who earned credit for ``store``, most credit first: their credit for this store
    only, with ``own`` and ``assists`` as in :func:`staff_credit`.

    >>> from datetime import UTC, datetime
    >>> def row(contributor, store, amount):
    ...     return CreditRow(settlement="s", deal="d", closed_at=datetime(2025, 1, 5, tzinfo=UTC),
    ...         deal_store="b", deal_brand="nio", deal_city=None, deal_region=None, closer="y",
    ...         kind="staff", contributor=contributor, store=store, brand="nio", city=None,
    ...         region=None, amount=amount, points=0, share=0.5)
    >>> [(s.staff, s.credit) for s in store_contributors([row("x", "a", 3), row("y", "b", 7),
    ...                                                   row("z", "a", 5)], "a")]
    [('z', 5), ('x', 3)]
    """
    people = staff_credit(r for r in rows if r.store == store)
    people.sort(key=lambda s: (-s.credit, s.staff))
    return people if limit is None else people[:limit]
