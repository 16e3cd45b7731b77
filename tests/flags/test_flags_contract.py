"""The fraud signals on both stores: the bulk reads the rules run on, received times, reviews
(idempotent, one per flag), and a confirmation voiding the suspects through ingest."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from tests.flags.conftest import NETWORK, Flags, touch

from contribnet.domain.errors import NotFound
from contribnet.domain.settlement import RecordConflict
from contribnet.services.flags import list_flags, review_flag
from contribnet.services.ingest import ingest_events
from contribnet.store.flags import flag_store


def test_flag_inputs_read_the_live_records_of_a_period_with_received_times(flags: Flags) -> None:
    store = flags.store
    ingest_events(store, NETWORK)
    ingest_events(
        store,
        [
            {
                "type": "referral",
                "id": "r-1",
                "at": "2025-01-03T00:00:00Z",
                "customer": "c-1",
                "to_store": "st-a",
                "referrer_staff": "sf-z",
            },
            {"type": "void", "id": "v-3", "target": "t-3", "reason": "entered by mistake"},
        ],
    )
    port = flag_store(store)
    inputs = port.flag_inputs(None, None)
    # in no particular order (store/flags.py)
    assert sorted(t.id for t in inputs.touches) == ["t-1", "t-2"]  # t-3 voided
    assert [d.id for d in inputs.deals] == ["d-1"]
    assert [r.id for r in inputs.referrals] == ["r-1"]
    (t2,) = [t for t in inputs.touches if t.id == "t-2"]
    assert t2.evidence == {"kind": "test_drive_log", "ref": "TD-1"}
    assert inputs.cities == {"st-a": "Shanghai", "st-b": "Beijing"}
    assert [s.to for s in inputs.spells["sf-x"]] == [date(2025, 2, 28)]
    assert set(inputs.recorded) == {"t-1", "t-2", "d-1", "r-1"}
    assert inputs.recorded["r-1"] > inputs.recorded["t-1"]  # a later batch
    window = port.flag_inputs(
        datetime(2025, 1, 5, tzinfo=UTC), datetime(2025, 1, 10, 4, tzinfo=UTC)
    )
    assert [t.id for t in window.touches] == ["t-2"]
    assert window.deals == [] and window.referrals == []


def test_late_logged_touch_is_flagged_from_the_stores_received_times(flags: Flags) -> None:
    store = flags.store
    ingest_events(store, NETWORK)
    # the same history loaded in one go is not late: nothing later was on record before it
    assert [f.kind for f in list_flags(store)] == []
    ingest_events(store, [touch("t-late", "2025-01-08T02:00:00Z", "c-1", "sf-y")])
    found = list_flags(store, kinds=["late_log"])
    assert [f.suspects for f in found] == [("t-late",)]
    assert "after deal d-1 of c-1 had closed" in found[0].reason
    assert found[0].deals == ("d-1",)


def test_each_rule_on_the_store(flags: Flags) -> None:
    store = flags.store
    ingest_events(store, NETWORK)
    ingest_events(
        store,
        [
            # Xu after leaving; Zhao in Beijing an hour after touching in Shanghai; a reused ref
            touch("t-gone", "2025-03-03T02:00:00Z", "c-2", "sf-x", stage="reception"),
            touch("t-sh", "2025-01-07T02:00:00Z", "c-2", "sf-z", stage="reception"),
            touch(
                "t-bj",
                "2025-01-07T03:00:00Z",
                "c-2",
                "sf-z",
                store="st-b",
                stage="quote",
                evidence={"kind": "test_drive_log", "ref": "TD-1"},
            ),
            # Zhao's first touch on c-1, 15 minutes before Yang closes d-1
            touch("t-grab", "2025-01-10T03:45:00Z", "c-1", "sf-z", stage="consultation"),
        ],
    )
    by_kind = {f.kind: f for f in list_flags(store)}
    assert by_kind["outside_employment"].suspects == ("t-gone",)
    assert by_kind["impossible_travel"].records == ("t-sh", "t-bj")
    assert by_kind["evidence_reuse"].records == ("t-2", "t-bj")
    assert by_kind["grab"].records == ("t-grab", "d-1")
    # sent a batch after d-1 and the journey's later touches, they are late logs too
    assert set(by_kind) == {
        "outside_employment",
        "impossible_travel",
        "evidence_reuse",
        "grab",
        "late_log",
    }
    only = list_flags(store, date(2025, 3, 1), date(2025, 3, 31), ["outside_employment"])
    assert [f.kind for f in only] == ["outside_employment"]


def _grab(flags: Flags) -> str:
    store = flags.store
    ingest_events(store, NETWORK)
    ingest_events(store, [touch("t-grab", "2025-01-10T03:45:00Z", "c-1", "sf-z")])
    (found,) = list_flags(store, kinds=["grab"])
    return found.id


def test_a_dismissed_flag_shows_its_review_and_a_review_is_idempotent(flags: Flags) -> None:
    store = flags.store
    flag = _grab(flags)
    review, created = review_flag(store, flag, "dismiss", "Zhao covered the test drive", "leader")
    assert created and review.voids == ()
    again, created = review_flag(store, flag, "dismiss", "Zhao covered the test drive", "other")
    assert not created and again == review
    with pytest.raises(RecordConflict):
        review_flag(store, flag, "confirm", "on second thoughts", "leader")
    (shown,) = list_flags(store, kinds=["grab"])
    assert shown.review == review
    assert [t.id for t in flag_store(store).flag_inputs(None, None).touches].count("t-grab") == 1


def test_confirming_a_flag_voids_its_suspects_and_the_flag_keeps_its_review(flags: Flags) -> None:
    store = flags.store
    flag = _grab(flags)
    review, created = review_flag(store, flag, "confirm", "no such test drive", "leader (k1)")
    assert created and review.voids == (f"v-{flag}-1",)
    assert store.stored_types([f"v-{flag}-1"]) == {f"v-{flag}-1": "void"}
    assert "t-grab" not in [t.id for t in flag_store(store).flag_inputs(None, None).touches]
    assert review_flag(store, flag, "confirm", "no such test drive", "leader")[1] is False
    (shown,) = list_flags(
        store, kinds=["grab"]
    )  # voided, no longer found, but the review keeps the finding
    assert shown.id == flag and shown.review == review and shown.suspects == ("t-grab",)
    assert list_flags(store, date(2025, 2, 1), None, ["grab"]) == []
    assert flag_store(store).flag_reviews([flag, "fl-grab-0"]) == {flag: review}


def test_an_unknown_flag_is_not_found(flags: Flags) -> None:
    ingest_events(flags.store, NETWORK)
    for unknown in ("fl-grab-0000000000000000", "nonsense"):
        with pytest.raises(NotFound):
            review_flag(flags.store, unknown, "dismiss", "why not", "leader")


def test_a_spell_without_dates_reads_as_open_ended(flags: Flags) -> None:
    """A staff spell sent without ``from``/``to`` (both optional) reads back with neither, and
    the rules still run (SQLite once stored the missing date as '' and failed to read it)."""
    store = flags.store
    ingest_events(store, NETWORK)
    ingest_events(
        store,
        [{"type": "staff", "id": "sf-open", "name": "Open", "store": "st-a", "role": "advisor"}],
    )
    (spell,) = flag_store(store).flag_inputs(None, None).spells["sf-open"]
    assert (spell.from_, spell.to) == (None, None)
    assert [f.kind for f in list_flags(store)] == []
