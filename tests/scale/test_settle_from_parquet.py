"""``contribnet settle --from-parquet``: a cluster's recompute recorded by the ledger's usual
rules -- the settlements ``settle`` would record, idempotent, stale splits refused, and a settled
deal superseded only with a reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contribnet.cli import main
from contribnet.services import settlement as settlement_service
from contribnet.services.ingest import ingest_events
from contribnet.store import open_store


def _run(
    url: str, folder: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, dict[str, object]]:
    code = main(["settle", "--store", url, "--from-parquet", str(folder), "--json", *extra])
    return code, json.loads(capsys.readouterr().out)


def test_recorded_splits_are_what_settle_records_and_a_rerun_changes_nothing(
    recomputed: Path, ledger_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, done = _run(ledger_url, recomputed, capsys)
    assert code == 0
    assert (done["created"], done["existing"], done["failures"]) == (86, 0, 0)
    store = open_store(ledger_url)
    try:
        deals = [r.id for r in store.ledger.closed_deals(None, None, limit=1000)]
        assert len(deals) == 86
        for deal_id in deals:
            # the service, settling the same deal now, finds it settled with these exact inputs
            current, created = settlement_service.settle(store, deal_id, requested_by="test")
            assert not created and current.requested_by.startswith("cli")
            assert sum(a.amount for a in current.allocations) == current.pool
    finally:
        store.close()
    code, again = _run(ledger_url, recomputed, capsys)
    assert code == 0
    assert (again["created"], again["existing"]) == (0, 86)


def test_a_deal_whose_journey_changed_since_the_export_is_not_recorded(
    recomputed: Path, ledger_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    store = open_store(ledger_url)
    try:
        ref = store.ledger.closed_deals(None, None, limit=1)[0]
        deal = store.deal_journeys([ref.id])[ref.id].deal
        late = {
            "type": "touch",
            "id": "t-late-after-export",
            "at": (deal.closed_at.replace(microsecond=0)).isoformat(),
            "customer": deal.customer,
            "staff": deal.staff,
            "store": deal.store,
            "stage": "test_drive",
        }
        ingest_events(store, [late])
    finally:
        store.close()
    code, done = _run(ledger_url, recomputed, capsys)
    assert code == 1
    assert (done["created"], done["stale"], done["failures"]) == (85, 1, 1)
    assert done["failed"][0][0] == ref.id and "changed since the export" in done["failed"][0][1]
    store = open_store(ledger_url)
    try:
        assert store.ledger.settlement_history(ref.id) == []
    finally:
        store.close()


def test_a_deal_settled_otherwise_is_superseded_only_with_a_reason(
    recomputed: Path, ledger_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    store = open_store(ledger_url)
    try:
        deal_id = store.ledger.closed_deals(None, None, limit=1)[0].id
        first, _ = settlement_service.settle(store, deal_id, requested_by="test", model="shapley")
    finally:
        store.close()
    code, done = _run(ledger_url, recomputed, capsys)
    assert code == 1
    assert (done["created"], done["needs_reason"], done["superseded"]) == (85, 1, 0)
    code, done = _run(ledger_url, recomputed, capsys, "--reason", "policy model is stage_weighted")
    assert code == 0
    assert (done["superseded"], done["existing"]) == (1, 85)
    store = open_store(ledger_url)
    try:
        chain = store.ledger.settlement_history(deal_id)
        assert [s.id for s in chain][0] == first.id and chain[-1].supersedes == first.id
        assert chain[-1].reason == "policy model is stage_weighted"
        assert chain[-1].model == "stage_weighted"
    finally:
        store.close()


def test_settle_from_parquet_refuses_what_is_not_a_recompute(
    exported: Path, ledger_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for folder, message in ((tmp_path / "nothing", "no folder"), (exported, "not a recompute")):
        code = main(["settle", "--store", ledger_url, "--from-parquet", str(folder)])
        assert code == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err
    code = main(["settle", "--store", ledger_url, "--from-parquet", str(exported), "--deal", "d-1"])
    assert code == 2
    assert "does not go with --from-parquet" in capsys.readouterr().err
