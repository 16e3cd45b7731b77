"""The done-when figures, on both stores: on the clean demo network fewer than 2% of deals carry
a flag (none do), and with the generator's planted fraud the flags find every planted case.

The network is loaded as ``contribnet demo`` loads it (batches of the stream), the planted events
after it, in a batch of their own: received later, as a backdated touch is."""

from __future__ import annotations

import pytest
from tests.flags.conftest import Flags

from contribnet.credit.flags import flagged_deals
from contribnet.demo.fraud import FraudPlanter
from contribnet.demo.generator import NetworkGenerator
from contribnet.domain.flags import FLAG_KINDS
from contribnet.services.flags import list_flags
from contribnet.services.ingest import ingest_stream

#: The share of the clean demo network's deals that may carry a flag.
CLEAN_SHARE = 0.02


@pytest.mark.slow
def test_clean_demo_network_is_almost_unflagged_and_planted_fraud_is_all_found(
    flags: Flags,
) -> None:
    store = flags.store
    planter = FraudPlanter(seed=1)
    ingest_stream(store, planter.wrap(NetworkGenerator("demo", 1).events()))
    deals = store.ledger.count_closed_deals(None, None)
    assert deals > 500
    clean = list_flags(store)
    assert len(flagged_deals(clean)) < CLEAN_SHARE * deals, [f.reason for f in clean[:5]]

    ingest_stream(store, planter.planted())
    found = list_flags(store)
    assert {c.kind for c in planter.cases} == set(FLAG_KINDS)
    missed = [
        case
        for case in planter.cases
        if not any(f.kind == case.kind and set(case.records) <= set(f.records) for f in found)
    ]
    assert missed == []
