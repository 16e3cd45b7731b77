"""The value types events are made of: instants in UTC, dates, ids and bounded text.

They live apart from the events so that the parts of an event (its evidence,
``domain/evidence.py``) are built of the same types without importing the events.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, Strict

from contribnet.domain.limits import MAX_ID_LENGTH, MAX_TEXT_LENGTH

__all__ = ["Date", "Id", "Note", "Text", "UtcDatetime"]


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    if value.tzinfo is UTC:
        return value
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is in year 0 in UTC
        raise ValueError("the instant in UTC is outside years 1 to 9999") from None


def _iso_text(value: object) -> object:
    """Timestamps are ISO 8601 text: a number (seconds? milliseconds?) would be a guess, and
    digits past the microsecond would be dropped, so that two instants could hash the same."""
    if isinstance(value, (datetime, date)):  # built in Python, not read from JSON
        return value
    if not isinstance(value, str):
        raise ValueError("a timestamp must be an ISO 8601 string, not a number")
    if _SUB_MICROSECOND.search(value):
        raise ValueError("a timestamp may have at most 6 fractional digits (microseconds)")
    return value


_SUB_MICROSECOND = re.compile(r":\d\d[.,]\d{7,}")


#: Character categories an id may not contain: controls (NUL, DEL, ...), format characters
#: (zero-width spaces and joiners, bidi overrides and isolates, BOM), separators, surrogates,
#: private-use and unassigned code points.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"})


def _id_grammar(value: str) -> str:
    """An id is printable text: no control, invisible or bidi-override character, no whitespace,
    no ``@`` (the staff key separator) and no ``/`` (it could not be read back in a URL path)."""
    # Most ids are plain ASCII, where the refused categories are the controls and the space.
    if (
        value.isascii()
        and value.isprintable()
        and " " not in value
        and "/" not in value
        and "@" not in value
    ):
        return value
    for char in value:
        if char in "/@" or unicodedata.category(char) in _REFUSED_CATEGORIES:
            raise ValueError(
                f"an id may not contain {char!r} (U+{ord(char):04X}): only printable characters, "
                "no whitespace, '/' or '@'"
            )
    return value


Date = Annotated[date, BeforeValidator(_iso_text)]
UtcDatetime = Annotated[datetime, BeforeValidator(_iso_text), AfterValidator(_utc)]
Id = Annotated[
    str, Strict(), Field(min_length=1, max_length=MAX_ID_LENGTH), AfterValidator(_id_grammar)
]
# Length limits (domain/limits.py): free text, required or optional and possibly empty.
Text = Annotated[str, Field(min_length=1, max_length=MAX_TEXT_LENGTH)]
Note = Annotated[str, Field(max_length=MAX_TEXT_LENGTH)]
