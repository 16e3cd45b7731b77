"""Every size limit contribnet enforces on its input, in one place (the README's "Limits" table).

Each is checked before any work is done on what it bounds, and a request over one is refused
with 413 (the body) or 422 (anything in it), naming the limit.
"""

from __future__ import annotations

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_CUSTOMERS_PER_HANDOVER",
    "MAX_ERRORS_LISTED",
    "MAX_EVIDENCE_BYTES",
    "MAX_ID_LENGTH",
    "MAX_JOURNEY_ITEMS",
    "MAX_JSON_DEPTH",
    "MAX_LINKS_PER_BATCH",
    "MAX_ORGANISERS",
    "MAX_TEXT_LENGTH",
]

#: Bytes of one request body: refused from ``Content-Length`` unread, or counted while streaming.
MAX_BODY_BYTES = 16 * 1024 * 1024
#: Nesting depth of a JSON body (``{"events": [{...}]}`` is 3 deep).
MAX_JSON_DEPTH = 32
#: Characters of an id (customer, staff, store, event, ...).
MAX_ID_LENGTH = 200
#: Characters of a free-text field: names, city, region, role, stage, channel, mall, reason.
MAX_TEXT_LENGTH = 1_000
#: Bytes of a touch's ``evidence`` object, as compact JSON.
MAX_EVIDENCE_BYTES = 16 * 1024
#: Customers one handover may carry.
MAX_CUSTOMERS_PER_HANDOVER = 10_000
#: Organising stores of one joint event.
MAX_ORGANISERS = 1_000
#: Customer and organiser links (handover customers plus joint-event organisers) in one batch.
MAX_LINKS_PER_BATCH = 100_000
#: Items of a deal's journey a split considers: the most recent ones in the window; the older
#: rest is listed as not counted (``over_limit``).
MAX_JOURNEY_ITEMS = 1_000
#: Errors listed in one 422 body; the total count is always given.
MAX_ERRORS_LISTED = 100
