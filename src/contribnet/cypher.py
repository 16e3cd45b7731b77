"""Cypher lives in ``.cypher`` files under ``cypher/``, loaded by name; never built from strings."""

from __future__ import annotations

from functools import cache

from contribnet.paths import CYPHER_DIR


@cache
def load(name: str) -> str:
    """The text of ``cypher/{name}.cypher`` (e.g. ``store/append_events``)."""
    return (CYPHER_DIR / f"{name}.cypher").read_text(encoding="utf-8")


def statements(name: str) -> list[str]:
    """The statements of a multi-statement file (``schema``), comments dropped."""
    lines = [line for line in load(name).splitlines() if not line.strip().startswith("//")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
