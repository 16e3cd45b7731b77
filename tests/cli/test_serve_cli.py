"""``contribnet serve``: one process, or several sharing the port, over the same store."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from tests.serving import free_port, wait_until_up, worker_pids


def test_serve_with_two_workers_answers_from_both_over_one_store(tmp_path: Path) -> None:
    """Worker processes get the store and the admin key from the command line's settings."""
    port, key = free_port(), "test-admin-key-0123456789abcdef"  # 24+ characters
    store = f"sqlite:///{tmp_path / 'served.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTRIBNET_")}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "contribnet.cli",
            "serve",
            "--port",
            str(port),
            "--store",
            store,
            "--workers",
            "2",
        ],
        env={**env, "CONTRIBNET_ADMIN_KEY": key},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base)
        headers = {"Authorization": f"Bearer {key}"}
        brand = {"type": "brand", "id": "b-1", "name": "One"}
        posted = httpx.post(f"{base}/v1/events", json={"events": [brand]}, headers=headers)
        assert posted.json() == {"accepted": 1, "duplicates": 0}
        # Every later request, whichever worker takes it, sees the same store.
        again = [
            httpx.post(f"{base}/v1/events", json={"events": [brand]}, headers=headers).json()
            for _ in range(10)
        ]
        assert again == [{"accepted": 0, "duplicates": 1}] * 10
        assert (
            httpx.get(f"{base}/v1/deals", headers={"Authorization": "Bearer wrong"}).status_code
            == 401
        )
        assert len(worker_pids(server.pid)) == 2
    finally:
        server.terminate()
        server.wait(30)


def test_serve_refuses_zero_workers(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "contribnet.cli",
            "serve",
            "--store",
            f"sqlite:///{tmp_path / 'x.db'}",
            "--workers",
            "0",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "--workers" in done.stderr


def test_serve_refuses_a_busy_port_before_announcing_it(tmp_path: Path, capsys) -> None:
    from contribnet.cli import main

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code = main(["serve", "--port", str(port), "--store", f"sqlite:///{tmp_path / 's.db'}"])
    out, err = capsys.readouterr()
    assert code == 2
    assert "contribnet API on" not in out
    assert f"--port {port}" in err and "another server" in err


def test_a_server_process_writes_its_threads_stacks_on_sigusr1(tmp_path: Path) -> None:
    """Where a hung request waits, shown without stopping the server."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTRIBNET_")}
    log = tmp_path / "serve.log"
    command = [sys.executable, "-m", "contribnet.cli", "serve", "--port", str(port)]
    command += ["--store", f"sqlite:///{tmp_path / 'served.db'}"]
    with log.open("wb") as err:
        server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=err)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base)
        assert "most recent call first" not in log.read_text()
        server.send_signal(signal.SIGUSR1)
        for _ in range(200):  # the handler writes the dump thread by thread, soon after
            if "most recent call first" in (text := log.read_text()) and "uvicorn" in text:
                break
            time.sleep(0.05)
        dump = log.read_text()
        assert "most recent call first" in dump
        assert "uvicorn" in dump  # the server's own frames
        assert server.poll() is None  # still running
        assert httpx.get(f"{base}/health").status_code == 200  # and answering
    finally:
        server.terminate()
        server.wait(30)
