"""JSON read strictly: duplicate keys and nesting past :data:`MAX_JSON_DEPTH` are refused.

``json.loads`` keeps the last of duplicate keys silently, and recurses once per level (a body
nested 50,000 deep raises ``RecursionError``); :func:`loads` turns both into
:class:`JsonRefused`, which names the problem, so that a caller answers 422 instead of 500.
"""

from __future__ import annotations

import json
from typing import Any

from contribnet.domain.limits import MAX_JSON_DEPTH

__all__ = ["JsonRefused", "depth_exceeds", "loads"]


class JsonRefused(ValueError):
    """The text is not JSON, repeats a key, or nests too deep; ``field`` says which (the key, or
    ``body``), ``line`` where the text stops being JSON, when it is known."""

    def __init__(self, field: str, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.line = line


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise JsonRefused(key, f"duplicate key {key!r} in one JSON object")
            seen.add(key)
    return document


def depth_exceeds(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``value`` nests objects and arrays more than ``limit`` deep (iteratively: no
    recursion, whatever the depth)."""
    if not isinstance(value, dict | list):
        return False
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        for child in children:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))
    return False


def loads(data: bytes | str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse ``data`` once, refusing duplicate keys and nesting over ``max_depth``."""
    too_deep = JsonRefused("body", f"JSON nested deeper than the limit of {max_depth} levels")
    try:
        document = json.loads(data, object_pairs_hook=_no_duplicates)
    except RecursionError:
        raise too_deep from None
    except JsonRefused:
        raise
    except ValueError as exc:  # JSONDecodeError, and bytes that are not UTF-8
        raise JsonRefused("body", f"not JSON: {exc}", getattr(exc, "lineno", None)) from None
    if depth_exceeds(document, max_depth):
        raise too_deep
    return document
