"""``contribnet profile`` and ``contribnet leaderboard`` as a user runs them, on both stores:
readable tables, money in yuan, errors in one line."""

from __future__ import annotations

import pytest
from tests.profiles.conftest import Profiles

from contribnet.cli import main


def test_profile_prints_stages_and_the_region_beside_them(
    profiles: Profiles, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    args = ["profile", "sf-x", "--from", "2025-01-01", "--to", "2025-01-31"]
    assert main([*args, "--store", profiles.url]) == 0
    out = capsys.readouterr().out
    assert "Xu (sf-x; st-a, nio, East)" in out
    rows = {c[0]: c[1:] for c in map(_cells, out.splitlines()) if c}
    # Xu's test drives: 2 touches of 2 customers, 2 deals, both customers converted, 350,000 fen
    # all on others' deals; the East's mean 350,000 / 3 and top decile 350,000
    assert rows["test_drive"] == [
        *("2", "2", "2", "2", "1.00"),
        *("¥3,500.00", "¥3,500.00", "¥0.00", "¥1,166.67", "¥3,500.00"),
    ]
    assert rows["total"][:6] == ["4", "3", "2", "2", "0.67", "¥3,900.00"]
    assert "Beside the 3 advisors of East" in out
    assert rows["credit"] == ["¥3,900.00", "¥2,000.00", "¥3,900.00"]
    assert rows["points"] == ["15", "5", "15"]


def _cells(line: str) -> list[str]:
    """The cells of a table row (none for any other line)."""
    return [c.strip() for c in line.split("│")[1:-1]] if line.startswith("│") else []


def test_leaderboard_ranks_in_yuan(
    profiles: Profiles, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    assert (
        main(["leaderboard", "--metric", "credit", "--region", "East", "--store", profiles.url])
        == 0
    )
    rows = [c for c in map(_cells, capsys.readouterr().out.splitlines()) if c]
    assert [(r[0], r[1], r[-1]) for r in rows] == [
        ("1", "sf-x", "¥3,900.00"),
        ("2", "sf-y", "¥1,500.00"),
        ("3", "sf-z", "¥600.00"),
    ]


def test_cli_errors_are_one_line(profiles: Profiles, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profile", "sf-nobody", "--store", profiles.url]) == 2
    assert capsys.readouterr().err.strip() == "contribnet: error: staff 'sf-nobody' not found"
    with pytest.raises(SystemExit) as exited:
        main(["leaderboard", "--metric", "charm", "--store", profiles.url])
    assert exited.value.code == 2
    assert "argument --metric: invalid choice: 'charm'" in capsys.readouterr().err
