"""``contribnet audit ID`` and ``contribnet disputes`` as a user runs them (SQLite; the API
suites run the same services on both stores)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.audit.conftest import NETWORK

from contribnet.cli import main
from contribnet.services.disputes import open_dispute, resolve_dispute
from contribnet.services.ingest import ingest_events
from contribnet.services.policies import ensure_default_policy
from contribnet.services.settlement import settle
from contribnet.store import open_store


def test_the_audit_and_disputes_commands(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    store = open_store(url)
    try:
        ingest_events(store, NETWORK, requested_by="ingest (key-aaaaaaaaaaaa)")
        ensure_default_policy(store)
        settle(store, "d-1", requested_by="leader (key-bbbbbbbbbbbb)")
        dispute = open_dispute(store, "d-1", "two drives", "staff:sf-x (key-cccccccccccc)")
        resolve_dispute(store, dispute.id, "accept", "ok", "leader (key-bbbbbbbbbbbb)", amount=500)
    finally:
        store.close()

    assert main(["audit", "d-1", "--store", url]) == 0
    table = capsys.readouterr().out
    for word in ("event_written", "settled", "adjusted", "dispute_resolved", "key-bbbbbbbbbbbb"):
        assert word in table
    assert main(["audit", "sf-x", "--json", "--store", url]) == 0
    actions = [e["action"] for e in json.loads(capsys.readouterr().out)]
    assert actions == ["event_written", "settled", "dispute_opened", "adjusted", "dispute_resolved"]
    assert main(["audit", "d-1", "--from", "2000-01-01", "--to", "2000-01-02", "--store", url]) == 0
    assert "0 entries" in capsys.readouterr().out

    assert main(["disputes", "--status", "resolved", "--json", "--store", url]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["id"] == dispute.id and listed["resolution"]["amount"] == 500
    assert main(["disputes", "--status", "open", "--store", url]) == 0
    assert "0 disputes" in capsys.readouterr().out
