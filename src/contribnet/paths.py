"""Where the project's own files live.

contribnet runs from its source tree (an editable install, or the Docker image that copies it), so
the Cypher files, policies and the Neo4j launcher are found beside the package rather than inside
it.
"""

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CYPHER_DIR = PROJECT_ROOT / "cypher"
POLICIES_DIR = PROJECT_ROOT / "policies"
NEO4J_LAUNCHER_DIR = PROJECT_ROOT / "tools" / "neo4j-launcher"


def cache_dir() -> Path:
    """The ignored folder for downloads and builds (Neo4j jars, the launcher's classpath)."""
    return Path(os.environ.get("CONTRIBNET_CACHE", PROJECT_ROOT / ".cache"))
