"""The credit engine: who gets what share of a deal's reward pool, in exact fen, and why.

Pure functions, no I/O. One module per family of models -- :mod:`~contribnet.credit.rules`,
:mod:`~contribnet.credit.shapley`, :mod:`~contribnet.credit.markov` -- plus the policy guards
(:mod:`~contribnet.credit.guards`), money allocation (:mod:`~contribnet.domain.allocation`),
explanations (:mod:`~contribnet.credit.explain`) and the engine that ties them together
(:mod:`~contribnet.credit.engine`).
"""

from contribnet.credit.context import CreditContext, CreditError, build_context
from contribnet.credit.engine import (
    compute_split,
    compute_splits,
    input_hash,
    needs_context,
    store_totals,
)
from contribnet.credit.registry import MODELS, ModelSpec, get_model
from contribnet.domain.split import (
    Allocation,
    Explanation,
    PolicyRef,
    Split,
    StoreShare,
    TouchCredit,
)

__all__ = [
    "MODELS",
    "Allocation",
    "CreditContext",
    "CreditError",
    "Explanation",
    "ModelSpec",
    "PolicyRef",
    "Split",
    "StoreShare",
    "TouchCredit",
    "build_context",
    "compute_split",
    "compute_splits",
    "get_model",
    "input_hash",
    "needs_context",
    "store_totals",
]
