"""The import's plain-line way (JSON Lines validated straight from their text) against the exact
way (strict JSON, then validation): for any batch, the plain way either steps aside or reads
exactly the events the exact way reads -- it never accepts what the exact way refuses."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from contribnet.domain import strict_json
from contribnet.domain.errors import InvalidEvents
from contribnet.domain.events import DEFAULT_ACTIONS, DEFAULT_STAGES, canonical_json
from contribnet.services.ingest import _plain_lines, validate_events

TOUCH: dict[str, Any] = {
    "type": "touch",
    "id": "t-1",
    "at": "2025-01-05T10:00:00Z",
    "customer": "c-1",
    "staff": "sf-1",
    "store": "st-1",
    "stage": "lead",
}
EVIDENCE = {"kind": "crm_record", "ref": "crm-1"}


def _exact(lines: list[bytes]) -> list[bytes] | None:
    """The canonical JSON of the events the exact way reads, or None if it refuses the batch."""
    try:
        raw = [strict_json.loads(line) for line in lines]
        return [canonical_json(e) for e in validate_events(raw)]
    except (strict_json.JsonRefused, InvalidEvents):
        return None


def _plain(lines: list[bytes]) -> list[bytes] | None:
    events = _plain_lines(list(enumerate(lines, 1)), DEFAULT_STAGES, DEFAULT_ACTIONS)
    return None if events is None else [canonical_json(e) for e in events]


def _line(pairs: list[tuple[str, Any]], space: str = " ") -> bytes:
    """An object written key by key (so that a key may repeat), with ``space`` around colons."""
    body = ", ".join(f"{json.dumps(k)}{space}:{space}{json.dumps(v)}" for k, v in pairs)
    return ("{" + body + "}\n").encode()


def test_plain_lines_read_the_same_events() -> None:
    lines = [_line(list(dict(TOUCH, id=f"t-{i}", evidence=EVIDENCE).items())) for i in range(5)] + [
        _line(list(dict(TOUCH, id="t-9", channel="wechat").items()), space="")
    ]
    plain = _plain(lines)
    assert plain is not None and plain == _exact(lines)


TRICKY = [
    _line([*TOUCH.items(), ("id", "t-2")]),  # a repeated key
    _line([*TOUCH.items(), ("evidence", {"kind": "photo", "ref": "a"})])[:-2]
    + b', "evidence": {"kind": "photo", "ref": "b"}}\n',  # a repeated nested object
    _line([*TOUCH.items(), ("evidence", EVIDENCE)]).replace(
        b'"ref": "crm-1"', b'"ref": "crm-1", "ref": "crm-2"'
    ),  # a repeated key inside the evidence
    _line([*[(k, v) for k, v in TOUCH.items() if k != "stage"], ("stage", "nap")]),
    _line([*TOUCH.items(), ("recorded_at", "2025-01-05T10:00:00Z")]),
    _line([*TOUCH.items(), ("channel", 'said ": hi')]),  # a value ending like a key
    _line(list(TOUCH.items()))[:-1] + b", " + _line(list(dict(TOUCH, id="t-3").items())),
    b'{"type": "touch", "id": "t-\\ud800"}\n',
    _line([*TOUCH.items(), ("evidence", json.loads("[" * 40 + "]" * 40))]),  # too deep
    b"\xef\xbb\xbf" + _line(list(TOUCH.items())),
    _line([*TOUCH.items(), ("evidence", [EVIDENCE, {**EVIDENCE, "captured_by": None}])]),
    _line([(k, v) for k, v in TOUCH.items() if k != "at"] + [("at", 1736071200)]),
    _line(
        [("type", "handover"), ("id", "h-1"), ("at", "2025-01-05T10:00:00Z")]
        + [("from_staff", "sf-1"), ("to_staff", "sf-2"), ("customers", ["c-1", "c-1"])]
    ),  # fmt: skip
    _line(
        [("type", "staff"), ("id", "sf-1"), ("name", "A"), ("store", "st-1")]
        + [("role", "sales"), ("from", "2024-01-01"), ("from_", "2024-02-01")]
    ),  # fmt: skip
]


@given(st.lists(st.sampled_from(TRICKY), min_size=1, max_size=4), st.integers(0, 3))
@settings(max_examples=200, deadline=None)
def test_the_plain_way_never_reads_other_events_than_the_exact_way(
    tricky: list[bytes], plain_count: int
) -> None:
    lines = [_line(list(dict(TOUCH, id=f"t-p{i}").items())) for i in range(plain_count)] + tricky
    plain = _plain(lines)
    assert plain is None or plain == _exact(lines)


def test_a_repeated_key_sends_the_batch_the_exact_way() -> None:
    lines = [_line(list(TOUCH.items())), _line([*TOUCH.items(), ("store", "st-2")])]
    assert _plain(lines) is None
    assert _exact(lines) is None
    assert _plain(lines[:1]) == _exact(lines[:1]) is not None
