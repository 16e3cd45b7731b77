"""Reads on Neo4j run as auto-commit queries (one round trip), sent again after a failure the
driver calls retryable -- a pooled connection the server closed -- and not after any other."""

from __future__ import annotations

from typing import Any

import neo4j
import pytest

from contribnet.store import neo4j_retry

pytestmark = pytest.mark.neo4j


class _FailingFirst:
    """A driver whose first ``failures`` sessions fail their query with ``error``."""

    def __init__(self, driver: neo4j.Driver, error: Exception, failures: int) -> None:
        self._driver, self._error, self._left = driver, error, failures
        self.sessions = 0

    def session(self, **config: Any) -> Any:
        self.sessions += 1
        if self._left:
            self._left -= 1
            raise self._error
        return self._driver.session(**config)


def test_a_read_returns_its_records(neo4j_driver: neo4j.Driver) -> None:
    records = neo4j_retry.read(neo4j_driver, "neo4j", "UNWIND $xs AS x RETURN x", {"xs": [1, 2]})
    assert [r["x"] for r in records] == [1, 2]


def test_a_read_is_one_auto_commit_query(neo4j_driver: neo4j.Driver) -> None:
    """No transaction of its own around it: a query that only an auto-commit transaction may
    run (``CALL { } IN TRANSACTIONS``) is accepted."""
    query = "CALL () { RETURN 1 AS one } IN TRANSACTIONS RETURN one"
    assert [r["one"] for r in neo4j_retry.read(neo4j_driver, "neo4j", query, {})] == [1]
    with pytest.raises(neo4j.exceptions.Neo4jError, match="implicit transaction"):
        neo4j_driver.execute_query(query, database_="neo4j")  # a managed transaction refuses it


def test_a_dropped_connection_is_read_again(neo4j_driver: neo4j.Driver) -> None:
    flaky = _FailingFirst(neo4j_driver, neo4j.exceptions.SessionExpired("closed"), failures=2)
    records = neo4j_retry.read(flaky, "neo4j", "RETURN 7 AS n", {})  # type: ignore[arg-type]
    assert [r["n"] for r in records] == [7]
    assert flaky.sessions == 3


def test_a_mistake_is_not_read_again(neo4j_driver: neo4j.Driver) -> None:
    flaky = _FailingFirst(neo4j_driver, neo4j.exceptions.ServiceUnavailable("x"), failures=0)
    with pytest.raises(neo4j.exceptions.CypherSyntaxError):
        neo4j_retry.read(flaky, "neo4j", "RETURN RETURN", {})  # type: ignore[arg-type]
    assert flaky.sessions == 1


def test_an_outage_is_read_again_for_a_bounded_time(
    neo4j_driver: neo4j.Driver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(neo4j_retry, "RETRY_SECONDS", 0.3)
    down = _FailingFirst(neo4j_driver, neo4j.exceptions.ServiceUnavailable("down"), failures=10**6)
    with pytest.raises(neo4j.exceptions.ServiceUnavailable):
        neo4j_retry.read(down, "neo4j", "RETURN 1", {})  # type: ignore[arg-type]
    assert 2 <= down.sessions < 50
