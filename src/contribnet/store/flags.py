"""The fraud signals' port: the bulk reads the rules run on, and the leaders' reviews of flags.

A narrow port of its own beside the ``Store`` (``store/base.py``), with one adapter per store --
``sqlite_flags.py`` and ``neo4j_flags.py`` -- which the store builds on its own connection and
hands out as ``store.flags`` (:func:`flag_store`). ``tests/flags/`` runs one suite against both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

from contribnet.domain.events import Deal, Referral
from contribnet.domain.flags import FlagInputs, FlagReview
from contribnet.domain.unchecked import unchecked
from contribnet.store.base import Store

__all__ = ["FlagStore", "HoldsFlags", "flag_store", "received_times", "utc_instant"]


class FlagStore(Protocol):
    """What the fraud rules read, in bulk, and where reviews of flags are kept."""

    def flag_inputs(self, start: datetime | None, end: datetime | None) -> FlagInputs:
        """The live (not voided) touches and referrals that happened, and the live deals closed,
        in ``[start, end)`` (``None``: open), every employment spell, each store's city, and the
        received time (``recorded_at``) of those touches and deals that have one. The records
        come in no particular order (the rules need none, and sorting every touch of a large
        store costs seconds)."""
        ...

    def put_flag_review(self, review: FlagReview) -> tuple[FlagReview, bool]:
        """Record a review: ``(it, True)``; the flag's review with the same decision and reason
        again: ``(the recorded one, False)``; another decision or reason raises
        ``RecordConflict`` (a flag is reviewed once)."""
        ...

    def flag_reviews(self, flags: Sequence[str] | None = None) -> dict[str, FlagReview]:
        """The reviews of those ``flags`` that were reviewed (all reviews with ``None``)."""
        ...


@runtime_checkable
class HoldsFlags(Protocol):
    """A store that keeps reviews of flags beside its events (both stores do)."""

    @property
    def flags(self) -> FlagStore: ...


def flag_store(store: Store) -> FlagStore:
    """The fraud signals' port of ``store`` (``store.flags``)."""
    if not isinstance(store, HoldsFlags):
        raise TypeError(f"a {type(store).__name__} keeps no flag reviews")
    return store.flags


def utc_instant(text: str) -> datetime:
    """An instant from the ISO text a store keeps it as, in UTC."""
    return datetime.fromisoformat(text).astimezone(UTC)


def received_times() -> Callable[[str], datetime]:
    """A parser of received times (``utc_instant``) that parses each distinct text once: a
    network loaded in batches has one received time per batch, shared by thousands of events."""
    parsed: dict[str, datetime] = {}

    def instant(text: str) -> datetime:
        found = parsed.get(text)
        if found is None:
            found = parsed[text] = utc_instant(text)
        return found

    return instant


def deal_record(
    id: str,
    customer: str,
    store: str,
    staff: str,
    closed_at: str,
    amount: int,
    reward_pool: int,
    points_pool: int | None,
) -> Deal:
    """A deal from the columns both stores' flag reads return, without validating it again (it
    was checked when accepted)."""
    return unchecked(
        Deal,
        {
            "id": id,
            "customer": customer,
            "store": store,
            "staff": staff,
            "closed_at": utc_instant(closed_at),
            "amount": amount,
            "reward_pool": reward_pool,
            "points_pool": points_pool,
        },
    )


def referral_record(
    id: str,
    at: str,
    customer: str,
    to_store: str,
    referrer_staff: str | None,
    referrer_customer: str | None,
) -> Referral:
    """A referral from the columns both stores' flag reads return (see :func:`deal_record`)."""
    return unchecked(
        Referral,
        {
            "id": id,
            "at": utc_instant(at),
            "customer": customer,
            "to_store": to_store,
            "referrer_staff": referrer_staff,
            "referrer_customer": referrer_customer,
        },
    )
