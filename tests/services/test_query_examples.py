"""Every query of the analysts' library, run with its documented example parameters on the demo
network (``contribnet demo``, seed 1, settled under the default policy) in a real Neo4j: each
returns rows, and its first rows are those its header shows. And the farmers: the library's
query and the leaders' page (``/v1/graph/farmers``) rank the same staff by the same numbers.

With ``CONTRIBNET_UPDATE_DOCS=1`` the headers' example tables are rewritten from the results.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import neo4j
import pytest

from contribnet.demo.generator import generate
from contribnet.graph import early_work, farmers
from contribnet.services.ingest import ingest_stream
from contribnet.services.policies import ensure_default_policy
from contribnet.services.queries import QueryService, get_query, library
from contribnet.services.settlement import credit_rows, settle_period
from contribnet.store import open_store

QUERIES = Path(__file__).resolve().parents[2] / "src/contribnet/resources/cypher/queries"
SHOWN = 3  # rows shown in each header


def _wipe(driver: neo4j.Driver) -> None:
    with driver.session(database="neo4j") as session:
        session.run(
            "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
        ).consume()


@pytest.fixture(scope="module")
def demo(neo4j_server: Any, neo4j_driver: neo4j.Driver) -> Iterator[Any]:
    """The demo network in Neo4j, settled; the store."""
    _wipe(neo4j_driver)
    store = open_store(neo4j_server.store_url)
    ingest_stream(store, generate("demo", 1))
    ensure_default_policy(store)
    *_, done = settle_period(store, None, None, requested_by="query-examples")
    assert done.finished and done.failures == 0 and done.created > 500
    yield store
    store.close()
    _wipe(neo4j_driver)


def cell(value: Any) -> str:
    """A value as the header's table writes it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime) or hasattr(value, "iso_format"):
        return value.isoformat() if isinstance(value, datetime) else value.iso_format()
    if isinstance(value, list):
        return ",".join(cell(v) for v in value)
    return str(value)


def table(columns: list[str], rows: list[dict[str, Any]]) -> list[str]:
    lines = [" | ".join(columns)]
    lines += [" | ".join(cell(r[c]) for c in columns) for r in rows[:SHOWN]]
    return lines


def shown_table(name: str) -> list[str]:
    """The example table under the ``params:`` line of the query's header."""
    lines = (QUERIES / f"{name}.cypher").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("//   params:"))
    out = []
    for line in lines[start + 1 :]:
        if not line.startswith("//   "):
            break
        out.append(line[len("//   ") :])
    return out


def write_table(name: str, lines: list[str]) -> None:
    path = QUERIES / f"{name}.cypher"
    text = path.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(text) if line.strip().startswith("//   params:"))
    end = start + 1
    while end < len(text) and text[end].startswith("//   "):
        end += 1
    text[start + 1 : end] = [f"//   {line}" for line in lines]
    path.write_text("\n".join(text) + "\n", encoding="utf-8")


@pytest.mark.parametrize("name", sorted(q.name for q in library()))
def test_each_example_runs_on_the_demo_network(
    name: str, demo: Any, neo4j_driver: neo4j.Driver
) -> None:
    query = get_query(name)
    assert query.example_params is not None
    params = query.bind(query.example_params)
    result = QueryService(neo4j_driver, "neo4j").run_query(name, params)
    assert result.row_count >= 1, f"{name}'s example returns no rows on the demo network"
    got = table(result.columns, result.rows)
    if os.environ.get("CONTRIBNET_UPDATE_DOCS"):
        write_table(name, got)
    assert shown_table(name) == got


def test_farmers_mean_one_thing(demo: Any, neo4j_driver: neo4j.Driver) -> None:
    """The Cypher farmers and the page's farmers, on the same settled network."""
    rows = list(credit_rows(demo, None, None))
    early = early_work(demo.ledger.current_settlements())
    page = farmers(rows, early, limit=20)
    query = get_query("farmers")
    cypher = (
        QueryService(neo4j_driver, "neo4j").run_query("farmers", query.bind({"limit": 20})).rows
    )
    assert [(f.staff, f.early_deals, f.farmed_deals, f.farmed) for f in page] == [
        (r["staff"], r["early_deals"], r["farmed_deals"], r["farmed"]) for r in cypher
    ]
    # not the delivery specialists: everyone ranked did early work that others closed
    assert all(f.farmed_deals > 0 for f in page) and len(page) == 20
