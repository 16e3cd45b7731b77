"""What the tests that run ``contribnet serve`` as a real process share: a free port, waiting
for it to answer, and its worker processes."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx


def free_port() -> int:
    """A loopback port no one listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(base: str, tries: int = 300) -> None:
    """Return once ``base``/health answers 200; a bound on start-up, not a timing assertion."""
    for _ in range(tries):
        try:
            if httpx.get(f"{base}/health").status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)


def worker_pids(pid: int) -> list[int]:
    """The worker processes of ``contribnet serve --workers N`` (pid ``pid``), which serve:
    its spawned children other than multiprocessing's resource tracker."""
    workers = []
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:  # ended meanwhile
            continue
        if b"spawn_main" in command and b"resource_tracker" not in command:
            workers.append(int(child))
    return workers
