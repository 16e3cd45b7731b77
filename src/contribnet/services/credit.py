"""Credit previews: a deal's split as the journey stands now, under a policy version and model.

The data-driven models (``shapley_conversion``, ``markov``) need a
:class:`~contribnet.credit.CreditContext` estimated from every journey in the store (the training
paths of ``credit.learned``). Building it reads every contribution, so it is cached per store and
rebuilt only when the store has recorded new events since (``Store.event_count``), once per set of
policy parameters it depends on (the learned stages and the lookback for the paths; the Markov
order and the smoothing for the tables).
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field

from contribnet.credit import (
    CreditContext,
    CreditError,
    Split,
    build_context,
    compute_split,
    get_model,
    needs_context,
)
from contribnet.credit.context import encode_training_rows
from contribnet.credit.learned import learned_stages
from contribnet.credit.markov import EncodedPaths
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


@dataclass
class _ContextCache:
    lock: threading.Lock = field(default_factory=threading.Lock)
    event_count: int = -1
    paths: dict[_PathsKey, EncodedPaths] = field(default_factory=dict)
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
            cache.paths.clear()
            cache.contexts.clear()
            cache.event_count = count
        paths = cache.paths.get(paths_key)
        if paths is None:
            paths = cache.paths[paths_key] = encode_training_rows(store.contribution_rows(), policy)
        context = cache.contexts.get(key)
        if context is None:
            context = cache.contexts[key] = build_context(paths, policy)
    return context


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
