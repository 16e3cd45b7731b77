"""Collaboration analytics over settled credit: who helps whom win deals.

Pure functions over :class:`~contribnet.domain.credit_rows.CreditRow` and networkx graphs, no
I/O. :mod:`~contribnet.graph.filters` picks a period, region and brand;
:mod:`~contribnet.graph.networks` builds the store, staff, brand and city graphs and the flow
matrices; :mod:`~contribnet.graph.measures` measures nodes (own credit, assists, assist ratio,
flows, brokerage centrality, communities); :mod:`~contribnet.graph.farmers` profiles staff and
ranks the farmers; :mod:`~contribnet.graph.summary` gives the headline totals.
"""

from contribnet.graph.farmers import (
    EARLY_STAGES,
    Farmer,
    StaffCredit,
    early_work,
    farmers,
    staff_credit,
    store_contributors,
)
from contribnet.graph.filters import BUSINESS_TZ, business_day, filter_rows, in_scope
from contribnet.graph.measures import (
    Flow,
    NodeMeasures,
    assist_credit,
    assist_ratio,
    brokerage_centrality,
    collaboration_strength,
    communities,
    flows,
    node_measures,
    own_credit,
    received_credit,
)
from contribnet.graph.networks import (
    FLOW_LEVELS,
    LEVELS,
    FlowMatrix,
    collaboration_graph,
    flow_matrix,
)
from contribnet.graph.summary import CreditSummary, credit_summary, monthly_summary

__all__ = [
    "BUSINESS_TZ",
    "EARLY_STAGES",
    "FLOW_LEVELS",
    "LEVELS",
    "CreditSummary",
    "Farmer",
    "Flow",
    "FlowMatrix",
    "NodeMeasures",
    "StaffCredit",
    "assist_credit",
    "assist_ratio",
    "brokerage_centrality",
    "business_day",
    "collaboration_graph",
    "collaboration_strength",
    "communities",
    "credit_summary",
    "early_work",
    "farmers",
    "filter_rows",
    "flow_matrix",
    "flows",
    "in_scope",
    "monthly_summary",
    "node_measures",
    "own_credit",
    "received_credit",
    "staff_credit",
    "store_contributors",
]
