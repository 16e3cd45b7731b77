"""Holding flagged deals out of settlement, on both stores: under a policy with
``hold_flagged``, a deal with an open flag is not settled (one deal: 409 naming the flags; a
batch: reported as held), a dismissal releases it, a confirmation voids the suspect record and
the next settlement pays without it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from tests.flags.conftest import NETWORK, Flags, touch

from contribnet.api.app import create_app
from contribnet.cli import main
from contribnet.domain.settlement import DealHeld
from contribnet.services.credit import preview
from contribnet.services.flags import list_flags, review_flag
from contribnet.services.ingest import ingest_events
from contribnet.services.policies import add_policy, ensure_default_policy
from contribnet.services.settlement import (
    RecomputedSplit,
    resettle,
    settle,
    settle_period,
    settle_recomputed,
)
from contribnet.settings import Settings

ADMIN = "holds-admin-key-0123456789"

HOLDING = """
name = "holding"
version = "1"
effective_from = "2024-12-01"
hold_flagged = ["grab"]
"""


@pytest.fixture
def grabbed(flags: Flags) -> Iterator[tuple[Flags, str]]:
    """The network, a grab on d-1 (Zhao's touch 15 minutes before Yang closes), a policy that
    holds grabs; the grab's flag id."""
    store = flags.store
    ingest_events(store, NETWORK)
    ingest_events(store, [touch("t-grab", "2025-01-10T03:45:00Z", "c-1", "sf-z")])
    ensure_default_policy(store)
    add_policy(store, HOLDING, "test")
    (grab,) = list_flags(store, kinds=["grab"])
    assert grab.deals == ("d-1",) and grab.suspects == ("t-grab",)
    yield flags, grab.id


def _batch(flags: Flags) -> tuple[int, int, list[tuple[str, tuple[str, ...]]]]:
    *_, done = settle_period(flags.store, None, None, requested_by="test")
    return done.created, done.held, done.held_by


def test_an_open_flag_holds_the_deal_and_a_dismissal_releases_it(
    grabbed: tuple[Flags, str],
) -> None:
    flags, grab = grabbed
    store = flags.store
    with pytest.raises(DealHeld) as held:
        settle(store, "d-1", requested_by="test")
    assert held.value.flags == (grab,) and grab in str(held.value)
    assert _batch(flags) == (0, 1, [("d-1", (grab,))])
    assert store.ledger.settlement_history("d-1") == []  # nobody paid on a suspect deal
    review_flag(store, grab, "dismiss", "Zhao did the test drive; the log was late", "leader")
    assert _batch(flags) == (1, 0, [])
    (settlement,) = store.ledger.settlement_history("d-1")
    assert "sf-z" in {a.id for a in settlement.allocations}  # released as it stands


def test_a_confirmation_voids_the_touch_and_the_deal_settles_without_it(
    grabbed: tuple[Flags, str],
) -> None:
    flags, grab = grabbed
    store = flags.store
    review_flag(store, grab, "confirm", "Zhao never met the customer", "leader")
    settlement, created = settle(store, "d-1", requested_by="test")
    assert created and settlement.policy == "holding@1"
    assert {a.id for a in settlement.allocations} == {"sf-y"}
    assert sum(a.amount for a in settlement.allocations) == settlement.pool


def test_a_policy_without_hold_flagged_settles_flagged_deals(grabbed: tuple[Flags, str]) -> None:
    flags, _ = grabbed
    settlement, created = settle(flags.store, "d-1", requested_by="test", policy="default")
    assert created and "sf-z" in {a.id for a in settlement.allocations}


def test_the_api_answers_409_naming_the_flags_and_the_batch_reports_the_hold(
    grabbed: tuple[Flags, str],
) -> None:
    flags, grab = grabbed
    app = create_app(store=flags.store, settings=Settings(admin_key=ADMIN))
    with TestClient(app, headers={"Authorization": f"Bearer {ADMIN}"}) as client:
        preview = client.get("/v1/deals/d-1/credit")
        assert preview.status_code == 200, preview.text
        assert preview.json()["held_by"] == [grab]  # the preview shows the hold
        unheld = client.get("/v1/deals/d-1/credit", params={"policy": "default"})
        assert unheld.json()["held_by"] == []
        response = client.post("/v1/deals/d-1/settlements")
        assert response.status_code == 409, response.text
        assert response.json()["field"] == "flags" and grab in response.json()["detail"]
        response = client.post("/v1/settlements:batch", json={})
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["created"], body["held"]) == (0, 1)
        assert body["held_by"] == [{"deal": "d-1", "flags": [grab]}]


def test_the_settle_command_reports_held_deals_and_why(
    grabbed: tuple[Flags, str], capsys: pytest.CaptureFixture[str]
) -> None:
    flags, grab = grabbed
    assert main(["settle", "--store", flags.url]) == 0
    err = capsys.readouterr().err
    assert "held by open flags" in err and f"d-1: held by {grab} until reviewed" in err
    assert main(["settle", "--deal", "d-1", "--store", flags.url]) != 0
    assert grab in capsys.readouterr().err


def test_a_resettlement_leaves_a_held_deal_as_it_was_paid(flags: Flags) -> None:
    store = flags.store
    ingest_events(store, NETWORK)
    ensure_default_policy(store)
    add_policy(store, HOLDING, "test")
    first, _ = settle(store, "d-1", requested_by="test")
    ingest_events(store, [touch("t-grab", "2025-01-10T03:45:00Z", "c-1", "sf-z")])  # late
    (grab,) = list_flags(store, kinds=["grab"])
    report = resettle(store, requested_by="test", reason="late touches")
    assert (report.superseded, report.held, report.held_by) == (0, 1, [("d-1", (grab.id,))])
    assert [s.id for s in store.ledger.settlement_history("d-1")] == [first.id]
    review_flag(store, grab.id, "dismiss", "Zhao did the test drive", "leader")
    report = resettle(store, requested_by="test", reason="late touches")
    assert (report.superseded, report.held) == (1, 0)
    assert "sf-z" in {a.id for a in store.ledger.settlement_history("d-1")[-1].allocations}


def test_a_split_recomputed_elsewhere_is_not_recorded_for_a_held_deal(
    grabbed: tuple[Flags, str],
) -> None:
    flags, grab = grabbed
    store = flags.store
    found = preview(store, "d-1")
    assert found.held_by == (grab,)
    row = RecomputedSplit(
        "d-1",
        found.policy.id,
        found.policy.hash,
        found.split.model,
        found.split.input_hash,
        found.split,
    )
    *_, done = settle_recomputed(store, [[row]], 1, requested_by="test")
    assert (done.created, done.failures) == (0, 1)
    assert done.failed == [("d-1", f"held by open flags {grab} until reviewed")]
    review_flag(store, grab, "dismiss", "Zhao did the test drive", "leader")
    *_, done = settle_recomputed(store, [[row]], 1, requested_by="test")
    assert (done.created, done.failures) == (1, 0)
