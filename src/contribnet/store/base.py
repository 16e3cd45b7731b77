"""The ``Store`` port: what the services need from a system of record.

Two adapters implement it — ``sqlite.py`` (embedded, the default) and ``neo4j.py`` (production) —
and ``tests/contract/`` runs one suite against both.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from contribnet.domain.events import Event
from contribnet.domain.journey import DealJourney, Journey, Page

__all__ = ["IngestResult", "RecordedEvent", "Store"]


@dataclass(frozen=True)
class RecordedEvent:
    """A validated event ready to append: its key, canonical JSON and content hash."""

    key: str
    event: Event
    canonical: bytes
    hash: str


@dataclass(frozen=True)
class IngestResult:
    accepted: int = 0
    duplicates: int = 0

    def __add__(self, other: IngestResult) -> IngestResult:
        return IngestResult(self.accepted + other.accepted, self.duplicates + other.duplicates)


class Store(Protocol):
    """A system of record for the event stream and the reads built on it."""

    def append(self, events: Sequence[RecordedEvent]) -> IngestResult:
        """Write the new events of a batch atomically.

        An event whose key is stored with the same hash is a duplicate (not written again); one
        stored with another hash raises ``ConflictError`` and nothing of the batch is written.
        Keys are unique within a batch (the service merges exact repeats first).
        """
        ...

    def stored_hashes(self, keys: Sequence[str]) -> dict[str, str]:
        """The content hashes of those of ``keys`` already recorded."""
        ...

    def journey(self, customer_id: str) -> Journey:
        """The customer's journey; raises ``NotFound`` if nothing references the customer."""
        ...

    def deal_journey(self, deal_id: str) -> DealJourney:
        """The deal and its customer's journey, voided events removed; ``NotFound`` if no deal."""
        ...

    def stage_paths(self) -> Iterator[tuple[tuple[str, ...], bool]]:
        """Per customer, the stages of their non-voided touches in time order, and whether they
        have a non-voided deal (training data for the data-driven credit models)."""
        ...

    def get(self, kind: str, id: str) -> dict[str, Any]:
        """One store, staff member (with employment spells) or deal; raises ``NotFound``."""
        ...

    def list(self, kind: str, offset: int, limit: int) -> Page:
        """A page of stores, staff, customers or deals, ordered by id."""
        ...

    def count_events(self) -> dict[str, int]:
        """How many events of each type are recorded (voided ones included)."""
        ...

    def close(self) -> None: ...
