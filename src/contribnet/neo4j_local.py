"""A real Neo4j Community 5.26 server on this machine, built from Maven Central alone.

Neo4j's server tarball is not published on Maven Central, so contribnet runs the embedded DBMS with
its Bolt connector (tools/neo4j-launcher) as a separate JVM. Maven compiles the launcher once and
the classpath is cached under ``cache_dir()/neo4j``; after that, starting needs no network.

Each server is owned by a data directory. ``start`` writes ``contribnet-neo4j.json`` there (pid,
port, uri, password) so ``status`` and ``stop`` work from another process, e.g. a second CLI call.
The JVM's stdout/stderr go to ``neo4j.log`` in the same directory; Neo4j's own logs to ``logs/``.

Command line (until the contribnet CLI wires it)::

    python -m contribnet.neo4j_local start DATA_DIR [--port N] [--password PW]
    python -m contribnet.neo4j_local status DATA_DIR
    python -m contribnet.neo4j_local stop DATA_DIR
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from contribnet.domain.errors import ContribnetError
from contribnet.paths import NEO4J_LAUNCHER_DIR, cache_dir
from contribnet.settings import Settings

if TYPE_CHECKING:
    import neo4j

__all__ = [
    "LocalNeo4j",
    "Neo4jLocalError",
    "build_classpath",
    "main",
    "start",
    "status",
    "stop",
]

MAIN_CLASS = "contribnet.Neo4jLauncher"
READY_MARKER = "CONTRIBNET-NEO4J READY"
STATE_FILE = "contribnet-neo4j.json"
LOG_FILE = "neo4j.log"
DEFAULT_USER = "neo4j"
DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.6.1"

# What Neo4j's own launcher passes to the JVM; embedding means passing them ourselves.
JVM_FLAGS: tuple[str, ...] = (
    # Throughput over pause times: a local server on a couple of cores, mostly bulk writes (the
    # ingest benchmark measured about 5% more touches/s than with G1).
    "-XX:+UseParallelGC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+ExitOnOutOfMemoryError",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--enable-native-access=ALL-UNNAMED",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dlog4j2.disable.jmx=true",
    "-Dfile.encoding=UTF-8",
)

# Popen objects of servers this process started: lets the alive check reap our own zombies.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


class Neo4jLocalError(ContribnetError):
    """The local Neo4j could not be built, started or stopped; the message says why."""


@dataclass(frozen=True)
class LocalNeo4j:
    """How to reach one running local server (also the content of its state file)."""

    uri: str
    user: str
    password: str
    pid: int
    data_dir: Path
    port: int

    @property
    def auth(self) -> tuple[str, str]:
        return (self.user, self.password)

    @property
    def log_path(self) -> Path:
        return self.data_dir / LOG_FILE

    def driver(self, **config: Any) -> neo4j.Driver:
        """A driver for this server; the caller closes it."""
        import neo4j

        return neo4j.GraphDatabase.driver(self.uri, auth=self.auth, **config)


# --------------------------------------------------------------------------------------- build


def _launcher_inputs() -> list[Path]:
    """Everything Maven reads from the source tree; a change to any of it means a rebuild."""
    files = [NEO4J_LAUNCHER_DIR / "pom.xml"]
    files += sorted(p for p in (NEO4J_LAUNCHER_DIR / "src").rglob("*") if p.is_file())
    return files


def _launcher_key() -> str:
    digest = hashlib.sha256()
    for path in _launcher_inputs():
        digest.update(path.relative_to(NEO4J_LAUNCHER_DIR).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _read_classpath(build_dir: Path) -> str | None:
    """The cached classpath, or None when absent or stale (e.g. ~/.m2 was cleaned)."""
    classes = build_dir / "target" / "classes"
    deps_file = build_dir / "dependencies.classpath"
    if not (classes / "contribnet" / "Neo4jLauncher.class").is_file() or not deps_file.is_file():
        return None
    deps = deps_file.read_text(encoding="utf-8").strip()
    entries = [e for e in deps.split(os.pathsep) if e]
    if not entries or not all(Path(e).exists() for e in entries):
        return None
    return os.pathsep.join([str(classes), *entries])


def build_classpath() -> str:
    """Compile the launcher and resolve Neo4j's jars, once per launcher version.

    The result is cached under ``cache_dir()/neo4j/<hash of pom + sources>`` so later calls (and
    offline machines) skip Maven entirely. Maven's chatter is shown only when it fails.
    """
    root = cache_dir() / "neo4j"
    build_dir = root / _launcher_key()
    cached = _read_classpath(build_dir)
    if cached is not None:
        return cached

    mvn = Settings().mvn or shutil.which("mvn")
    if not mvn:
        raise Neo4jLocalError(
            "Maven (mvn) is not on PATH; it is needed once to fetch Neo4j from Maven Central "
            "(or set CONTRIBNET_MVN)"
        )
    root.mkdir(parents=True, exist_ok=True)
    # Build beside the final place and rename: two processes building at once cannot interleave.
    work = Path(tempfile.mkdtemp(prefix=f"{build_dir.name}.tmp-", dir=root))
    try:
        cmd = [
            mvn,
            "-B",
            "--no-transfer-progress",
            "-Dstyle.color=never",
            "-f",
            str(NEO4J_LAUNCHER_DIR / "pom.xml"),
            f"-Dlauncher.buildDir={work / 'target'}",
            "compile",
            f"{DEPENDENCY_PLUGIN}:build-classpath",
            f"-Dmdep.outputFile={work / 'dependencies.classpath'}",
        ]
        try:
            proc = subprocess.run(
                cmd,
                cwd=NEO4J_LAUNCHER_DIR,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                check=False,
            )
        except OSError as exc:
            raise Neo4jLocalError(f"could not run Maven ({mvn}): {exc}") from exc
        if proc.returncode != 0:
            tail = "\n".join(proc.stdout.decode(errors="replace").splitlines()[-40:])
            raise Neo4jLocalError(
                f"building the Neo4j launcher failed (mvn exit {proc.returncode}); "
                f"command: {' '.join(cmd)}\n--- last lines of Maven's output ---\n{tail}"
            )
        if _read_classpath(work) is None:
            raise Neo4jLocalError(f"Maven succeeded but left no usable classpath in {work}")
        try:
            work.rename(build_dir)
        except OSError:
            if _read_classpath(build_dir) is None:  # not a lost race: a stale dir is in the way
                shutil.rmtree(build_dir, ignore_errors=True)
                work.rename(build_dir)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    result = _read_classpath(build_dir)
    if result is None:
        raise Neo4jLocalError(f"no usable launcher build in {build_dir}")
    return result


# --------------------------------------------------------------------------------- processes


def _java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").is_file():
        return str(Path(java_home) / "bin" / "java")
    java = shutil.which("java")
    if not java:
        raise Neo4jLocalError("java is not on PATH (Neo4j 5.26 needs Java 17 or 21)")
    return java


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _is_our_launcher(pid: int, data_dir: Path) -> bool:
    """Guard against pid reuse: only ever signal a JVM running our launcher on this data dir."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return False
    except OSError:
        return True  # no /proc (not Linux): trust the pid
    args = raw.decode(errors="replace").split("\0")
    return MAIN_CLASS in args and str(data_dir) in args


def _pid_alive(pid: int) -> bool:
    child = _CHILDREN.get(pid)
    if child is not None:
        return child.poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie answers kill(0) but is gone for our purposes
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _state_path(data_dir: Path) -> Path:
    return data_dir / STATE_FILE


def _read_state(data_dir: Path) -> dict[str, Any] | None:
    try:
        state = json.loads(_state_path(data_dir).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return state if isinstance(state, dict) else None


def _write_state(server: LocalNeo4j) -> None:
    state = asdict(server)
    state["data_dir"] = str(server.data_dir)
    path = _state_path(server.data_dir)
    tmp = path.with_suffix(".tmp")
    # It holds the password: readable by the owner only.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(state, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def _log_tail(path: Path, start: int = 0, lines: int = 40) -> str:
    try:
        with path.open("rb") as f:
            f.seek(start)
            text = f.read().decode(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(log empty)"


def _kill_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if os.getpgid(pid) == pid:  # started with start_new_session: it leads its own group
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)


def status(data_dir: Path | str) -> LocalNeo4j | None:
    """The server owned by ``data_dir`` if its JVM is alive, else None (a stale file is ignored).

    Only the process is checked, not Bolt: a server that is still starting counts as running.
    """
    data_dir = Path(data_dir).resolve()
    state = _read_state(data_dir)
    if state is None:
        return None
    try:
        server = LocalNeo4j(
            uri=str(state["uri"]),
            user=str(state.get("user", DEFAULT_USER)),
            password=str(state["password"]),
            pid=int(state["pid"]),
            data_dir=data_dir,
            port=int(state["port"]),
        )
    except (KeyError, TypeError, ValueError):
        return None
    if not _pid_alive(server.pid) or not _is_our_launcher(server.pid, data_dir):
        return None
    return server


def stop(data_dir: Path | str, timeout: float = 60.0) -> bool:
    """Shut the server down cleanly (SIGTERM runs Neo4j's shutdown hook, which checkpoints).

    The whole process group gets the signal; after ``timeout`` seconds it gets SIGKILL. Returns
    False when nothing was running.
    """
    server = status(data_dir)
    if server is None:
        return False
    pid = server.pid
    _kill_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _pid_alive(pid):
        _kill_group(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while _pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
    child = _CHILDREN.pop(pid, None)
    if child is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=1)
    return True


def _wait_ready(
    proc: subprocess.Popen[bytes], server: LocalNeo4j, log_start: int, deadline: float
) -> None:
    """Wait for the launcher's ready line, then for a real authenticated Bolt round trip.

    The ready line comes after the password is set, so no login is attempted earlier: failed
    logins count towards Neo4j's lock-out of the user.
    """
    import neo4j
    import neo4j.exceptions

    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise Neo4jLocalError(
                f"Neo4j exited with code {proc.returncode} while starting; "
                f"{server.log_path}:\n{_log_tail(server.log_path, log_start)}"
            )
        if READY_MARKER in _log_tail(server.log_path, log_start, lines=10_000):
            try:
                with neo4j.GraphDatabase.driver(
                    server.uri, auth=server.auth, connection_timeout=5
                ) as driver:
                    driver.verify_connectivity()
                return
            except neo4j.exceptions.AuthError as exc:
                raise Neo4jLocalError(f"Neo4j refused the password it was given: {exc}") from exc
            except (neo4j.exceptions.DriverError, neo4j.exceptions.Neo4jError, OSError) as exc:
                last_error = exc
        time.sleep(0.25)
    raise Neo4jLocalError(
        f"Neo4j did not become ready in time (last error: {last_error}); "
        f"{server.log_path}:\n{_log_tail(server.log_path, log_start)}"
    )


#: Bolt keep-alive: the server sends a NOOP at least every 5 s while a request runs (checked
#: every second) and tells drivers so (``connection.recv_timeout_seconds`` = 5 s x 2 probes =
#: 10 s; Neo4j's defaults make it 120 s). A driver that waits longer than that for a reply drops
#: the connection. It once bounded a driver bug (a failed transaction's rollback peeked at a
#: connection already handed to another thread, whose reply then never completed: see
#: ``store/neo4j_retry.in_transaction``, which avoids it) to ten seconds; it still bounds any
#: reply a network loses. Production servers should set the same (see docker-compose.yml and
#: the README).
KEEP_ALIVE = {
    "server.bolt.connection_keep_alive": "5s",
    "server.bolt.connection_keep_alive_streaming_scheduling_interval": "1s",
}


def start(
    data_dir: Path | str,
    port: int | None = None,
    password: str | None = None,
    heap: str = "1g",
    pagecache: str = "512m",
    *,
    conf: Mapping[str, str] | None = None,
    timeout: float = 120.0,
    exit_with_caller: bool = False,
) -> LocalNeo4j:
    """Start a server on 127.0.0.1 whose databases live in ``data_dir``; return once it answers.

    Memory is explicit (JVM heap, Neo4j page cache) because unset the page cache takes half the
    RAM of a machine shared with the test suite. Without ``port`` a free one is picked; without
    ``password`` the previous one for this data dir is reused, else a random one is made. ``conf``
    passes extra Neo4j settings by name (over :data:`KEEP_ALIVE`). ``exit_with_caller`` makes
    the server exit when this process dies (test sessions: no orphaned JVM if pytest is killed).
    On any failure the JVM is killed and the log tail raised.
    """
    data_dir = Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    running = status(data_dir)
    if running is not None:
        raise Neo4jLocalError(
            f"a Neo4j for {data_dir} is already running (pid {running.pid}, {running.uri})"
        )
    if password is None:
        previous = _read_state(data_dir) or {}
        password = str(previous.get("password") or secrets.token_urlsafe(18))
    if len(password) < 8:
        raise Neo4jLocalError("Neo4j requires a password of at least 8 characters")

    classpath = build_classpath()
    java = _java()
    conf_args: list[str] = []
    for key, value in {**KEEP_ALIVE, **(conf or {})}.items():
        conf_args += ["--conf", f"{key}={value}"]
    if exit_with_caller:
        conf_args += ["--watch-pid", str(os.getpid())]

    attempts = 1 if port is not None else 3  # a picked port can be taken before the JVM binds it
    for attempt in range(attempts):
        chosen = port if port is not None else _free_port()
        cmd = [
            java,
            f"-Xms{heap}",
            f"-Xmx{heap}",
            *JVM_FLAGS,
            "-cp",
            classpath,
            MAIN_CLASS,
            "--data-dir",
            str(data_dir),
            "--port",
            str(chosen),
            "--pagecache",
            pagecache,
            *conf_args,
        ]
        # The password goes through the environment: command lines are world-readable via ps.
        env = {**os.environ, "CONTRIBNET_NEO4J_PASSWORD": password}
        log_path = data_dir / LOG_FILE
        with log_path.open("ab") as log:
            log_start = log.tell()
            proc = subprocess.Popen(
                cmd,
                cwd=data_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _CHILDREN[proc.pid] = proc
        server = LocalNeo4j(
            uri=f"bolt://127.0.0.1:{chosen}",
            user=DEFAULT_USER,
            password=password,
            pid=proc.pid,
            data_dir=data_dir,
            port=chosen,
        )
        _write_state(server)  # before waiting, so `stop` works even if this caller is killed
        try:
            _wait_ready(proc, server, log_start, time.monotonic() + timeout)
            return server
        except BaseException as exc:
            _kill_group(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)
            _CHILDREN.pop(proc.pid, None)
            port_clash = "Address already in use" in _log_tail(log_path, log_start, 10_000)
            if isinstance(exc, Neo4jLocalError) and port_clash and attempt + 1 < attempts:
                continue
            raise
    raise AssertionError("unreachable")


# ----------------------------------------------------------------------------------------- CLI


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m contribnet.neo4j_local start|status|stop DATA_DIR``; prints JSON on success."""
    parser = argparse.ArgumentParser(
        prog="python -m contribnet.neo4j_local",
        description="Run a local Neo4j Community 5.26 (embedded, Bolt only) for contribnet.",
    )
    sub = parser.add_subparsers(dest="action", required=True)
    p_start = sub.add_parser("start", help="start a server (builds the launcher on first use)")
    p_start.add_argument("data_dir", type=Path)
    p_start.add_argument("--port", type=int, default=None, help="Bolt port (default: a free one)")
    p_start.add_argument("--password", default=None, help="default: previous one, else random")
    p_start.add_argument("--heap", default="1g")
    p_start.add_argument("--pagecache", default="512m")
    p_start.add_argument(
        "--conf", action="append", default=[], metavar="KEY=VALUE", help="extra Neo4j setting"
    )
    p_start.add_argument("--timeout", type=float, default=120.0)
    for name in ("status", "stop"):
        sub.add_parser(name).add_argument("data_dir", type=Path)
    sub.add_parser("build", help="only build the launcher and print its classpath")
    args = parser.parse_args(argv)

    def show(server: LocalNeo4j) -> None:
        state = asdict(server)
        state["data_dir"] = str(server.data_dir)
        print(json.dumps(state, indent=2))

    try:
        if args.action == "build":
            print(build_classpath())
        elif args.action == "start":
            conf = dict(item.split("=", 1) for item in args.conf if "=" in item)
            show(
                start(
                    args.data_dir,
                    port=args.port,
                    password=args.password,
                    heap=args.heap,
                    pagecache=args.pagecache,
                    conf=conf,
                    timeout=args.timeout,
                )
            )
        elif args.action == "status":
            server = status(args.data_dir)
            if server is None:
                print("not running", file=sys.stderr)
                return 1
            show(server)
        elif args.action == "stop":
            if not stop(args.data_dir):
                print("not running", file=sys.stderr)
                return 1
            print("stopped")
    except Neo4jLocalError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
