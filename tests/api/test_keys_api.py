"""API keys for admins over HTTP and on the command line: created (a staff key for an existing
staff member, an expiry in the future), listed by public id without secrets, revoked; revoked and
expired keys refused at once with a 401 saying why; the bootstrap admin key's minimum length."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from contribnet.api.app import create_app
from contribnet.cli import main
from contribnet.services.ingest import ingest_events
from contribnet.services.keys import create_key, hash_key, key_id, list_keys, resolve_key
from contribnet.settings import MIN_ADMIN_KEY_LENGTH, Settings, SettingsError
from contribnet.store import Store, open_store

ADMIN = "keys-test-admin-key-0123456789"
STAFF = [{"type": "staff", "id": "sf-1", "name": "Wang", "store": "st-1", "role": "advisor"}]


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[TestClient, Store, str]]:
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    store = open_store(url)
    ingest_events(store, STAFF)
    with TestClient(create_app(store=store, settings=Settings(admin_key=ADMIN))) as client:
        client.headers["Authorization"] = f"Bearer {ADMIN}"
        yield client, store, url
    store.close()


def _as(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_create_list_and_revoke_over_http(setup) -> None:
    client, store, _ = setup
    created = client.post("/v1/keys", json={"role": "staff", "staff": "sf-1"})
    assert created.status_code == 201, created.text
    body = created.json()
    secret, public = body["secret"], body["id"]
    assert public == key_id(hash_key(secret)) and body["status"] == "active"
    assert client.get("/v1/stores", headers=_as(secret)).status_code == 403  # a staff key works
    assert client.get("/v1/staff/sf-1/statement", headers=_as(secret)).status_code == 200
    listed = client.get("/v1/keys").json()
    assert [k["id"] for k in listed] == [public]
    assert secret not in client.get("/v1/keys").text
    revoked = client.delete(f"/v1/keys/{public}")
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    refused = client.get("/v1/staff/sf-1/statement", headers=_as(secret))
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
    assert public in refused.json()["detail"] and secret not in refused.text
    assert client.get("/v1/keys").json()[0]["status"] == "revoked"
    assert client.delete("/v1/keys/key-000000000000").status_code == 404
    assert client.delete("/v1/keys/key-").status_code == 404


def test_only_admins_manage_keys(setup) -> None:
    client, store, _ = setup
    leader = create_key(store, "leader")
    for method, path in (("GET", "/v1/keys"), ("POST", "/v1/keys"), ("DELETE", "/v1/keys/x")):
        response = client.request(method, path, headers=_as(leader), json={"role": "leader"})
        assert response.status_code == 403, (method, path)
    assert client.get("/v1/keys", headers=_as("wrong")).status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"role": "staff", "staff": "sf-nobody"}, "staff"),
        ({"role": "staff"}, "staff"),
        ({"role": "leader", "staff": "sf-1"}, "staff"),
        ({"role": "root"}, "role"),
        ({"role": "leader", "expires": "2001-01-01"}, "expires"),
        ({"role": "leader", "expires": "soon"}, "expires"),
        ({"role": "leader", "colour": "red"}, "colour"),
    ],
)
def test_bad_key_requests_name_the_field(setup, body: dict[str, str], field: str) -> None:
    client, store, _ = setup
    response = client.post("/v1/keys", json=body)
    assert response.status_code == 422, response.text
    assert any(field in e["field"] for e in response.json()["errors"])
    assert store.api_keys() == []


def test_expired_keys_are_refused_at_once(setup) -> None:
    client, store, _ = setup
    now = datetime.now(UTC)
    secret = create_key(store, "leader", expires=now + timedelta(hours=1))
    assert client.get("/v1/stores", headers=_as(secret)).status_code == 200
    later = now + timedelta(hours=2)
    with pytest.raises(Exception, match="expired"):
        resolve_key(store, secret, None, now=later)
    assert [k.status for k in list_keys(store, now=later)] == ["expired"]
    # a day means through that day, China Standard Time
    old = create_key(
        store, "analyst", expires=date(2030, 1, 1), now=datetime(2029, 1, 1, tzinfo=UTC)
    )
    store_row = next(k for k in list_keys(store) if k.id == key_id(hash_key(old)))
    assert store_row.expires_at == datetime(2030, 1, 1, 16, tzinfo=UTC)  # 2030-01-02 00:00 CST
    with pytest.raises(Exception, match="expired"):
        resolve_key(store, old, None, now=datetime(2030, 1, 1, 16, tzinfo=UTC))
    assert resolve_key(store, old, None, now=datetime(2030, 1, 1, 15, tzinfo=UTC)) is not None
    # through HTTP: a key past its expiry is a 401 saying so
    past = create_key(
        store,
        "leader",
        expires=datetime(2024, 6, 1, tzinfo=UTC),
        now=datetime(2024, 1, 1, tzinfo=UTC),
    )
    refused = client.get("/v1/stores", headers=_as(past))
    assert refused.status_code == 401 and "expired" in refused.json()["detail"]


def test_keys_on_the_command_line(setup, capsys) -> None:
    _, store, url = setup
    assert (
        main(
            [
                "keys",
                "create",
                "--role",
                "staff",
                "--staff",
                "sf-1",
                "--store",
                url,
                "--expires",
                "2099-12-31",
            ]
        )
        == 0
    )
    captured = capsys.readouterr()
    secret = captured.out.strip()
    public = key_id(hash_key(secret))
    assert f"id: {public}" in captured.err
    assert main(["keys", "list", "--store", url]) == 0
    listing = capsys.readouterr().out
    assert public in listing and "active" in listing and "2099-12-31T16:00:00+00:00" in listing
    assert secret not in listing
    assert main(["keys", "revoke", public, "--store", url]) == 0
    assert f"{public} revoked" in capsys.readouterr().out
    with pytest.raises(Exception, match="revoked"):
        resolve_key(store, secret, None)
    assert main(["keys", "list", "--store", url]) == 0
    assert "revoked" in capsys.readouterr().out
    # errors: a message and exit 2
    assert main(["keys", "create", "--role", "staff", "--staff", "nobody", "--store", url]) == 2
    assert "staff" in capsys.readouterr().err
    assert main(["keys", "revoke", "key-ffffffffffff", "--store", url]) == 2
    assert "key-ffffffffffff" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main(["keys", "create", "--role", "leader", "--expires", "someday", "--store", url])
    assert exited.value.code == 2
    assert "someday" in capsys.readouterr().err


def test_the_bootstrap_admin_key_has_a_minimum_length(monkeypatch, tmp_path: Path, capsys) -> None:
    monkeypatch.setenv("CONTRIBNET_ADMIN_KEY", "short")
    with pytest.raises(SettingsError, match="CONTRIBNET_ADMIN_KEY") as refused:
        Settings.from_env()
    assert "short" not in str(refused.value)
    with pytest.raises(SettingsError):
        create_app()  # the server refuses to start
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert main(["keys", "list", "--store", url]) == 2
    err = capsys.readouterr().err
    assert "CONTRIBNET_ADMIN_KEY" in err and str(MIN_ADMIN_KEY_LENGTH) in err
    monkeypatch.setenv("CONTRIBNET_ADMIN_KEY", "k" * MIN_ADMIN_KEY_LENGTH)
    assert Settings.from_env().admin_secret() == "k" * MIN_ADMIN_KEY_LENGTH
