"""The demo network's activities (``demo/activities.py``): added beside the generated network
without changing it, deterministic, in time order, every one a valid event of the default
vocabulary."""

from __future__ import annotations

import json
from collections import Counter

from contribnet.demo.activities import ACTIONS_AFTER, ActivityStream
from contribnet.demo.generator import generate
from contribnet.domain.events import DEFAULT_ACTIONS
from contribnet.services.ingest import validate_events


def _wrapped(seed: int) -> tuple[list[dict], ActivityStream]:
    stream = ActivityStream(seed)
    return list(stream.wrap(generate("tiny", seed))), stream


def test_the_network_itself_is_unchanged_and_in_time_order() -> None:
    events, stream = _wrapped(3)
    added = [e for e in events if e["id"].startswith(("act-", "v-act-"))]
    network = [e for e in events if not e["id"].startswith(("act-", "v-act-"))]
    assert network == list(generate("tiny", 3))
    assert len(added) == stream.total_events > 0
    # after the entities, everything with an instant comes in time order (voids have none)
    first_touch = next(i for i, e in enumerate(events) if e["type"] == "touch")
    times = [e.get("at") or e["closed_at"] for e in events[first_touch:] if e["type"] != "void"]
    assert times == sorted(times)


def test_same_seed_same_activities_other_seed_other_ones() -> None:
    assert json.dumps(_wrapped(3)[0]) == json.dumps(_wrapped(3)[0])
    assert _wrapped(3)[0] != _wrapped(4)[0]


def test_activities_validate_follow_their_touch_and_some_are_voided() -> None:
    events, stream = _wrapped(3)
    validated = validate_events(events)
    activities = [e for e in validated if e.type == "activity"]
    assert {a.action for a in activities} == set(DEFAULT_ACTIONS)
    assert Counter(a.action for a in activities) == stream.actions
    touches = {e.id: e for e in validated if e.type == "touch"}
    for a in activities:
        touch = touches["t-" + a.id.removeprefix("act-").rsplit("-", 1)[0]]
        action, _, lo, hi = ACTIONS_AFTER[touch.stage][int(a.id.rsplit("-", 1)[1]) - 1]
        assert a.action == action and (a.staff, a.customer) == (touch.staff, touch.customer)
        assert lo * 60 <= (a.at - touch.at).total_seconds() <= hi * 60
    voids = [e for e in validated if e.type == "void" and e.target.startswith("act-")]
    assert len(voids) == stream.voided > 0
    assert sum(stream.by_staff.values()) == len(activities) - len(voids)
