"""JSON read strictly: duplicate keys and nesting past :data:`MAX_JSON_DEPTH` are refused.

``json.loads`` keeps the last of duplicate keys silently, and recurses once per level (a body
nested 50,000 deep raises ``RecursionError``); :func:`loads` turns both into
:class:`JsonRefused`, which names the problem, so that a caller answers 422 instead of 500.
"""

from __future__ import annotations

import json
import re
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


# One decoder for every call: ``json.loads`` with a hook builds a new one each time, which cost
# as much as parsing a line of an import file.
_DECODER = json.JSONDecoder(object_pairs_hook=_no_duplicates)
_PLAIN = json.JSONDecoder()
#: The end of an object's key: a string's closing quote, then the colon.
_KEY_END = re.compile(r'"\s*:')


def _decode(text: str) -> Any:
    """The document, duplicate keys refused.

    One object alone (one ``{`` in the text: an event of a file) is parsed without the hook,
    in C: all its keys are its own, each ends in ``":`` (found at least once per key, more if a
    value holds it), so if it keeps as many keys as there are such endings none repeated;
    otherwise it is parsed again, with the hook, which names the repeated key.
    """
    if text.count("{") == 1:
        document = _PLAIN.decode(text)
        if not isinstance(document, dict) or len(document) == len(_KEY_END.findall(text)):
            return document
    return _DECODER.decode(text)


def _text(data: bytes | str) -> str:
    """``data`` as text, as ``json.loads`` reads it (UTF-8, -16 or -32; a BOM refused in text)."""
    if isinstance(data, str):
        if data.startswith("\ufeff"):
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", data, 0)
        return data
    if data.startswith(b'{"'):  # what detect_encoding finds for it: no BOM, no NUL byte
        return data.decode("utf-8", "surrogatepass")
    return data.decode(json.detect_encoding(data), "surrogatepass")


def loads(data: bytes | str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse ``data`` once, refusing duplicate keys and nesting over ``max_depth``."""
    try:
        text = _text(data)
        document = _decode(text)
    except RecursionError:
        raise _too_deep(max_depth) from None
    except JsonRefused:
        raise
    except ValueError as exc:  # JSONDecodeError, and bytes that are not UTF-8
        raise JsonRefused("body", f"not JSON: {exc}", getattr(exc, "lineno", None)) from None
    # No document nests deeper than it has brackets: most lines of a file need no walk.
    if text.count("{") + text.count("[") > max_depth and depth_exceeds(document, max_depth):
        raise _too_deep(max_depth)
    return document


def _too_deep(max_depth: int) -> JsonRefused:
    return JsonRefused("body", f"JSON nested deeper than the limit of {max_depth} levels")
