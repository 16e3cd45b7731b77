"""The disputes suite runs on the audit suite's network and client, on SQLite and on Neo4j."""

from tests.audit.conftest import api

__all__ = ["api"]
