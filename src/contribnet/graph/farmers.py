"""Staff credit profiles, and the "farmers" (种地): staff whose early-stage work others closed.

**Farmers** have one definition across the leaders' page, ``/v1/graph/farmers`` and the analysts'
``farmers`` query: a staff member *farmed* a deal when someone else closed it and, among the
touches that earned them credit on it, at least one is at an early stage (:data:`EARLY_STAGES`:
lead, reception, consultation, test drive, event). Farmers are ranked by the deals they farmed,
then by the credit those deals paid them, then by id. A delivery specialist paid only for
deliveries on others' deals is no farmer: delivery is not early work.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from contribnet.domain.credit_rows import CreditRow
from contribnet.domain.settlement import Settlement

__all__ = [
    "EARLY_STAGES",
    "Farmer",
    "StaffCredit",
    "early_work",
    "farmers",
    "staff_credit",
    "store_contributors",
]

#: The stages of early work: what happens before a customer has decided. The analysts'
#: ``farmers`` query takes the same list as its ``$early_stages`` default.
EARLY_STAGES: tuple[str, ...] = ("lead", "reception", "consultation", "test_drive", "event")


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


@dataclass(frozen=True)
class Farmer:
    """A farmer: their credit profile (:class:`StaffCredit`) and their early work.

    ``early_deals`` counts the deals on which early-stage work of theirs earned credit (closed
    by anyone, themselves included); ``farmed_deals`` those of them someone else closed;
    ``farmed`` the fen those farmed deals paid them; ``farmed_share = farmed_deals /
    early_deals``.
    """

    profile: StaffCredit
    early_deals: int
    farmed_deals: int
    farmed: int
    farmed_share: float

    @property
    def staff(self) -> str:
        return self.profile.staff


def early_work(
    settlements: Iterable[Settlement], stages: Collection[str] = EARLY_STAGES
) -> set[tuple[str, str]]:
    """``(deal, staff)`` for each staff member credited on a deal for at least one touch at an
    early stage: a touch of ``stages`` among those their allocation's explanation lists (the
    touches that counted, after the credit guards: lookback, one deal per contribution,
    duplicate visits).

    >>> from contribnet.domain.split import Allocation, Explanation, TouchCredit
    >>> from datetime import UTC, datetime
    >>> at = datetime(2025, 1, 5, tzinfo=UTC)
    >>> def alloc(staff, stage):
    ...     touch = TouchCredit(id="t", source="touch", stage=stage, at=at, credit=1.0, factors={})
    ...     return Allocation(kind="staff", id=staff, share=1.0, amount=1, points=0,
    ...         explanation=Explanation(text="", model_share=1.0, touches=[touch]))
    >>> s = Settlement(id="s", deal="d1", seq=1, closed_at=at, deal_store="b", closer="y", pool=2,
    ...     model="m", policy="p@1", policy_name="p", policy_version="1", input_hash="h",
    ...     allocations=[alloc("x", "test_drive"), alloc("z", "delivery")], credits=[],
    ...     requested_by="t", created_at=at)
    >>> sorted(early_work([s]))
    [('d1', 'x')]
    """
    wanted = set(stages)
    return {
        (s.deal, a.id)
        for s in settlements
        for a in s.allocations
        if a.kind == "staff"
        and any(t.source == "touch" and t.stage in wanted for t in a.explanation.touches)
    }


def farmers(
    rows: Iterable[CreditRow],
    early: Collection[tuple[str, str]],
    min_deals: int = 1,
    limit: int | None = 20,
) -> list[Farmer]:
    """The farmers' leaderboard: staff whose early-stage work others closed, most deals first.

    ``early`` holds the ``(deal, staff)`` pairs of :func:`early_work`. A farmer farmed at
    least ``min_deals`` deals (closed by someone else, with early work of theirs that counted);
    farmers are ranked by ``farmed_deals``, then ``farmed`` (the fen those deals paid them),
    then id.

    Examples
    --------
    ``x`` test-drove two customers that ``y`` closed; ``z`` only delivered one:

    >>> from datetime import UTC, datetime
    >>> def row(deal, contributor, closer, amount):
    ...     return CreditRow(settlement="s", deal=deal, closed_at=datetime(2025, 1, 5, tzinfo=UTC),
    ...         deal_store="b", deal_brand="nio", deal_city=None, deal_region=None, closer=closer,
    ...         kind="staff", contributor=contributor, store="a", brand="nio", city=None,
    ...         region=None, amount=amount, points=0, share=0.5)
    >>> rows = [row("d1", "x", "y", 300), row("d2", "x", "y", 50), row("d1", "y", "y", 200),
    ...         row("d2", "z", "y", 100)]
    >>> early = {("d1", "x"), ("d2", "x"), ("d1", "y")}
    >>> [(f.staff, f.farmed_deals, f.farmed, f.farmed_share) for f in farmers(rows, early)]
    [('x', 2, 350, 1.0)]
    """
    rows = [r for r in rows if r.kind == "staff"]
    early_set = set(early)
    early_deals: defaultdict[str, set[str]] = defaultdict(set)
    farmed_deals: defaultdict[str, set[str]] = defaultdict(set)
    farmed: Counter[str] = Counter()
    for r in rows:
        if (r.deal, r.contributor) not in early_set:
            continue
        early_deals[r.contributor].add(r.deal)
        if r.closer != r.contributor:
            farmed_deals[r.contributor].add(r.deal)
            farmed[r.contributor] += r.amount
    chosen = [
        Farmer(
            profile=p,
            early_deals=len(early_deals[p.staff]),
            farmed_deals=len(farmed_deals[p.staff]),
            farmed=farmed[p.staff],
            farmed_share=len(farmed_deals[p.staff]) / len(early_deals[p.staff]),
        )
        for p in staff_credit(rows)
        if early_deals[p.staff] and len(farmed_deals[p.staff]) >= max(min_deals, 1)
    ]
    chosen.sort(key=lambda f: (-f.farmed_deals, -f.farmed, f.staff))
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
