"""The CSV statement lists the staff member's disputes the way a payroll spreadsheet reads them,
on SQLite and on Neo4j: a row per dispute (kind ``dispute``, its id and status in their own
columns, amounts empty), the disputed deal's row naming its latest dispute, and the amounts of
every row but the total adding up to the total."""

from __future__ import annotations

import csv
import io

from tests.audit.conftest import Api


def _csv_statement(api: Api, staff: str) -> list[dict[str, str]]:
    response = api.client.get(f"/v1/staff/{staff}/statement", params={"format": "csv"})
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.text)))


def test_the_csv_statement_lists_disputes_open_and_resolved(api: Api) -> None:
    assert api.post("/v1/deals/d-1/settlements", "leader").status_code == 201
    first = api.post("/v1/disputes", "staff-x", deal="d-1", message="two drives").json()
    resolved = api.post(
        f"/v1/disputes/{first['id']}/resolution",
        "leader",
        decision="accept",
        reason="the log shows both",
        amount=12345,
    )
    assert resolved.status_code == 200, resolved.text
    second = api.post("/v1/disputes", "staff-x", deal="d-1", message="still short").json()

    rows = _csv_statement(api, "sf-x")
    assert [r["kind"] for r in rows] == ["settlement", "adjustment", "dispute", "dispute", "total"]
    line, adjustment, was, is_open, total = rows
    assert (line["deal"], line["dispute"], line["dispute_status"]) == ("d-1", second["id"], "open")
    assert [(r["dispute"], r["dispute_status"]) for r in (was, is_open)] == [
        (first["id"], "resolved"),
        (second["id"], "open"),
    ]
    for row in (was, is_open):
        assert (row["deal"], row["amount_fen"], row["amount"]) == ("d-1", "", "")
        assert row["closed_at"] == line["closed_at"] and row["settlement"] == line["settlement"]
    assert "two drives" in was["explanation"]
    assert "accepted, ¥123.45 from sf-y as adj-" in was["explanation"]
    assert "the log shows both" in was["explanation"]
    assert "still short" in is_open["explanation"] and "accepted" not in is_open["explanation"]
    assert int(adjustment["amount_fen"]) == 12345
    # a spreadsheet's SUM over the amount column gives the total; dispute rows add nothing
    paid = sum(int(r["amount_fen"]) for r in rows[:-1] if r["amount_fen"])
    assert paid == int(total["amount_fen"]) == int(line["amount_fen"]) + 12345

    # the other party's statement: the adjustment, no dispute of theirs
    yang = _csv_statement(api, "sf-y")
    assert [r["kind"] for r in yang] == ["settlement", "adjustment", "total"]
    assert {r["dispute"] for r in yang} == {""}
