"""The lead pools' docstring examples (the definitions' worked examples among them) run as tests;
and scenario 5 (order grabbing) of the demo, whose lead Zhou Xin held, marks Wu Bo's work."""

from __future__ import annotations

import doctest
import importlib

import pytest

from contribnet.credit import compute_split
from contribnet.demo.scenarios import all_events, deal_journey
from contribnet.domain.policy import Policy


@pytest.mark.parametrize("name", ["contribnet.domain.leads", "contribnet.services.leads"])
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


def test_the_order_grab_is_marked_as_work_on_someone_else_s_lead() -> None:
    split = compute_split(deal_journey(all_events(), "d-s5-1"), Policy())
    by_id = {a.id: a for a in split.allocations}
    assert "lead held by sf-nio-hz-x" in by_id["sf-nio-hz-y"].explanation.text
    assert "held" not in by_id["sf-nio-hz-x"].explanation.text
    assert {t.held_by for t in by_id["sf-nio-hz-y"].explanation.touches} == {"sf-nio-hz-x"}
