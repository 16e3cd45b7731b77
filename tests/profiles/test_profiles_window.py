"""One profile request on SQLite and on Neo4j: the default period (the last 12 weeks up to
today) and the region-only computation, which must give every staff member the figures of the
whole board."""

from __future__ import annotations

import doctest
from datetime import UTC, date, datetime, timedelta

import pytest
from tests.profiles.conftest import Profiles

from contribnet.domain.settlement import InvalidRequest, business_date
from contribnet.services import profiles as service

JANUARY = (date(2025, 1, 1), date(2025, 1, 31))


def test_the_default_window_docstring_examples_run() -> None:
    found = doctest.DocTestFinder().find(service.default_window, "default_window")
    runner = doctest.DocTestRunner()
    for test in found:
        runner.run(test)
    assert runner.tries > 0 and runner.failures == 0


def test_the_default_window_is_twelve_weeks_up_to_today() -> None:
    today = date(2025, 3, 31)
    assert service.default_window(None, None, today) == (date(2025, 1, 7), today)
    assert service.default_window(None, date(2025, 1, 31), today) == (
        date(2024, 11, 9),
        date(2025, 1, 31),
    )
    assert service.default_window(date(2025, 2, 1), None, today) == (date(2025, 2, 1), today)
    with pytest.raises(InvalidRequest) as raised:
        service.default_window(None, date(1, 1, 5), today)
    assert raised.value.problems[0][0] == "to"


def test_a_profile_without_a_period_covers_the_last_twelve_weeks(profiles: Profiles) -> None:
    view = service.staff_profile(profiles.store, "sf-x", None, None)
    today = business_date(datetime.now(UTC))
    assert (view.from_, view.to) == (today - timedelta(days=83), today)
    # The network's touches are all in January 2025, long before the window.
    assert view.total.touches.value == 0 and view.peers == 3


def test_a_profile_with_only_an_end_covers_the_twelve_weeks_before_it(profiles: Profiles) -> None:
    view = service.staff_profile(profiles.store, "sf-x", None, date(2025, 1, 31))
    january = service.staff_profile(profiles.store, "sf-x", *JANUARY)
    assert view.from_ == date(2024, 11, 9)
    assert view.model_dump(exclude={"from_"}) == january.model_dump(exclude={"from_"})
    assert view.total.credit.value == 390_000


@pytest.mark.parametrize("period", [JANUARY, (date(2025, 1, 6), date(2025, 1, 11))])
def test_one_request_gives_the_figures_of_the_whole_board(
    profiles: Profiles, period: tuple[date, date]
) -> None:
    board = service.profile_board(profiles.store, *period)
    for staff in board.inputs.spells:
        alone = service.staff_profile(profiles.store, staff, *period)
        assert alone == service.board_profile(board, staff), staff
