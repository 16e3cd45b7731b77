"""The wheel carries everything and works outside a checkout.

The wheel is built from a copy of the sources, installed into a fresh virtual environment (no
system site-packages, no editable install of this checkout), and its ``contribnet`` command is
run from an unrelated folder: ``--version``, ``query --list`` (the Cypher library is package
data), ``demo`` into a new SQLite file and a read of it, and ``settle`` (the default policy is
package data too). The wheel itself must hold the Cypher files, the policies and the Neo4j
launcher's sources.

The wheel's dependencies are not downloaded again: the fresh environment sees the project's
environment's site-packages through a ``.pth`` line, after its own (so the installed
``contribnet`` is the wheel's, which the test checks), and each requirement the wheel declares is
checked to be among them.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import sysconfig
import venv
import zipfile
from email.parser import Parser
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from tests.conftest import Neo4jServer

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def _run(cmd: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{cmd} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built from a copy of pyproject.toml and src/ (nothing written into the checkout)."""
    src = tmp_path_factory.mktemp("source")
    shutil.copy(ROOT / "pyproject.toml", src / "pyproject.toml")
    shutil.copytree(
        ROOT / "src", src / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
    )
    out = tmp_path_factory.mktemp("wheel")
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(out), str(src)],  # fmt: skip
        cwd=src,
        env=env,
    )
    (built,) = out.glob("contribnet-*.whl")
    return built


def test_the_wheel_holds_the_cypher_files_policies_and_launcher(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "contribnet/resources/cypher/schema.cypher",
        "contribnet/resources/cypher/store/append_events.cypher",
        "contribnet/resources/cypher/queries/cross_brand_referrals.cypher",
        "contribnet/resources/policies/default.toml",
        "contribnet/resources/neo4j-launcher/pom.xml",
        "contribnet/resources/neo4j-launcher/src/main/java/contribnet/Neo4jLauncher.java",
        "contribnet/web/static/index.html",
        "contribnet/web/static/vendor/swagger-ui/swagger-ui-bundle.js",
        "contribnet/web/static/vendor/redoc/redoc.standalone.js",
    ):
        assert required in names, f"{required} is not in {wheel.name}"
    # every file of the checkout's resources is in the wheel
    resources = ROOT / "src" / "contribnet" / "resources"
    for path in resources.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            assert f"contribnet/{path.relative_to(resources.parent).as_posix()}" in names, path


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A fresh venv with the wheel installed; its bin folder and an environment to run it in."""
    env_dir = tmp_path_factory.mktemp("venv") / "fresh"
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(env_dir)
    python = env_dir / "bin" / "python"
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")
    }
    env |= {"PIP_DISABLE_PIP_VERSION_CHECK": "1", "CONTRIBNET_CACHE": str(env_dir / "cache")}
    env.pop("CONTRIBNET_STORE", None)
    _run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", str(wheel)], ROOT, env)
    # The dependencies: the project's environment's packages, after the fresh one's own.
    site = _run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], ROOT, env
    ).stdout.strip()
    (Path(site) / "zz_project_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return env_dir / "bin", env


def test_every_declared_dependency_is_available(wheel: Path) -> None:
    metadata = zipfile.ZipFile(wheel).read("contribnet-0.1.0.dist-info/METADATA").decode()
    requirements = [Requirement(r) for r in Parser().parsestr(metadata).get_all("Requires-Dist")]
    runtime = [r for r in requirements if r.marker is None or r.marker.evaluate({"extra": ""})]
    assert {r.name for r in runtime} >= {"fastapi", "neo4j", "pydantic"}
    for requirement in runtime:
        try:
            version = distribution(requirement.name).version
        except PackageNotFoundError:
            pytest.fail(f"{requirement} is declared but not installed in the project's venv")
        assert requirement.specifier.contains(version, prereleases=True), (requirement, version)


def test_the_installed_command_works_outside_a_checkout(
    installed: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    bin_dir, env = installed
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    contribnet = str(bin_dir / "contribnet")

    where = _run(
        [
            str(bin_dir / "python"),
            "-c",
            "import contribnet, contribnet.paths as p; "
            "print(contribnet.__file__); print(p.CYPHER_DIR); print(p.PROJECT_ROOT)",
        ],  # fmt: skip
        elsewhere,
        env,
    ).stdout.splitlines()
    assert where[0].startswith(str(bin_dir.parent)), f"not the wheel's contribnet: {where[0]}"
    assert where[1].startswith(str(bin_dir.parent)) and where[2] == "None", where

    assert _run([contribnet, "--version"], elsewhere, env).stdout.strip() == "contribnet 0.1.0"

    listed = json.loads(_run([contribnet, "query", "--list", "--json"], elsewhere, env).stdout)
    assert len(listed) >= 10
    assert "cross_brand_referrals" in {q["name"] for q in listed}

    db = elsewhere / "data" / "demo.db"
    store = f"sqlite:///{db}"
    loaded = _run(
        [contribnet, "demo", "--size", "tiny", "--no-settle", "--store", store], elsewhere, env
    )
    assert "accepted" in loaded.stdout and db.is_file()

    with sqlite3.connect(db) as conn:
        (customer,) = conn.execute("SELECT customer FROM touches ORDER BY id LIMIT 1").fetchone()
    journey = json.loads(
        _run([contribnet, "journey", customer, "--json", "--store", store], elsewhere, env).stdout
    )
    assert journey["customer"]["id"] == customer and journey["touches"]

    # settling reads the default policy, package data of the wheel
    settled = json.loads(
        _run([contribnet, "settle", "--json", "--store", store], elsewhere, env).stdout
    )
    assert settled["created"] > 0 and settled["failures"] == 0


def test_the_installed_command_queries_neo4j(
    installed: tuple[Path, dict[str, str]], neo4j_server: Neo4jServer, tmp_path: Path
) -> None:
    """Opening Neo4j applies the packaged schema and runs a packaged query: both were missing
    from the wheel once (FileNotFoundError on cypher/schema.cypher)."""
    bin_dir, env = installed
    rows = _run(
        [str(bin_dir / "contribnet"), "query", "time_to_close_by_brand", "--json",
         "--store", neo4j_server.store_url],
        tmp_path,
        env,
    ).stdout  # fmt: skip
    result = json.loads(rows)
    assert result["columns"][:2] == ["brand", "deals"]
    assert isinstance(result["rows"], list) and not result["truncated"]
