"""Typed evidence's fixtures: the fraud signals' small network on SQLite and on a real Neo4j."""

from __future__ import annotations

from tests.flags.conftest import flags  # noqa: F401  (the both-stores fixture, reused)
