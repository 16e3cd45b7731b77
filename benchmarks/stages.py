"""One benchmark stage: a command run in a child process, with its wall time, CPU time and peak RSS.

The figures come from ``os.wait4`` on that child alone, so a stage's CPU and peak memory are its
own (``RUSAGE_CHILDREN`` would accumulate every child of the benchmark so far). They include the
child's own children once it has waited for them (``contribnet settle --workers N``): the CPU is
the sum, the peak RSS the largest single process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
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
            peak_rss_mib=usage.ru_maxrss / 1024,
            stdout=out.read().decode(),
        )


def contribnet(*args: str) -> list[str]:
    """The command line of ``contribnet ARGS`` in this interpreter."""
    return [sys.executable, "-m", "contribnet.cli", *args]


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a running process has used so far (``/proc/PID/stat``): the
    Neo4j server's share of a stage, which its client's rusage does not include."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
