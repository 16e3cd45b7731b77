"""Credit previews: a deal's split as the journey stands now, under a policy version and model.

The data-driven models (``shapley_conversion``, ``markov``) need a
:class:`~contribnet.credit.CreditContext` estimated from every journey in the store (the training
paths of ``credit.learned``). It is cached per store, and kept per set of policy parameters it
depends on (the learned stages and the lookback for the paths; the Markov order and the
smoothing for the tables). What it is built from is a :data:`~contribnet.credit.context.PathTally`
of the training paths (a few hundred distinct paths for half a million journeys): read from
every journey once, then, when the store has recorded new events (``Store.event_count``),
brought up to date from the journeys of the customers they changed
(``Store.contribution_changes``), so a preview after new events does not read every journey
again. A store that cannot tell what changed is read whole again.
"""

from __future__ import annotations

import json
import threading
import weakref
from dataclasses import dataclass, field

from contribnet.credit import (
    CreditContext,
    CreditError,
    Split,
    compute_split,
    get_model,
    needs_context,
)
from contribnet.credit.context import (
    PathTally,
    context_of_counts,
    counts_of_tally,
    encode_training_rows,
    tally_paths,
    update_tally,
)
from contribnet.credit.learned import learned_stages
from contribnet.domain.errors import NotFound
from contribnet.domain.flags import FlagRules
from contribnet.domain.journey import DealJourney
from contribnet.domain.policy import Policy
from contribnet.domain.settlement import InvalidRequest, PolicyRecord
from contribnet.services.holds import open_flags
from contribnet.services.policies import PREVIEW_POLICY_AGE, resolve_policy
from contribnet.store.base import Store

__all__ = ["Preview", "check_model", "credit_context", "deal_journey", "preview"]


#: What the training paths depend on in a policy (``credit.learned.training_paths``).
_PathsKey = tuple[frozenset[str], float]


#: What a training path is, as tallies saved in a store know it: a tally saved under another
#: number (by code that cut journeys otherwise) is not used. Raise it whenever
#: ``credit.learned`` or ``encode_training_rows`` changes which items make a path.
TALLY_FORMAT = 1

#: A tally brought up to date from changes is saved again once its mark is this far past the
#: mark it was saved at (events on SQLite, write transactions on Neo4j): a new process then
#: reads at most that many writes' changes.
SAVE_EVERY = 2_000


@dataclass
class _Tally:
    """A store's training paths tallied as of its ``mark`` (None: it keeps no marks),
    when the store's ``event_count`` was ``seen``, and the mark of the copy kept in the store
    (``Store.save_tally``), if any."""

    mark: int | None
    paths: PathTally
    seen: int
    saved: int | None = None


@dataclass
class _ContextCache:
    lock: threading.Lock = field(default_factory=threading.Lock)
    event_count: int = -1
    tallies: dict[_PathsKey, _Tally] = field(default_factory=dict)
    contexts: dict[tuple[_PathsKey, int, float], CreditContext] = field(default_factory=dict)


_caches: weakref.WeakKeyDictionary[Store, _ContextCache] = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def check_model(name: str, field_name: str = "model") -> str:
    """``name`` if it is a known model; else :class:`InvalidRequest` naming the field."""
    try:
        get_model(name)
    except CreditError as exc:
        raise InvalidRequest.one(field_name, str(exc)) from None
    return name


def credit_context(store: Store, policy: Policy, model: str) -> CreditContext | None:
    """The context ``model`` needs under ``policy`` (None for the rule-based models), from the
    store's journeys as they are now; cached until the store records another event."""
    if not needs_context(model):
        return None
    with _caches_lock:
        cache = _caches.get(store)
        if cache is None:
            cache = _caches[store] = _ContextCache()
    count = store.event_count()
    paths_key = (learned_stages(policy), policy.lookback_days)
    key = (paths_key, policy.markov_order, policy.conversion_smoothing)
    with cache.lock:
        if cache.event_count != count:
            cache.contexts.clear()
            cache.event_count = count
        context = cache.contexts.get(key)
        if context is None:
            tally = cache.tallies[paths_key] = _current_tally(
                store, paths_key, policy, count, cache.tallies.get(paths_key)
            )
            counts = counts_of_tally(tally.paths, policy.markov_order)
            context = cache.contexts[key] = context_of_counts(counts, policy)
    return context


def _current_tally(
    store: Store, paths_key: _PathsKey, policy: Policy, count: int, cached: _Tally | None
) -> _Tally:
    """The tally of the training paths as the store stands: ``cached`` or the one the store
    keeps, brought up to date from what changed since (``Store.contribution_changes``); read
    from every journey when there is neither, or the store cannot say what changed. Saved back
    to the store after a whole read, and once :data:`SAVE_EVERY` events past the saved one."""
    if cached is not None and cached.seen == count:
        return cached
    key = _tally_key(paths_key)
    tally = cached
    if tally is None:
        saved = store.saved_tally(key)
        if saved is not None:
            tally = _Tally(saved[0], _tally_of_text(saved[1]), count, saved=saved[0])
    if tally is not None and tally.mark is not None:
        changes = store.contribution_changes(tally.mark)
        if changes is not None:
            paths = update_tally(tally.paths, changes, policy)
            updated = _Tally(changes.mark, paths, count, tally.saved)
            if updated.saved is None or changes.mark - updated.saved >= SAVE_EVERY:
                _save(store, key, updated)
            return updated
    rows = store.contribution_rows()
    read = _Tally(rows.mark, tally_paths(encode_training_rows(rows, policy)), count)
    _save(store, key, read)
    return read


def _save(store: Store, key: str, tally: _Tally) -> None:
    if tally.mark is not None:
        store.save_tally(key, tally.mark, _tally_text(tally.paths))
        tally.saved = tally.mark


def _tally_key(paths_key: _PathsKey) -> str:
    stages, lookback_days = paths_key
    return json.dumps(
        {"format": TALLY_FORMAT, "stages": sorted(stages), "lookback_days": lookback_days}
    )


def _tally_text(paths: PathTally) -> str:
    return json.dumps(sorted([list(path), done, n] for (path, done), n in paths.items()))


def _tally_of_text(text: str) -> PathTally:
    return PathTally({(tuple(path), bool(done)): int(n) for path, done, n in json.loads(text)})


def deal_journey(store: Store, deal_id: str) -> DealJourney:
    """The deal's journey as the credit engine sees it; ``NotFound`` if unknown or voided."""
    journey = store.deal_journeys([deal_id]).get(deal_id)
    if journey is None:
        raise NotFound("deal", deal_id)
    return journey


@dataclass(frozen=True)
class Preview:
    """A deal's split as it would be settled now, the policy version used, and the open flags
    that hold the deal out of settlement under it (``services/holds.py``; none: not held)."""

    split: Split
    policy: PolicyRecord
    held_by: tuple[str, ...] = ()


def preview(
    store: Store,
    deal_id: str,
    model: str | None = None,
    policy: str | None = None,
    flag_rules: FlagRules | None = None,
) -> Preview:
    """The deal's split as it would be settled now: under ``policy`` (``name@version`` or
    ``name``), else the version in force at the deal's close; with ``model``, else the policy's.
    Nothing is written. The policy versions may be up to ``PREVIEW_POLICY_AGE`` seconds old.
    Under a policy that holds flagged deals, the open flags (found with ``flag_rules``) that
    hold this one are named."""
    journey = deal_journey(store, deal_id)
    record = resolve_policy(store, policy, journey.deal.closed_at, max_age=PREVIEW_POLICY_AGE)
    name = check_model(model or record.policy.model)
    context = credit_context(store, record.policy, name)
    try:
        split = compute_split(journey, record.policy, name, context)
    except CreditError as exc:
        raise InvalidRequest.one("model", str(exc)) from None
    held = open_flags(store, record.policy.hold_flagged, flag_rules).holding(deal_id, record.policy)
    return Preview(split=split, policy=record, held_by=held)
