"""Where the project's own files live.

The Cypher files, the policies and the Neo4j launcher's sources are package data under
``contribnet/resources/``, so an installed wheel carries them and works outside a checkout.
Downloads and builds go to ``.cache/`` in a source checkout, else to the user's cache folder
(``$XDG_CACHE_HOME/contribnet``, by default ``~/.cache/contribnet``); ``$CONTRIBNET_CACHE``
overrides both.
"""

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
RESOURCES_DIR = PACKAGE_DIR / "resources"
CYPHER_DIR = RESOURCES_DIR / "cypher"
POLICIES_DIR = RESOURCES_DIR / "policies"
NEO4J_LAUNCHER_DIR = RESOURCES_DIR / "neo4j-launcher"

# The source checkout holding the package (src layout), or None for an installed wheel.
_CHECKOUT = PACKAGE_DIR.parents[1]
PROJECT_ROOT: Path | None = (
    _CHECKOUT
    if (_CHECKOUT / "pyproject.toml").is_file() and PACKAGE_DIR.parent.name == "src"
    else None
)


def cache_dir() -> Path:
    """The folder for downloads and builds (Neo4j jars, the launcher's classpath)."""
    from contribnet.settings import Settings  # here: settings must not load at import of paths

    override = Settings().cache
    if override:
        return Path(override)
    if PROJECT_ROOT is not None:
        return PROJECT_ROOT / ".cache"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "contribnet"
