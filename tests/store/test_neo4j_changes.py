"""What changed since a mark, on Neo4j (``Neo4jStore.contribution_changes``): writers number
their transactions in commit order (``store/commit_batch.cypher``), and a read of every journey,
which writers commit into as it goes, is made whole as of the last of them."""

from __future__ import annotations

from collections.abc import Iterator

import neo4j
import pytest
from tests.conftest import Neo4jServer
from tests.contract.conftest import _wipe

from contribnet.credit.context import (
    context_of_counts,
    count_paths,
    encode_training_rows,
    tally_paths,
    update_tally,
)
from contribnet.demo.generator import generate
from contribnet.domain.policy import Policy
from contribnet.services.credit import credit_context
from contribnet.services.ingest import ingest_events
from contribnet.store.neo4j import Neo4jStore

pytestmark = pytest.mark.neo4j

POLICY = Policy(lookback_days=30)


@pytest.fixture
def store(neo4j_server: Neo4jServer, neo4j_driver: neo4j.Driver) -> Iterator[Neo4jStore]:
    _wipe(neo4j_driver)
    opened = Neo4jStore(neo4j_server.store_url)
    yield opened
    opened.close()


def test_writes_are_numbered_one_after_another(store: Neo4jStore) -> None:
    events = list(generate("tiny", 5))
    assert store._last_commit() == 0  # nothing numbered yet
    ingest_events(store, events[:700])
    ingest_events(store, events[:700])  # all duplicates: nothing written, nothing numbered
    ingest_events(store, events[700:900])
    assert store._last_commit() == 2


def test_writes_that_change_no_contribution_are_not_numbered(store: Neo4jStore) -> None:
    events = list(generate("tiny", 5))
    entities = [e for e in events if e["type"] in ("brand", "store", "staff", "customer")]
    ingest_events(store, entities)  # no touch, referral, handover, deal or void
    assert store._last_commit() == 0
    ingest_events(store, [e for e in events if e["type"] == "touch"][:10])
    assert store._last_commit() == 1


def test_a_whole_read_that_writes_commit_into_is_as_of_its_mark(
    store: Neo4jStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch commits after the whole read has read the journeys and before it takes its last
    mark -- as a batch that commits while the read goes on may, for the customers read before
    it. The rows are still those of that last mark: the changes since it bring a tally of
    them to the one read afresh afterwards."""
    events = list(generate("tiny", 5))
    ingest_events(store, events[:1500])
    late = events[1500:1600]
    real = store._last_commit
    calls: list[int] = []

    def committed_into(self: Neo4jStore) -> int:
        if len(calls) == 1:
            ingest_events(store, late)  # commits after the read, before the last mark
        calls.append(real())
        return calls[-1]

    monkeypatch.setattr(Neo4jStore, "_last_commit", committed_into)
    rows = store.contribution_rows()
    assert rows.mark is not None
    assert calls[0] < calls[1] == rows.mark  # a commit the journeys read did not see
    monkeypatch.undo()
    monkeypatch.setattr("contribnet.store.base.CHANGES_SHARE", 1)  # never read whole instead
    ingest_events(store, events[1600:1700])
    changes = store.contribution_changes(rows.mark)
    assert changes is not None
    tally = tally_paths(encode_training_rows(rows, POLICY))
    fresh = tally_paths(encode_training_rows(store.contribution_rows(), POLICY))
    assert update_tally(tally, changes, POLICY) == fresh


def test_a_new_process_reads_the_kept_tally_and_the_changes_since(
    neo4j_server: Neo4jServer, store: Neo4jStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The service keeps its tally in Neo4j: a second process (another ``Neo4jStore``, nothing
    cached) reads it and the changes of the writes since, never every journey, and gets the
    context read from scratch."""
    events = list(generate("tiny", 5))
    ingest_events(store, events[:1900])
    context = credit_context(store, POLICY, "markov")  # reads every journey, keeps the tally
    assert context is not None
    second = Neo4jStore(neo4j_server.store_url)
    try:

        def refuse() -> None:
            raise AssertionError("read every journey")

        monkeypatch.setattr(second, "contribution_rows", refuse)
        again = credit_context(second, POLICY, "markov")
        assert again is not None and again.fingerprint == context.fingerprint
        for start in range(1900, 1930, 10):  # under a tenth of the events: no whole read
            ingest_events(second, events[start : start + 10])
        later = credit_context(second, POLICY, "shapley_conversion")
        monkeypatch.undo()
        rows = second.contribution_rows()
        fresh = context_of_counts(
            count_paths(encode_training_rows(rows, POLICY), POLICY.markov_order), POLICY
        )
        assert later is not None and later.fingerprint == fresh.fingerprint
    finally:
        second.close()
