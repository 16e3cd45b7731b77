"""One benchmark stage: a command run in a child process, with its wall time, CPU time and peak RSS.

The CPU comes from ``os.wait4`` on that child alone, so a stage's CPU is its own
(``RUSAGE_CHILDREN`` would accumulate every child of the benchmark so far); it includes the
child's own children once it has waited for them (``contribnet settle --workers N``, the import's
workers). The peak RSS is of all the stage's processes together: their RSS summed, sampled every
0.2 s while it runs (pages a forked worker shares with its parent count twice: an upper bound),
or the largest single process's peak from ``wait4`` when that is larger.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Stage:
    seconds: float
    cpu_seconds: float
    peak_rss_mib: float
    stdout: str


def run_stage(
    command: list[str], ok: tuple[int, ...] = (0,), env: dict[str, str] | None = None
) -> Stage:
    """Run ``command`` to its end in a child process; raise if its exit code is not in ``ok``."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=out, stderr=err, env=env)
        with _TreeRss(child.pid) as tree:
            _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if child.returncode not in ok:
            raise RuntimeError(
                f"{' '.join(command[:4])} exited {child.returncode}: "
                f"{err.read()[-2000:].decode(errors='replace')}"
            )
        return Stage(
            seconds=seconds,
            cpu_seconds=usage.ru_utime + usage.ru_stime,
            peak_rss_mib=max(usage.ru_maxrss / 1024, tree.peak_mib),
            stdout=out.read().decode(),
        )


class _TreeRss:
    """The peak of a process's RSS plus all its descendants', sampled on a thread."""

    def __init__(self, pid: int, every: float = 0.2) -> None:
        self.pid, self.every, self.peak_mib = pid, every, 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> _TreeRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._done.wait(self.every):
            self.peak_mib = max(self.peak_mib, sum(map(rss_kib, _tree(self.pid))) / 1024)


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants now."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        queue.extend(children(current))
    return found


def children(pid: int) -> list[int]:
    """A process's children now (each of its threads', from /proc); none if it is gone."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:  # the process ended meanwhile
            continue
    return found


def rss_kib(pid: int) -> int:
    """A process's resident memory now (KiB; 0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def contribnet(*args: str) -> list[str]:
    """The command line of ``contribnet ARGS`` in this interpreter."""
    return [sys.executable, "-m", "contribnet.cli", *args]


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a running process has used so far (``/proc/PID/stat``): the
    Neo4j server's share of a stage, which its client's rusage does not include."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
