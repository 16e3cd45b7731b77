"""Payroll's listing: the current settlements of the deals closed in a period, page by page.

Pages follow the order of the ledger (close, then deal id); a page's ``next`` cursor is an
opaque token of the last (close, deal) listed, so walking the pages lists every settlement once
even while new deals are settled. The CSV has one row per deal and person credited, with names
beside the ids, for a payroll system or Excel.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime

from pydantic import BaseModel, Field

from contribnet.domain.errors import NotFound
from contribnet.domain.settlement import DealRef, InvalidRequest, Settlement, period_bounds
from contribnet.services.reports import check_period
from contribnet.store.base import Store

__all__ = [
    "CSV_COLUMNS",
    "MAX_LIMIT",
    "SettlementPage",
    "decode_cursor",
    "encode_cursor",
    "settlement_page",
    "settlements_csv",
]

#: The most settlements one page lists.
MAX_LIMIT = 500

CSV_COLUMNS = (
    "deal",
    "closed_at",
    "deal_store",
    "settlement",
    "policy",
    "model",
    "kind",
    "person",
    "name",
    "store",
    "share",
    "amount_fen",
    "amount",
    "points",
)


class SettlementPage(BaseModel):
    items: list[Settlement] = Field(description="current settlements, by close then deal")
    names: dict[str, str | None] = Field(
        description="the name of each person (staff member or owner) and store the items name"
    )
    cursor: str | None = Field(
        default=None, description="pass as `cursor` for the next page; null on the last page"
    )


def encode_cursor(ref: DealRef) -> str:
    """An opaque token of a position in the listing.

    >>> decode_cursor(encode_cursor(DealRef(datetime(2025, 1, 1, tzinfo=UTC), "d-1")))
    DealRef(closed_at=datetime.datetime(2025, 1, 1, 0, 0, tzinfo=datetime.timezone.utc), id='d-1')
    """
    text = json.dumps([ref.closed_at.astimezone(UTC).isoformat(), ref.id])
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(token: str) -> DealRef:
    """The position a token names; ``InvalidRequest`` naming ``cursor`` for anything else."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        at, deal = json.loads(raw)
        closed_at = datetime.fromisoformat(at)
        if not isinstance(deal, str) or closed_at.tzinfo is None:
            raise ValueError
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise InvalidRequest.one(
            "cursor", "not a cursor this listing gave (pass a page's `cursor` as it is)"
        ) from None
    return DealRef(closed_at.astimezone(UTC), deal)


def _check(store: Store, start: date | None, end: date | None, staff: str | None) -> None:
    check_period(start, end)
    if staff is not None:
        try:
            store.get("staff", staff)
        except NotFound:
            raise InvalidRequest.one("staff", f"no staff member {staff!r}") from None


def _names(store: Store, settlements: list[Settlement], known: dict[str, str | None]) -> None:
    """Add to ``known`` the names of the people and stores the settlements name."""
    wanted: list[tuple[str, str]] = []
    for s in settlements:
        wanted.append(("store", s.deal_store))
        for c in s.credits:
            wanted.append(("staff" if c.kind == "staff" else "customer", c.contributor))
            if c.store:
                wanted.append(("store", c.store))
    for kind, ident in wanted:
        if ident not in known:
            try:
                known[ident] = store.get(kind, ident).get("name")
            except NotFound:
                known[ident] = None


def settlement_page(
    store: Store,
    start: date | None,
    end: date | None,
    *,
    at_store: str | None = None,
    staff: str | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> SettlementPage:
    """One page of the current settlements of deals closed from ``start`` to ``end`` (business
    days, inclusive), optionally only those crediting ``staff`` or of/crediting ``at_store``."""
    _check(store, start, end, staff)
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidRequest.one("limit", f"must be from 1 to {MAX_LIMIT}")
    after = decode_cursor(cursor) if cursor is not None else None
    lo, hi = period_bounds(start, end)
    # One more than asked tells whether another page follows.
    found = list(
        store.ledger.current_settlements(
            lo, hi, staff=staff, store=at_store, after=after, limit=limit + 1
        )
    )
    items = found[:limit]
    names: dict[str, str | None] = {}
    _names(store, items, names)
    last = items[-1] if len(found) > limit else None
    return SettlementPage(
        items=items,
        names=names,
        cursor=encode_cursor(DealRef(last.closed_at, last.deal)) if last else None,
    )


def _rfc3339(at: datetime) -> str:
    """UTC with ``Z``, as the API writes instants.

    >>> _rfc3339(datetime(2025, 1, 10, 6, tzinfo=UTC))
    '2025-01-10T06:00:00Z'
    """
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _yuan(fen: int) -> str:
    """Fen as a plain decimal of yuan that spreadsheets read as a number.

    >>> _yuan(123456), _yuan(-5)
    ('1234.56', '-0.05')
    """
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}{yuan}.{cents:02d}"


def settlements_csv(
    store: Store,
    start: date | None,
    end: date | None,
    *,
    at_store: str | None = None,
    staff: str | None = None,
    cursor: str | None = None,
    bom: bool = False,
    page: int = MAX_LIMIT,
) -> Iterator[str]:
    """The whole listing (from ``cursor`` on) as CSV text, a chunk per page: one row per deal and
    person credited; with ``bom`` a UTF-8 byte-order mark first, so that Excel reads UTF-8.
    The request is checked before the first chunk (a bad one raises here, not mid-stream)."""
    _check(store, start, end, staff)
    after = decode_cursor(cursor) if cursor is not None else None
    lo, hi = period_bounds(start, end)
    return _csv_chunks(store, lo, hi, at_store, staff, after, bom, page)


def _csv_chunks(
    store: Store,
    lo: datetime | None,
    hi: datetime | None,
    at_store: str | None,
    staff: str | None,
    after: DealRef | None,
    bom: bool,
    page: int,
) -> Iterator[str]:
    names: dict[str, str | None] = {}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if bom:
        out.write("\ufeff")
    writer.writerow(CSV_COLUMNS)
    while True:
        chunk = list(
            store.ledger.current_settlements(
                lo, hi, staff=staff, store=at_store, after=after, limit=page
            )
        )
        _names(store, chunk, names)
        for s in chunk:
            for c in s.credits:
                writer.writerow(
                    [
                        s.deal,
                        _rfc3339(s.closed_at),
                        s.deal_store,
                        s.id,
                        s.policy,
                        s.model,
                        c.kind,
                        c.contributor,
                        names.get(c.contributor) or "",
                        c.store or "",
                        f"{c.share:.6f}",
                        c.amount,
                        _yuan(c.amount),
                        c.points,
                    ]
                )
        yield out.getvalue()
        out.seek(0)
        out.truncate()
        if len(chunk) < page:
            return
        after = DealRef(chunk[-1].closed_at, chunk[-1].deal)
