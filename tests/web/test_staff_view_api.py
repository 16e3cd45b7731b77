"""``/v1/me`` and ``/v1/staff/{id}/view`` on the settled demo network: who may read whose view,
and that the view's lines are the staff member's own, add up, and explain themselves."""

from __future__ import annotations

from typing import Any

import httpx

from contribnet.services.keys import create_key


def _get(server: Any, path: str, key: str, **params: str) -> httpx.Response:
    return httpx.get(
        server.url + path, params=params, headers={"Authorization": f"Bearer {key}"}, timeout=60
    )


def _two_staff(server: Any) -> tuple[str, str]:
    r = _get(server, "/v1/graph/farmers", server.leader_key, limit="2")
    first, second = (f["staff"] for f in r.json()["farmers"])
    return first, second


def test_a_staff_key_sees_only_its_own_view(demo_server: Any) -> None:
    me, other = _two_staff(demo_server)
    key = create_key(demo_server.store, "staff", staff=me)
    assert _get(demo_server, "/v1/me", key).json() == {"role": "staff", "staff": me}
    own = _get(demo_server, f"/v1/staff/{me}/view", key, **{"from": "2025-01-01"}, to="2025-02-28")
    assert own.status_code == 200
    view = own.json()
    assert view["staff"] == me and view["lines"]
    # every line is one of the staff member's own settled allocations
    statement = _get(
        demo_server, f"/v1/staff/{me}/statement", key, **{"from": "2025-01-01"}, to="2025-02-28"
    ).json()
    assert [(x["deal"], x["amount"]) for x in view["lines"]] == [
        (x["deal"], x["amount"]) for x in statement["lines"]
    ]
    assert (
        view["total"] == sum(x["amount"] for x in view["lines"]) == statement["totals"]["settled"]
    )
    assert sum(m["amount"] for m in view["months"]) == view["total"]
    assert [m["month"] for m in view["months"]] == ["2025-01", "2025-02"]
    for line in view["lines"]:
        assert line["touches"] and line["explanation"]
        for t in line["touches"]:  # the weight and the total it is divided by
            f = t["factors"]
            assert ("stage_weight" in f and "weight_total" in f) or "value_total" in f
    for item in view["not_counted"]:
        assert item["reason"] and item["deal"] in {x["deal"] for x in view["lines"]}
    # someone else's view: refused, whether they exist or not
    assert _get(demo_server, f"/v1/staff/{other}/view", key).status_code == 403
    assert _get(demo_server, "/v1/staff/sf-nobody/view", key).status_code == 403
    # a staff key reads nothing of the leaders' page
    assert _get(demo_server, "/v1/graph/collaboration", key).status_code == 403


def test_leaders_read_any_view_analysts_none(demo_server: Any) -> None:
    me, _ = _two_staff(demo_server)
    leader = _get(demo_server, f"/v1/staff/{me}/view", demo_server.leader_key)
    assert leader.status_code == 200 and leader.json()["lines"]
    assert _get(demo_server, "/v1/me", demo_server.leader_key).json() == {
        "role": "leader",
        "staff": None,
    }
    analyst = create_key(demo_server.store, "analyst")
    assert _get(demo_server, f"/v1/staff/{me}/view", analyst).status_code == 403
    assert _get(demo_server, "/v1/staff/sf-nobody/view", demo_server.leader_key).status_code == 404
    assert httpx.get(f"{demo_server.url}/v1/staff/{me}/view").status_code == 401
    bad = _get(
        demo_server,
        f"/v1/staff/{me}/view",
        demo_server.leader_key,
        **{"from": "2025-03-01"},
        to="2025-01-01",
    )
    assert bad.status_code == 422


def test_contributions_that_did_not_count_are_explained(demo_server: Any) -> None:
    """Somebody on the demo network has a duplicate visit, a touch counted for an earlier deal
    or outside the lookback on a deal they were paid on: their view says which and why."""
    collab = _get(demo_server, "/v1/graph/directory", demo_server.leader_key).json()
    found = 0
    for person in collab["staff"][:60]:
        view = _get(demo_server, f"/v1/staff/{person['id']}/view", demo_server.leader_key).json()
        assert view["not_recomputed"] == []
        for item in view["not_counted"]:
            assert item["code"] and item["reason"]
            found += 1
        if found:
            break
    assert found
