"""Disputes over HTTP, on SQLite and on Neo4j: a staff key disputes its own statement line, a
leader or admin resolves it once -- accepting with an amount moves exactly that many fen -- and
every role is refused what it may not do. The fixtures are the audit suite's (tests/audit)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.audit.conftest import Api, _touch

from contribnet.domain.disputes import DisputeRefused
from contribnet.services.disputes import resolve_dispute


def _settle(api: Api) -> None:
    response = api.post("/v1/deals/d-1/settlements", "leader")
    assert response.status_code == 201, response.text


def _statement(api: Api, staff: str) -> dict[str, Any]:
    response = api.client.get(f"/v1/staff/{staff}/statement")
    assert response.status_code == 200, response.text
    return dict(response.json())


def _open(api: Api, caller: str = "staff-x", **body: Any) -> dict[str, Any]:
    response = api.post("/v1/disputes", caller, **{"deal": "d-1", "message": "2 drives", **body})
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_a_staff_key_disputes_its_own_line_and_sees_it(api: Api) -> None:
    _settle(api)
    held = next(line["amount"] for line in _statement(api, "sf-x")["lines"])
    dispute = _open(api)
    assert (dispute["staff"], dispute["deal"], dispute["status"]) == ("sf-x", "d-1", "open")
    assert dispute["amount"] == held and dispute["resolution"] is None
    assert dispute["opened_by"] == f"staff:sf-x ({api.key_ids['staff-x']})"
    own = api.client.get("/v1/disputes", headers=api.headers["staff-x"]).json()
    assert own == {"disputes": [dispute], "total": 1}
    assert _statement(api, "sf-x")["disputes"] == [dispute]
    assert _statement(api, "sf-y")["disputes"] == []
    # one open dispute per line at a time
    again = api.post("/v1/disputes", "staff-x", deal="d-1", message="again")
    assert again.status_code == 409 and "open dispute" in again.json()["detail"]


def test_a_staff_key_cannot_dispute_another_line_nor_a_deal_it_has_no_line_on(api: Api) -> None:
    _settle(api)
    other = api.post("/v1/disputes", "staff-x", deal="d-1", message="mine", staff="sf-y")
    assert other.status_code == 403
    no_line = api.post("/v1/disputes", "staff-z", deal="d-1", message="I helped")
    assert no_line.status_code == 409 and "no settled line" in no_line.json()["detail"]
    unknown = api.post("/v1/disputes", "staff-x", deal="d-404", message="?")
    assert unknown.status_code == 404
    empty = api.post("/v1/disputes", "staff-x", deal="d-1", message="")
    assert empty.status_code == 422 and "message" in empty.text
    assert api.client.get("/v1/disputes").json()["total"] == 0  # nothing was opened


def test_an_unsettled_deal_has_no_line_to_dispute(api: Api) -> None:
    response = api.post("/v1/disputes", "staff-x", deal="d-1", message="not paid yet")
    assert response.status_code == 409 and "no settled line" in response.json()["detail"]


@pytest.mark.parametrize("caller", ["analyst", "ingest"])
def test_other_roles_may_neither_open_list_nor_resolve(api: Api, caller: str) -> None:
    _settle(api)
    dispute = _open(api)
    opened = api.post("/v1/disputes", caller, deal="d-1", message="x", staff="sf-x")
    assert opened.status_code == 403
    assert api.client.get("/v1/disputes", headers=api.headers[caller]).status_code == 403
    resolution = api.post(
        f"/v1/disputes/{dispute['id']}/resolution", caller, decision="reject", reason="no"
    )
    assert resolution.status_code == 403


def test_staff_keys_never_resolve_and_see_only_their_own_disputes(api: Api) -> None:
    _settle(api)
    dispute = _open(api)
    for caller in ("staff-x", "staff-y"):
        response = api.post(
            f"/v1/disputes/{dispute['id']}/resolution", caller, decision="reject", reason="no"
        )
        assert response.status_code == 403, caller
    others = api.client.get(
        "/v1/disputes", params={"staff": "sf-x"}, headers=api.headers["staff-y"]
    )
    assert others.status_code == 403
    mine = api.client.get("/v1/disputes", headers=api.headers["staff-y"])
    assert mine.json() == {"disputes": [], "total": 0}
    assert api.client.get(f"/v1/disputes/{dispute['id']}").status_code in (404, 405)
    assert api.client.get("/v1/disputes").json()["disputes"][0]["status"] == "open"


def test_the_disputing_staff_member_never_resolves_their_own_dispute(api: Api) -> None:
    _settle(api)
    dispute = _open(api)
    # a leader key naming the disputing staff member (keys of other roles name none today)
    with pytest.raises(DisputeRefused):
        resolve_dispute(api.store, dispute["id"], "reject", "mine", "leader:sf-x (key-0123abcd)")
    with pytest.raises(DisputeRefused):
        resolve_dispute(api.store, dispute["id"], "reject", "mine", "staff:sf-x (key-0123abcd)")
    assert api.client.get("/v1/disputes", params={"status": "open"}).json()["total"] == 1


def test_accepting_with_an_amount_moves_exactly_that_many_fen(api: Api) -> None:
    _settle(api)
    before = {s: _statement(api, s)["totals"]["total"] for s in ("sf-x", "sf-y")}
    dispute = _open(api)
    response = api.post(
        f"/v1/disputes/{dispute['id']}/resolution",
        "leader",
        decision="accept",
        reason="the gate log shows both drives",
        amount=12345,
    )
    assert response.status_code == 200, response.text
    resolved = response.json()
    resolution = resolved["resolution"]
    assert resolved["status"] == "resolved" and resolution["decision"] == "accept"
    assert (resolution["amount"], resolution["from_staff"]) == (12345, "sf-y")  # the closer
    assert resolution["adjustment"] == f"adj-{dispute['id']}"
    x, y = _statement(api, "sf-x"), _statement(api, "sf-y")
    assert x["totals"]["total"] == before["sf-x"] + 12345
    assert y["totals"]["total"] == before["sf-y"] - 12345
    assert sum(before.values()) == x["totals"]["total"] + y["totals"]["total"]
    (adjustment,) = x["adjustments"]
    assert adjustment["id"] == resolution["adjustment"] and adjustment["amount"] == 12345
    assert dispute["id"] in adjustment["reason"]
    assert x["disputes"] == [resolved]
    # resolved once: again (the same, or another decision) is a 409, and no money moves
    for body in (
        {"decision": "accept", "reason": "x", "amount": 12345},
        {"decision": "reject", "reason": "n"},
    ):
        again = api.post(f"/v1/disputes/{dispute['id']}/resolution", "admin", **body)
        assert again.status_code == 409, again.text
    assert _statement(api, "sf-x")["totals"]["total"] == before["sf-x"] + 12345
    listed = api.client.get("/v1/disputes", params={"status": "resolved", "staff": "sf-x"}).json()
    assert listed["disputes"] == [resolved]
    assert api.client.get("/v1/disputes", params={"status": "open"}).json()["total"] == 0


def test_a_rejection_and_an_amount_from_another_staff_member(api: Api) -> None:
    extra = _touch("t-4", "2025-01-07T02:00:00Z", "sf-z", "consultation")
    assert api.post("/v1/events", "ingest", events=[extra]).status_code == 200
    _settle(api)
    first = _open(api)
    rejected = api.post(
        f"/v1/disputes/{first['id']}/resolution", "leader", decision="reject", reason="no"
    )
    assert rejected.status_code == 200 and rejected.json()["resolution"]["amount"] is None
    assert _statement(api, "sf-x")["adjustments"] == []
    second = _open(api)  # the first is resolved: the line may be disputed again
    z_held = next(line["amount"] for line in _statement(api, "sf-z")["lines"])
    path = f"/v1/disputes/{second['id']}/resolution"
    too_much = api.post(
        path, "leader", decision="accept", reason="r", amount=z_held + 1, from_staff="sf-z"
    )
    assert too_much.status_code == 422 and too_much.json()["errors"][0]["field"] == "amount"
    moved = api.post(
        path, "leader", decision="accept", reason="r", amount=z_held, from_staff="sf-z"
    )
    assert moved.status_code == 200, moved.text
    assert _statement(api, "sf-z")["totals"]["total"] == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"decision": "reject", "reason": "no", "amount": 5}, "amount"),
        ({"decision": "accept", "reason": "ok", "amount": 0}, "body.amount"),
        ({"decision": "accept", "reason": "ok", "amount": "5"}, "body.amount"),
        ({"decision": "accept", "reason": "ok", "from_staff": "sf-z"}, "from_staff"),
        ({"decision": "accept", "reason": "ok", "amount": 5, "from_staff": "sf-x"}, "from_staff"),
        ({"decision": "maybe", "reason": "ok"}, "body.decision"),
        ({"decision": "accept", "reason": ""}, "body.reason"),
    ],
)
def test_a_bad_resolution_is_a_422_naming_its_field_and_changes_nothing(
    api: Api, body: dict[str, Any], field: str
) -> None:
    _settle(api)
    dispute = _open(api)
    response = api.post(f"/v1/disputes/{dispute['id']}/resolution", "leader", **body)
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]
    assert api.client.get("/v1/disputes", params={"status": "open"}).json()["total"] == 1
    assert _statement(api, "sf-x")["adjustments"] == []


def test_an_unknown_dispute_is_a_404(api: Api) -> None:
    response = api.post("/v1/disputes/dp-404/resolution", "leader", decision="reject", reason="n")
    assert response.status_code == 404


def test_a_leader_opens_one_on_a_staff_members_behalf(api: Api) -> None:
    _settle(api)
    nameless = api.post("/v1/disputes", "leader", deal="d-1", message="for Xu")
    assert nameless.status_code == 422 and nameless.json()["errors"][0]["field"] == "staff"
    dispute = _open(api, "leader", staff="sf-x")
    assert dispute["staff"] == "sf-x" and dispute["opened_by"].startswith("leader (")


def test_the_audit_trail_holds_every_step(api: Api) -> None:
    _settle(api)
    dispute = _open(api)
    api.post(
        f"/v1/disputes/{dispute['id']}/resolution",
        "leader",
        decision="accept",
        reason="ok",
        amount=100,
    )
    steps = api.trail(dispute["id"])
    assert [e["action"] for e in steps] == ["dispute_opened", "dispute_resolved"]
    assert steps[0]["actor_key"] == api.key_ids["staff-x"] and steps[0]["reason"] == "2 drives"
    assert steps[1]["actor_key"] == api.key_ids["leader"] and steps[1]["reason"] == "accept: ok"
    adjustment = f"adj-{dispute['id']}"
    assert [e["action"] for e in api.trail(adjustment)] == ["adjusted", "dispute_resolved"]
    assert [e["action"] for e in api.trail("sf-x", "staff-x")][-3:] == [
        "dispute_opened",
        "adjusted",
        "dispute_resolved",
    ]
