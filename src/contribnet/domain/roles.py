"""Who may call what: the roles of API keys."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Principal", "Role"]


class Role(StrEnum):
    ADMIN = "admin"  # everything
    INGEST = "ingest"  # send events
    ANALYST = "analyst"  # read journeys, run queries and read-only Cypher
    LEADER = "leader"  # read credit, roll-ups, the collaboration graph; adjust and simulate
    STAFF = "staff"  # one staff member: their own statement and the journeys they touched


@dataclass(frozen=True)
class Principal:
    """The caller, as their API key says; ``key`` names the key itself (:func:`key_id`), so that
    what a caller recorded can be traced to the key it used."""

    role: Role
    staff: str | None = None
    key: str | None = None
