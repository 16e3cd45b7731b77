"""The command line records who ran it: ``contribnet import`` and ``contribnet keys`` write
``cli:<OS user>`` in the audit trail (``cli`` when the OS has no name for the user), as
``contribnet settle`` and ``policies`` do (SQLite; the trail's store adapters are tested on both
stores in tests/audit)."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import pytest
from tests.audit.conftest import NETWORK

from contribnet.cli import main


def _trail(url: str, target: str, capsys: pytest.CaptureFixture[str]) -> list[dict[str, str]]:
    assert main(["audit", target, "--json", "--store", url]) == 0
    return list(json.loads(capsys.readouterr().out))


def test_import_and_keys_record_the_os_user(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    events = tmp_path / "network.jsonl"
    events.write_text("".join(json.dumps(e) + "\n" for e in NETWORK))
    monkeypatch.setattr(getpass, "getuser", lambda: "ops-li")
    assert main(["import", str(events), "--store", url]) == 0
    assert main(["keys", "create", "--role", "leader", "--store", url]) == 0
    capsys.readouterr()

    (written,) = _trail(url, "c-1", capsys)
    assert (written["action"], written["actor"]) == ("event_written", "cli:ops-li")
    assert written["actor_key"] is None
    assert main(["keys", "list", "--store", url]) == 0
    key = capsys.readouterr().out.splitlines()[1].split("\t")[0]
    (created,) = _trail(url, key, capsys)
    assert (created["action"], created["actor"]) == ("key_created", "cli:ops-li")

    def nameless() -> str:
        raise KeyError("getpwuid(): uid not found: 1234")

    monkeypatch.setattr(getpass, "getuser", nameless)
    assert main(["keys", "revoke", key, "--store", url]) == 0
    capsys.readouterr()
    revoked = _trail(url, key, capsys)[-1]
    assert (revoked["action"], revoked["actor"]) == ("key_revoked", "cli")
