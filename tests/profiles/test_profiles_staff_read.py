"""The profiles' read of some staff members (one profile's region) on both stores: exactly the
whole read's touches and activities of those staff, and their spells and stores all the same."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.profiles.conftest import Profiles

from contribnet.store.profiles import profile_store

START = datetime(2025, 1, 5, tzinfo=UTC)
END = datetime(2025, 1, 9, tzinfo=UTC)


def test_a_staff_read_is_the_whole_read_of_those_staff(profiles: Profiles) -> None:
    reads = profile_store(profiles.store)
    whole = reads.profile_inputs(START, END)
    some = reads.profile_inputs(START, END, staff={"sf-x", "sf-w", "sf-nobody"})
    assert sorted(some.touches) == sorted(t for t in whole.touches if t.staff in {"sf-x", "sf-w"})
    assert sorted(t.id for t in some.touches) == ["t-2", "t-3", "t-4", "t-6"]
    assert sorted(a.id for a in some.activities) == ["a-1", "a-2"]
    assert some.spells == whole.spells and some.stores == whole.stores


def test_no_staff_reads_spells_and_stores_alone(profiles: Profiles) -> None:
    inputs = profile_store(profiles.store).profile_inputs(None, None, staff=())
    assert inputs.touches == [] and inputs.activities == []
    assert set(inputs.spells) == {"sf-x", "sf-y", "sf-m", "sf-z", "sf-w"}
    assert set(inputs.stores) == {"st-a", "st-b", "st-c"}
