"""The graph modules' docstring examples run as tests."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["filters", "networks", "measures", "farmers", "summary"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(f"contribnet.graph.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
