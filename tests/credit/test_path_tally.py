"""A tally of distinct training paths (``credit.context.tally_paths``) gives the learned models
the same counts, and so the same context to the bit, as every path one by one."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.credit.test_markov import paths_strategy

from contribnet.credit.context import (
    PathCounts,
    context_of_counts,
    count_paths,
    counts_of_tally,
    tally_paths,
)
from contribnet.credit.markov import encode_paths, transition_counts
from contribnet.domain.policy import Policy

FAST = settings(max_examples=40, deadline=None)


def _same_counts(a: PathCounts, b: PathCounts) -> None:
    for name in PathCounts.__dataclass_fields__:
        x, y = getattr(a, name), getattr(b, name)
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and x.tolist() == y.tolist(), name
        else:
            assert x == y, name


@FAST
@given(paths=paths_strategy, order=st.integers(1, 4))
def test_a_tally_counts_as_every_path(paths: list, order: int) -> None:
    encoded = encode_paths(paths)
    tally = tally_paths(encoded)
    assert tally == Counter((tuple(p), c) for p, c in paths)
    _same_counts(counts_of_tally(tally, order), count_paths(encoded, order))
    policy = Policy(markov_order=order)
    ours = context_of_counts(counts_of_tally(tally, order), policy)
    theirs = context_of_counts(count_paths(encoded, order), policy)
    assert ours.fingerprint == theirs.fingerprint
    assert ours.removal_effects == theirs.removal_effects


@FAST
@given(paths=paths_strategy, more=paths_strategy, order=st.integers(1, 3))
def test_tallies_add_and_subtract_like_the_paths(paths: list, more: list, order: int) -> None:
    both = tally_paths(encode_paths(paths + more))
    # paths + more, less more: the tally of paths
    rest = both.copy()
    rest.subtract(tally_paths(encode_paths(more)))
    kept = Counter({k: n for k, n in rest.items() if n})
    _same_counts(counts_of_tally(kept, order), count_paths(encode_paths(paths), order))


def test_weights_count_a_path_as_many_paths() -> None:
    paths = [(("lead", "test_drive"), True), (("lead",), False), ((), True)]
    weights = np.array([3, 1, 2], dtype=np.int64)
    repeated = [p for p, w in zip(paths, weights.tolist(), strict=True) for _ in range(w)]
    keys, counts = transition_counts(encode_paths(paths), 2, weights)
    keys_all, counts_all = transition_counts(encode_paths(repeated), 2)
    assert keys.tolist() == keys_all.tolist() and counts.tolist() == counts_all.tolist()
    counted = count_paths(encode_paths(paths), 1, weights)
    assert (counted.journeys, counted.conversions) == (6, 5)


def test_a_negative_count_is_refused() -> None:
    tally = Counter({(("lead",), True): 2, (("quote",), False): -1})
    with pytest.raises(ValueError, match="negative"):
        counts_of_tally(tally, 1)


def test_an_empty_tally_has_no_journeys() -> None:
    counts = counts_of_tally(Counter(), 1)
    assert (counts.journeys, counts.conversions, counts.stages) == (0, 0, ())
    assert context_of_counts(counts, Policy()).removal_effects == {}
