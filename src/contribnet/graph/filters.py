"""Which settled credit a view looks at: a period, a region, a brand."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta, timezone

from contribnet.domain.credit_rows import CreditRow

__all__ = ["BUSINESS_TZ", "business_day", "filter_rows", "in_scope"]

#: Periods are business days in China Standard Time (UTC+8), as settlement periods are.
BUSINESS_TZ = timezone(timedelta(hours=8), "CST")


def business_day(at: datetime) -> date:
    """The day of an instant in China Standard Time, the calendar periods are counted in.

    >>> from datetime import UTC
    >>> business_day(datetime(2025, 1, 31, 17, 0, tzinfo=UTC))
    datetime.date(2025, 2, 1)
    """
    return at.astimezone(BUSINESS_TZ).date()


def in_scope(
    brand: str | None, region: str | None, *, want_brand: str | None, want_region: str | None
) -> bool:
    """Whether a store (given its brand and region) matches a view's brand and region filters.

    ``None`` filters match everything.

    >>> in_scope("nio", "East", want_brand="nio", want_region=None)
    True
    >>> in_scope("onvo", "East", want_brand="nio", want_region="East")
    False
    """
    return (want_brand is None or brand == want_brand) and (
        want_region is None or region == want_region
    )


def filter_rows(
    rows: Iterable[CreditRow],
    start: date | None = None,
    end: date | None = None,
    region: str | None = None,
    brand: str | None = None,
) -> Iterator[CreditRow]:
    """The credit rows of deals closed in a period that touch a region and a brand.

    A row is kept when its deal closed on a day from ``start`` to ``end`` (both inclusive;
    :func:`business_day` of ``closed_at``) and when *either* end of it -- the store credited or
    the store that closed the deal -- matches both ``region`` and ``brand``. Keeping either end is
    what a leader asks for: their own stores, and the partners outside the region or brand that
    feed them or that they feed. Measures of those outside partners are therefore partial (only
    their credit with the region or brand); views mark them with :func:`in_scope`.

    Parameters
    ----------
    rows : iterable of CreditRow
    start, end : date, optional
        The first and last day of the period; ``None`` leaves that side open.
    region, brand : str, optional
        ``None`` keeps every region or brand.

    Yields
    ------
    CreditRow
        The rows kept, in the order given.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> def row(deal, day, store, brand, deal_store, deal_brand):
    ...     at = datetime(2025, 1, day, tzinfo=UTC)
    ...     return CreditRow(settlement="s", deal=deal, closed_at=at, deal_store=deal_store,
    ...         deal_brand=deal_brand, deal_city="Shanghai", deal_region="East", closer="y",
    ...         kind="staff", contributor="x", store=store,
    ...         brand=brand, city="Shanghai", region="East", amount=100, points=0, share=0.1)
    >>> rows = [row("d1", 5, "n1", "nio", "o1", "onvo"), row("d2", 9, "o1", "onvo", "o2", "onvo")]
    >>> [r.deal for r in filter_rows(rows, brand="nio")]
    ['d1']
    >>> [r.deal for r in filter_rows(rows, start=date(2025, 1, 6))]
    ['d2']
    """
    for r in rows:
        if start is not None or end is not None:
            day = business_day(r.closed_at)
            if (start is not None and day < start) or (end is not None and day > end):
                continue
        if (
            (region is None and brand is None)
            or in_scope(r.brand, r.region, want_brand=brand, want_region=region)
            or in_scope(r.deal_brand, r.deal_region, want_brand=brand, want_region=region)
        ):
            yield r
