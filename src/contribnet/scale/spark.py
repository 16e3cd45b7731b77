"""A Spark session for a master URL: ``local[N]``, a standalone cluster (``spark://host:7077``)
or Spark Connect (``sc://host:15002``); the master is checked to answer before anything starts.

On ``local`` masters the executors run this very Python (so they import this very
``contribnet``). On a cluster the package is zipped and shipped with the job
(``addPyFile`` / ``addArtifacts``); its dependencies (pydantic, numpy, scipy, pyarrow) must be
installed on the workers -- ``pip install contribnet[spark]`` there does both.
"""

from __future__ import annotations

import os
import socket
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from contribnet.scale import ScaleError

__all__ = ["SESSION_CONFIG", "check_master", "spark_session"]

#: Seconds to wait for a cluster's master to accept a connection.
CONNECT_TIMEOUT = 5.0

#: Settings of every session this package starts (tests start theirs with them too):
#:
#: * writes partitioned by close month keep a file open per month instead of sorting every row
#:   of a task by month first: the rows (each with its split's JSON) would be sorted, spilled
#:   and read back for nothing, since a task holds a few months (past 64 Spark sorts the rest);
#: * the journeys are read in parts of at most 32 MiB (Parquet row groups of 1,000 deals, a few
#:   MiB each), not 128: a network's export is a few hundred MiB, so this gives each core
#:   several tasks instead of one or two of unequal length.
SESSION_CONFIG = {
    "spark.sql.optimizer.plannedWrite.enabled": "false",
    "spark.sql.maxConcurrentOutputFileWriters": "64",
    "spark.sql.files.maxPartitionBytes": "32m",
}


def check_master(master: str) -> None:
    """:class:`ScaleError` unless ``master`` is ``local``/``local[N]``/``local[*]``, or a
    ``spark://`` or ``sc://`` URL whose host accepts a TCP connection within
    :data:`CONNECT_TIMEOUT` seconds (a dead master would otherwise make Spark retry for
    minutes)."""
    if master == "local" or (master.startswith("local[") and master.endswith("]")):
        return
    if not master.startswith(("spark://", "sc://")):
        raise ScaleError(
            f"unknown Spark master {master!r}: use local[N], spark://host:7077 or sc://host:15002"
        )
    hosts = master.split("://", 1)[1].split("/", 1)[0].split(";")[0].split(",")
    default = 7077 if master.startswith("spark://") else 15002
    for hostport in hosts:
        parts = urlsplit(f"//{hostport}")
        host, port = parts.hostname, parts.port or default
        if not host:
            raise ScaleError(f"the Spark master URL {master!r} names no host")
        try:
            with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT):
                return
        except OSError as exc:
            problem = exc.strerror or type(exc).__name__
            last = f"the Spark master {host}:{port} does not answer ({problem})"
    raise ScaleError(last)


def _package_zip(folder: Path) -> Path:
    """The ``contribnet`` package as a zip executors can import."""
    package = Path(__file__).resolve().parent.parent
    target = folder / "contribnet.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in package.rglob("*"):
            if file.is_file() and "__pycache__" not in file.parts:
                archive.write(file, Path("contribnet") / file.relative_to(package))
    return target


@contextmanager
def spark_session(master: str, app_name: str = "contribnet") -> Iterator[Any]:
    """A Spark session on ``master`` (checked with :func:`check_master`), stopped at the end
    unless it was running already (a test's, or a notebook's)."""
    check_master(master)
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ScaleError(
            "this command needs the spark extra: pip install 'contribnet[spark]'"
        ) from None
    active = SparkSession.getActiveSession()
    if active is not None:
        yield active
        return
    local = master.startswith("local")
    if local:
        # the executors' Python is this one, so they import this contribnet and its packages
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    with tempfile.TemporaryDirectory(prefix="contribnet-spark-") as scratch:
        builder = SparkSession.builder.appName(app_name)
        if master.startswith("sc://"):
            try:
                session = builder.remote(master).getOrCreate()
            except ImportError as exc:
                raise ScaleError(
                    f"Spark Connect needs pyspark's connect extra ({exc}): "
                    "pip install 'pyspark[connect]'"
                ) from None
            session.addArtifacts(str(_package_zip(Path(scratch))), pyfile=True)
        else:
            builder = builder.master(master).config("spark.sql.session.timeZone", "UTC")
            builder = builder.config("spark.ui.showConsoleProgress", "false")
            for key, value in SESSION_CONFIG.items():
                builder = builder.config(key, value)
            if local:
                builder = builder.config("spark.ui.enabled", "false").config(
                    "spark.sql.shuffle.partitions", "8"
                )
            session = builder.getOrCreate()
            session.sparkContext.setLogLevel("ERROR")
            if not local:
                session.sparkContext.addPyFile(str(_package_zip(Path(scratch))))
        try:
            yield session
        finally:
            session.stop()
