"""Holds find the store's flags once, on both stores: settlements and previews under a holding
policy reuse them until the store records another event; reviews are read afresh, so a dismissal
(which records no event) releases the deal at once."""

from __future__ import annotations

from datetime import datetime

import pytest
from tests.flags.conftest import NETWORK, Flags, touch

from contribnet.domain.flags import FlagInputs
from contribnet.domain.policy import Policy
from contribnet.services.flags import review_flag
from contribnet.services.holds import open_flags
from contribnet.services.ingest import ingest_events
from contribnet.store.flags import flag_store

HOLD_GRABS = Policy(hold_flagged=("grab",))


def test_open_flags_are_found_again_only_after_another_event(
    flags: Flags, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = flags.store
    ingest_events(store, NETWORK)
    port = flag_store(store)
    reads: list[tuple[datetime | None, datetime | None]] = []
    read = port.flag_inputs

    def counted(start: datetime | None, end: datetime | None) -> FlagInputs:
        reads.append((start, end))
        return read(start, end)

    monkeypatch.setattr(port, "flag_inputs", counted)
    assert open_flags(store, ["grab"]).holding("d-1", HOLD_GRABS) == ()
    assert open_flags(store, ["grab"]).holding("d-1", HOLD_GRABS) == ()
    assert len(reads) == 1  # nothing recorded in between: the flags found are reused

    ingest_events(store, [touch("t-grab", "2025-01-10T03:45:00Z", "c-1", "sf-z")])
    (grab,) = open_flags(store, ["grab"]).holding("d-1", HOLD_GRABS)
    assert len(reads) == 2  # a new event: found again, and the grab holds d-1
    assert open_flags(store, ["grab", "late_log"]).holding("d-1", HOLD_GRABS) == (grab,)
    assert len(reads) == 3  # other kinds: other flags

    review_flag(store, grab, "dismiss", "Zhao did the test drive", "leader")
    assert open_flags(store, ["grab"]).holding("d-1", HOLD_GRABS) == ()  # released at once
