"""Prometheus counters the services and the API update; ``GET /metrics`` exposes them.

Labels carry only bounded vocabularies (route templates, status codes, event types, outcomes):
never an id, a key or anything from a request body. Under ``contribnet serve --workers N`` each
process writes its values to ``PROMETHEUS_MULTIPROC_DIR`` and ``/metrics`` sums them
(prometheus-client's multiprocess mode, set up by ``serve``).
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterable

from prometheus_client import Counter, Histogram

from contribnet.domain.events import EVENT_TYPES

__all__ = [
    "ADJUSTMENTS",
    "EVENTS",
    "REQUESTS",
    "REQUEST_SECONDS",
    "SETTLEMENTS",
    "STORE_ERRORS",
    "STORE_RETRIES",
    "count_events",
    "count_ingest",
    "enable",
    "event_type",
]

REQUESTS = Counter(
    "contribnet_http_requests",
    "HTTP requests answered, by method, route template and status",
    ["method", "route", "status"],
)
REQUEST_SECONDS = Histogram(
    "contribnet_http_request_duration_seconds",
    "Time to answer an HTTP request, by method, route template and status",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
EVENTS = Counter(
    "contribnet_events",
    "Events received, by type and outcome (accepted, duplicate, rejected); a batch with both new "
    "and duplicate events from the store counts under type 'mixed'",
    ["type", "outcome"],
)
SETTLEMENTS = Counter(
    "contribnet_settlements",
    "Settlements sent to the ledger, by action (settle, reverse, resettle, period) and outcome "
    "(created, existing, conflict)",
    ["action", "outcome"],
)
ADJUSTMENTS = Counter(
    "contribnet_adjustments", "Adjustments sent to the ledger, by outcome", ["outcome"]
)
STORE_ERRORS = Counter(
    "contribnet_store_errors",
    "Requests the store failed (unavailable, refused, timed out), by kind",
    ["kind"],
)
STORE_RETRIES = Counter(
    "contribnet_store_retries", "Store transactions the Neo4j driver retried after a failure"
)

_KNOWN_TYPES = frozenset(EVENT_TYPES)

#: Whether the event counters below count (``CONTRIBNET_OBSERVABILITY``; see :func:`enable`).
_enabled = True


def enable(on: bool = True) -> None:
    """Turn the event counters (:func:`count_events`, :func:`count_ingest`) on or off for this
    process; the API's ``create_app`` sets them from its settings."""
    global _enabled
    _enabled = on


def event_type(value: object) -> str:
    """A label for an event's ``type``: one of the known types, else ``unknown`` (a client's
    arbitrary string must not become a label)."""
    return value if isinstance(value, str) and value in _KNOWN_TYPES else "unknown"


def tally(types: Iterable[object]) -> dict[str, int]:
    """Events by label (:func:`event_type`) of their raw ``type`` values.

    >>> tally(["touch", "deal", "touch", "<script>"])
    {'touch': 2, 'deal': 1, 'unknown': 1}
    """
    return dict(Tally(event_type(t) for t in types))


def count_events(types: Iterable[object], outcome: str) -> None:
    """Count events of the given types (raw ``type`` values) under ``outcome``."""
    if _enabled:
        _count(tally(types), outcome)


def _count(counts: dict[str, int], outcome: str) -> None:
    for name, n in counts.items():
        EVENTS.labels(name, outcome).inc(n)


def count_ingest(counts: dict[str, int], accepted: int, duplicates: int) -> None:
    """Count one appended batch, its events by type (:func:`tally`): per type when the batch is
    all new or all duplicates."""
    if not _enabled:
        return
    if duplicates == 0:
        _count(counts, "accepted")
    elif accepted == 0:
        _count(counts, "duplicate")
    else:
        EVENTS.labels("mixed", "accepted").inc(accepted)
        EVENTS.labels("mixed", "duplicate").inc(duplicates)
