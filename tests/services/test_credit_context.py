"""The learned models' context (``services.credit.credit_context``) is kept as a tally of
training paths in the store: a new process reads it and what changed since, not every journey;
and whatever way it is reached, it is the context read from scratch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from contribnet.credit.context import context_of_counts, count_paths, encode_training_rows
from contribnet.demo.generator import generate
from contribnet.domain.policy import Policy
from contribnet.services import credit
from contribnet.services.credit import credit_context
from contribnet.services.ingest import ingest_events
from contribnet.store import open_store
from contribnet.store.sqlite import SqliteStore


def _from_scratch(store: Any, policy: Policy) -> Any:
    paths = encode_training_rows(store.contribution_rows(), policy)
    counts = count_paths(paths, policy.markov_order)
    return context_of_counts(counts, policy)


def _no_whole_reads(store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse() -> None:
        raise AssertionError("read every journey")

    monkeypatch.setattr(store, "contribution_rows", refuse)


@pytest.fixture
def events() -> list[dict[str, Any]]:
    return list(generate("tiny", 5))


def test_a_new_process_reads_the_saved_tally_and_the_changes_since(
    tmp_path: Path, events: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    policy = Policy()
    first = open_store(url)
    ingest_events(first, events[:1900])
    context = credit_context(first, policy, "markov")  # reads every journey once, saves the tally
    assert context is not None
    first.close()

    second = open_store(url)  # another process: nothing cached for it
    _no_whole_reads(second, monkeypatch)
    again = credit_context(second, policy, "markov")
    assert again is not None and again.fingerprint == context.fingerprint
    ingest_events(second, events[1900:2000])
    later = credit_context(second, policy, "shapley_conversion")
    monkeypatch.undo()
    fresh = _from_scratch(second, policy)
    assert later is not None and later.fingerprint == fresh.fingerprint
    second.close()


def test_a_tally_is_saved_again_once_enough_events_are_past_it(
    tmp_path: Path, events: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(credit, "SAVE_EVERY", 50)
    store = open_store(f"sqlite:///{tmp_path / 'c.db'}")
    ingest_events(store, events[:1800])
    credit_context(store, Policy(), "markov")
    saved = {key: store.saved_tally(key) for key in _keys(store)}
    [(key, (mark, _))] = saved.items()
    ingest_events(store, events[1800:1820])
    credit_context(store, Policy(), "markov")
    assert store.saved_tally(key)[0] == mark  # type: ignore[index]  # 20 events: not yet
    ingest_events(store, events[1820:1900])
    credit_context(store, Policy(), "markov")
    assert store.saved_tally(key)[0] == store.event_count() > mark  # type: ignore[index]
    store.close()


def test_each_set_of_path_parameters_has_its_own_tally(
    tmp_path: Path, events: list[dict[str, Any]]
) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'c.db'}")
    ingest_events(store, events)
    short, usual = Policy(lookback_days=3), Policy()
    credit_context(store, short, "markov")
    credit_context(store, usual, "markov")
    assert len(_keys(store)) == 2
    store.close()
    again = open_store(f"sqlite:///{tmp_path / 'c.db'}")
    for policy in (short, usual):
        kept = credit_context(again, policy, "markov")
        assert kept is not None and kept.fingerprint == _from_scratch(again, policy).fingerprint
    again.close()


def test_a_tally_saved_by_code_that_cut_paths_otherwise_is_not_used(
    tmp_path: Path, events: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    store = open_store(url)
    ingest_events(store, events)
    credit_context(store, Policy(), "markov")
    store.close()
    monkeypatch.setattr(credit, "TALLY_FORMAT", credit.TALLY_FORMAT + 1)
    again = open_store(url)
    reads = []
    whole = again.contribution_rows
    monkeypatch.setattr(again, "contribution_rows", lambda: reads.append(1) or whole())
    credit_context(again, Policy(), "markov")
    assert reads == [1]
    again.close()


def test_a_read_only_store_keeps_no_tally(tmp_path: Path, events: list[dict[str, Any]]) -> None:
    path = tmp_path / "c.db"
    store = open_store(f"sqlite:///{path}")
    ingest_events(store, events)
    store.close()
    reader = SqliteStore(f"sqlite:///{path}", read_only=True)
    context = credit_context(reader, Policy(), "markov")
    assert context is not None and _keys(reader) == []
    reader.close()


def _keys(store: Any) -> list[str]:
    try:
        return [k for (k,) in store._query("SELECT key FROM path_tallies")]
    except Exception:  # no table: nothing saved
        return []
