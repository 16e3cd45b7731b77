"""What the learned credit models learn from, as a store reads it in one query."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["ContributionChanges", "ContributionRows"]


@dataclass(frozen=True)
class ContributionRows:
    """Every live contribution item and every live deal close of a store, as columns of
    primitives (``Store.contribution_rows``): the same facts as ``Store.contribution_paths``,
    without a datetime or a tuple per item.

    Item ``i`` is a contribution of stage ``item_stages[i]`` (a touch by its stage, a staff
    referral as ``referral``, an owner referral as ``owner_referral``, a handover as
    ``handover``) to customer ``item_customers[i]`` at ``item_at[i]``. Instants are whole
    microseconds since 1970-01-01 UTC. A customer's items are consecutive and in the order of
    ``contribution_paths`` (time; at one instant a touch, then a referral, then a handover, then
    by id). Deal ``j``, of customer ``deal_customers[j]``, closed at ``deal_closes[j]``, in no
    set order.

    >>> rows = ContributionRows(["c-1", "c-1"], [0, 60_000_000], ["lead", "test_drive"],
    ...                         ["c-1"], [3_600_000_000])
    >>> len(rows), len(rows.deal_closes)
    (2, 1)
    """

    item_customers: Sequence[str]
    item_at: Sequence[int]
    item_stages: Sequence[str]
    deal_customers: Sequence[str]
    deal_closes: Sequence[int]
    #: The store's mark these rows are as of (:meth:`Store.contribution_changes`), or None
    #: for a store that cannot tell what changed since.
    mark: int | None = None

    def __len__(self) -> int:
        return len(self.item_stages)


@dataclass(frozen=True)
class ContributionChanges:
    """What the events recorded after one mark and up to ``mark`` changed in the learned models'
    inputs (``Store.contribution_changes``): the rows of every customer those events touched
    (an item, a deal, or a void of one) as they were at the earlier mark (``before``) and as they
    are at ``mark`` (``after``). Every other customer's rows are the same at both marks, and a
    customer's training paths depend on that customer's rows alone -- so the paths of
    ``after`` less those of ``before``, added to the paths at the earlier mark, are the paths at
    ``mark``.
    """

    mark: int
    before: ContributionRows
    after: ContributionRows
