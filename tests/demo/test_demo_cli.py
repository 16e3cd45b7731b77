"""``contribnet generate`` and ``contribnet demo`` as a user runs them."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from contribnet.cli import main
from contribnet.demo.activities import ActivityStream
from contribnet.demo.generator import generate_with_summary
from contribnet.demo.leads import LeadStream


def _events(size: str, seed: int) -> list[dict]:
    """The network's events with its lead assignments and activities (``demo/leads.py``,
    ``demo/activities.py``)."""
    events, _ = generate_with_summary(size, seed)
    return list(ActivityStream(seed).wrap(LeadStream(seed).wrap(events)))


def _expected_bytes(size: str, seed: int) -> bytes:
    return "".join(
        json.dumps(e, sort_keys=True, ensure_ascii=False) + "\n" for e in _events(size, seed)
    ).encode()


def test_generate_writes_the_stream_as_json_lines(tmp_path: Path) -> None:
    out = tmp_path / "tiny.jsonl"
    assert main(["generate", "--size", "tiny", "--seed", "3", "--out", str(out)]) == 0
    written = out.read_bytes()
    assert hashlib.sha256(written).digest() == hashlib.sha256(_expected_bytes("tiny", 3)).digest()
    first = json.loads(written.splitlines()[0])
    assert first == {"type": "brand", "id": "nio", "name": "NIO"}


def test_generate_to_stdout(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert main(["generate", "--size", "tiny", "--seed", "3", "--out", "-"]) == 0
    assert capsysbinary.readouterr().out == _expected_bytes("tiny", 3)


def test_demo_fills_the_store_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    total = len(_events("tiny", 5))
    assert main(["demo", "--size", "tiny", "--seed", "5", "--store", url]) == 0
    out = capsys.readouterr().out
    assert f"accepted {total:,}, duplicates 0" in " ".join(out.split())
    assert "handover" in out and "order grabs" in out and "activities (voided)" in out
    assert main(["demo", "--size", "tiny", "--seed", "5", "--store", url]) == 0
    assert f"accepted 0, duplicates {total:,}" in " ".join(capsys.readouterr().out.split())
    handed = next(e for e in generate_with_summary("tiny", 5)[0] if e["type"] == "handover")
    assert main(["journey", handed["customers"][0], "--json", "--store", url]) == 0
    journey = json.loads(capsys.readouterr().out)
    assert journey["handovers"][0]["id"] == handed["id"]


def test_demo_settles_its_deals_unless_told_not_to(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from contribnet.store import open_store

    settled = f"sqlite:///{tmp_path / 'settled.db'}"
    assert main(["demo", "--size", "tiny", "--seed", "5", "--store", settled]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "settled" in out and "under the default policy" in out
    store = open_store(settled)
    try:
        deals = store.ledger.count_closed_deals(None, None)
        assert deals > 0 and len(list(store.ledger.current_settlements())) == deals
    finally:
        store.close()
    # again: nothing new to settle
    assert main(["demo", "--size", "tiny", "--seed", "5", "--store", settled]) == 0
    assert "settled 0 deals" in " ".join(capsys.readouterr().out.split())

    loaded = f"sqlite:///{tmp_path / 'loaded.db'}"
    assert main(["demo", "--size", "tiny", "--seed", "5", "--no-settle", "--store", loaded]) == 0
    assert "not settled (--no-settle)" in " ".join(capsys.readouterr().out.split())
    store = open_store(loaded)
    try:
        assert list(store.ledger.current_settlements()) == []
    finally:
        store.close()


def test_demo_redeems_points_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The demo's activities earn points; a few advisors and an owner redeem some, one
    redemption is reversed; running the demo again redeems nothing more."""
    from contribnet.services.points import points_statement
    from contribnet.store import open_store
    from contribnet.store.points import points_store

    url = f"sqlite:///{tmp_path / 'points.db'}"
    assert main(["demo", "--size", "tiny", "--seed", "5", "--store", url]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "redeemed points:" in out and "(rd-demo-1 reversed)" in out
    assert main(["demo", "--size", "tiny", "--seed", "5", "--store", url]) == 0
    assert out.split("redeemed points:")[1] in " ".join(capsys.readouterr().out.split())
    store = open_store(url)
    try:
        ledger = points_store(store)
        first = ledger.redemption("rd-demo-1")
        assert ledger.reversal("rd-demo-1") is not None
        owner = ledger.redemption("rd-demo-owner")
        assert owner.kind == "owner"
        statement = points_statement(store, "staff", first.holder, None, None)
        kinds = {e.kind for e in statement.entries}
        assert kinds == {"activity", "redemption", "reversal"}
        assert statement.available == statement.earned > 0
        for n in (2, 3):
            redemption = ledger.redemption(f"rd-demo-{n}")
            held = points_statement(store, "staff", redemption.holder, None, None)
            assert held.available == held.earned - redemption.points >= 0
    finally:
        store.close()
