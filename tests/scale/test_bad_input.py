"""Bad input to the Spark commands -- a missing or malformed Parquet folder, a policy that does
not parse, a master that does not answer -- is one line on stderr, exit 2, and nothing under
``--out``. (Checked before Spark starts, so these need no session.)"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tests.serving import free_port

from contribnet.cli import main


def _recompute(export: Path, out: Path, *extra: str) -> list[str]:
    return ["recompute", "--engine", "spark", "--input", str(export), "--out", str(out), *extra]


def _fails(argv: list[str], out: Path, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not out.exists()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.tmp")]


def test_missing_and_malformed_folders(
    exported: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    _fails(_recompute(tmp_path / "nope", out), out, "no folder", capsys)
    broken = tmp_path / "broken"
    shutil.copytree(exported, broken)
    shutil.rmtree(broken / "paths")
    _fails(_recompute(broken, out), out, "paths", capsys)
    shutil.rmtree(broken)
    shutil.copytree(exported, broken)
    next((broken / "journeys").rglob("*.parquet")).write_text("not parquet")
    _fails(_recompute(broken, out), out, "not a readable Parquet table", capsys)
    (broken / "_contribnet.json").write_text("{not json")
    _fails(_recompute(broken, out), out, "cannot be read", capsys)


def test_a_policy_that_does_not_parse_or_is_unknown(
    exported: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    bad = tmp_path / "bad.toml"
    bad.write_text("model = [unclosed\n")
    _fails(_recompute(exported, out, "--policy", str(bad)), out, "not TOML", capsys)
    bad.write_text('model = "stage_weighted"\nhalf_life_days = "ten"\n')
    _fails(_recompute(exported, out, "--policy", str(bad)), out, "half_life_days", capsys)
    _fails(_recompute(exported, out, "--policy", "other@9"), out, "no policy 'other@9'", capsys)
    _fails(_recompute(exported, out, "--model", "astrology"), out, "astrology", capsys)
    argv = ["simulate", "--input", str(exported), "--out", str(out), "--policy", "default@1"]
    _fails(argv, out, "give two", capsys)


def test_a_master_that_does_not_answer(
    exported: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    port = free_port()
    dead = f"spark://127.0.0.1:{port}"
    _fails(_recompute(exported, out, "--master", dead), out, "does not answer", capsys)
    connect = f"sc://127.0.0.1:{port}"
    _fails(_recompute(exported, out, "--master", connect), out, "does not answer", capsys)
    _fails(_recompute(exported, out, "--master", "yarn"), out, "unknown Spark master", capsys)
