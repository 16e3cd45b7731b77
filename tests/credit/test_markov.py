"""Markov removal effects against an independent computation, and their invariants."""

from __future__ import annotations

import random
from collections import Counter, defaultdict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contribnet.credit import markov as markov_module
from contribnet.credit.markov import encode_paths, markov_chain, removal_effects

FAST = settings(max_examples=30, deadline=None)

paths_strategy = st.lists(
    st.tuples(
        st.lists(
            st.sampled_from(["lead", "reception", "test_drive", "quote", "order"]),
            min_size=0,
            max_size=6,
        ).map(tuple),
        st.booleans(),
    ),
    min_size=1,
    max_size=60,
)


def _reference_effects(paths: list[tuple[tuple[str, ...], bool]], order: int) -> dict[str, float]:
    """Removal effects the long way: dict-counted transitions over history tuples, and the
    conversion probability as the limit of the state distribution after many steps."""
    counts: dict[tuple[str, ...] | str, Counter[tuple[str, ...] | str]] = defaultdict(Counter)
    for path, converted in paths:
        state: tuple[str, ...] | str = "start"
        history: tuple[str, ...] = ()
        for stage in path:
            history = (history + (stage,))[-order:]
            counts[state][history] += 1
            state = history
        counts[state]["conv" if converted else "null"] += 1
    stages = sorted({s for p, _ in paths for s in p})

    def p_conversion(removed: str | None) -> float:
        dist: dict[tuple[str, ...] | str, float] = {"start": 1.0}
        absorbed = 0.0
        for _ in range(400):
            nxt: dict[tuple[str, ...] | str, float] = defaultdict(float)
            for state, mass in dist.items():
                total = sum(counts[state].values())
                for target, c in counts[state].items():
                    if target == "conv":
                        absorbed += mass * c / total
                    elif target == "null" or (removed is not None and target[-1] == removed):
                        continue
                    else:
                        nxt[target] += mass * c / total
            dist = nxt
        return absorbed

    base = p_conversion(None)
    if base == 0:
        return {s: 0.0 for s in stages}
    return {s: max(0.0, 1 - p_conversion(s) / base) for s in stages}


@pytest.mark.parametrize("order", [1, 2, 3])
@FAST
@given(paths=paths_strategy)
def test_removal_effects_match_an_independent_computation(
    order: int, paths: list[tuple[tuple[str, ...], bool]]
) -> None:
    # Paths without repeated stages keep the reference chain acyclic, so 400 steps are exact.
    paths = [(tuple(dict.fromkeys(p)), c) for p, c in paths]
    effects = removal_effects(markov_chain(encode_paths(paths), order))
    reference = _reference_effects(paths, order)
    assert effects.keys() == reference.keys()
    for stage in effects:
        assert effects[stage] == pytest.approx(reference[stage], abs=1e-9)


def test_cycles_are_solved_exactly() -> None:
    # lead <-> test_drive loops; the reference iterates the distribution to convergence.
    rng = random.Random(1)
    paths = []
    for _ in range(500):
        path = tuple(rng.choice(["lead", "test_drive", "quote"]) for _ in range(rng.randint(1, 8)))
        paths.append((path, rng.random() < 0.2 + 0.3 * ("test_drive" in path)))
    effects = removal_effects(markov_chain(encode_paths(paths), 1))
    reference = _reference_effects(paths, 1)
    for stage in effects:
        assert effects[stage] == pytest.approx(reference[stage], abs=1e-9)


@pytest.mark.parametrize("walk", [4, 0], ids=["walk", "sparse_lu"])
@pytest.mark.parametrize("order", [1, 2, 4])
def test_sparse_solver_agrees_with_dense(
    order: int, walk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(order)
    stages = ["lead", "reception", "consultation", "test_drive", "quote", "order"]
    paths = []
    for _ in range(2000):
        path = tuple(rng.choice(stages) for _ in range(rng.randint(1, 9)))
        paths.append((path, rng.random() < 0.1 + 0.4 * ("test_drive" in path)))
    chain = markov_chain(encode_paths(paths), order)
    dense = removal_effects(chain)
    monkeypatch.setattr(markov_module, "DENSE_LIMIT", 0)
    monkeypatch.setattr(markov_module, "WALK_STEPS_PER_STATE", walk)
    sparse = removal_effects(chain)
    for stage in dense:
        assert sparse[stage] == pytest.approx(dense[stage], abs=1e-12)


def _loop_paths(stages: int, laps: int) -> list[tuple[tuple[str, ...], bool]]:
    """One journey that goes round ``stages`` stages ``laps`` times and converts, one that stops
    at the first stage, one that converts through stage ``b`` alone.

    From the first stage the loop converts with probability ``x = (1/laps) p / (1 - p (laps -
    1)/laps)``, ``p = laps / (laps + 1)`` the chance of going on rather than stopping: exactly
    1/2. So P(conversion) = 1/3 + 1/3 through ``b``, and every removal effect is exactly 1/2.
    """
    loop = tuple(f"s{i:03d}" for i in range(stages)) * laps
    return [(loop, True), (("s000",), False), (("b",), True)]


def test_a_20000_touch_loop_is_solved_exactly() -> None:
    # 101 states (more than the dense limit) and a loop left with probability 1/200 per lap: the
    # fixed-point iteration stopped at its cap 1.1e-5 off; the direct solve is exact to rounding
    chain = markov_chain(encode_paths(_loop_paths(100, 200)), 1)
    assert chain.size > markov_module.DENSE_LIMIT
    effects = removal_effects(chain)
    assert len(effects) == 101
    for stage, effect in effects.items():
        assert effect == pytest.approx(0.5, abs=1e-12), stage


def test_a_long_loop_at_a_higher_order_is_solved_exactly() -> None:
    effects = removal_effects(markov_chain(encode_paths(_loop_paths(70, 300)), 3))
    for effect in effects.values():
        assert effect == pytest.approx(0.5, abs=1e-12)


@FAST
@given(paths=paths_strategy, order=st.integers(1, 4), seed=st.integers(0, 1000))
def test_effects_are_bounded_and_independent_of_path_order(
    paths: list[tuple[tuple[str, ...], bool]], order: int, seed: int
) -> None:
    effects = removal_effects(markov_chain(encode_paths(paths), order))
    shuffled = list(paths)
    random.Random(seed).shuffle(shuffled)
    again = removal_effects(markov_chain(encode_paths(shuffled), order))
    for stage, e in effects.items():
        assert 0.0 <= e <= 1.0
        assert again[stage] == pytest.approx(e, abs=1e-12)


def test_a_stage_only_seen_without_conversion_has_no_effect_and_a_necessary_one_has_all() -> None:
    paths = [
        (("lead", "test_drive", "order"), True),
        (("lead", "follow_up"), False),
        (("test_drive", "order"), True),
        (("lead",), False),
    ]
    effects = removal_effects(markov_chain(encode_paths(paths), 1))
    assert effects["follow_up"] == 0.0
    assert effects["order"] == pytest.approx(1.0)


def test_nothing_converts_gives_zero_effects() -> None:
    effects = removal_effects(markov_chain(encode_paths([(("lead",), False)]), 2))
    assert effects == {"lead": 0.0}


def test_encoding_and_masks() -> None:
    e = encode_paths([(("b", "a", "b"), True), ((), False), (("c",), False)])
    assert e.stages == ("a", "b", "c")
    assert e.masks().tolist() == [0b011, 0, 0b100]
    assert np.diff(e.offsets).tolist() == [3, 0, 1]
