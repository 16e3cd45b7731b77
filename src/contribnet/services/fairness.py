"""The fairness runner: every credit model against every scenario instance of the demo network.

:func:`demo_fairness` loads the demo network (the one ``contribnet demo`` loads) and the
hand-built scenario fixtures into a temporary SQLite store, and :func:`check_store` splits every
scenario instance under every model of :data:`~contribnet.credit.registry.MODELS` the way a
settlement does -- the policy version in force at the deal's close, the learned context from
:func:`~contribnet.services.credit.credit_context` -- and holds the splits to the rules of
:func:`~contribnet.credit.fairness.check_split`. The result says, per model and scenario, how many
instances there were, which failed, and the key contributors' median and minimum shares; the
registry's "analysis only" marks, ``GET /v1/models`` and the README's scenario table
(``tools/scenario_table.py``) come from it.
"""

from __future__ import annotations

import statistics
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from contribnet.credit import CreditContext, CreditError, compute_split
from contribnet.credit.fairness import Failure, check_split, key_shares
from contribnet.credit.registry import MODELS
from contribnet.domain.fairness import SCENARIO_NAMES, KeyContributor, ScenarioInstance
from contribnet.domain.policy import Policy
from contribnet.domain.settlement import InvalidRequest, PolicyRecord
from contribnet.services.credit import credit_context
from contribnet.services.policies import ensure_default_policy, policy_in_force, policy_record
from contribnet.store.base import Store

__all__ = ["FairnessReport", "ScenarioResult", "check_store", "demo_fairness", "load_demo"]


@dataclass(frozen=True)
class ScenarioResult:
    """One model on one scenario: the instances, the failures, and per role the key
    contributors' shares (median, minimum) over the instances.

    ``role`` is the scenario's key role (the first one an instance names: the victim, the
    referrer, ...); ``median`` and ``minimum`` are that role's.
    """

    model: str
    scenario: str
    instances: int
    failures: tuple[Failure, ...]
    shares: dict[str, tuple[float, float]]
    role: str

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def median(self) -> float | None:
        return self.shares[self.role][0] if self.role in self.shares else None

    @property
    def minimum(self) -> float | None:
        return self.shares[self.role][1] if self.role in self.shares else None


@dataclass
class FairnessReport:
    """Every model x scenario result, for the instances of one ``source`` or all."""

    results: list[ScenarioResult] = field(default_factory=list)
    description: str = ""

    def result(self, model: str, scenario: str) -> ScenarioResult:
        for r in self.results:
            if (r.model, r.scenario) == (model, scenario):
                return r
        raise KeyError((model, scenario))

    def failures(self, model: str) -> list[Failure]:
        """Every failure of ``model``, scenario by scenario."""
        return [f for r in self.results if r.model == model for f in r.failures]

    def passes(self, model: str) -> bool:
        return not self.failures(model)

    def worst(self, model: str) -> Failure | None:
        """The failure to name for ``model``: of its first failing scenario (in the brief's
        order), the instance with the smallest key share."""
        for r in self.results:
            if r.model == model and r.failures:
                return min(r.failures, key=lambda f: (f.share, f.deal))
        return None

    @property
    def models(self) -> list[str]:
        return list(dict.fromkeys(r.model for r in self.results))

    @property
    def scenarios(self) -> list[str]:
        return list(dict.fromkeys(r.scenario for r in self.results))


def _order(scenario: str) -> int:
    keys = list(SCENARIO_NAMES)
    return keys.index(scenario) if scenario in keys else len(keys)


def check_store(
    store: Store,
    instances: Sequence[ScenarioInstance],
    models: Iterable[str] | None = None,
    policy: Policy | None = None,
) -> FairnessReport:
    """Split every instance's deal under every model (default: all of ``MODELS``) and check it.

    Each deal is split under ``policy`` if given, else the store's policy version in force at
    its close (as a settlement is), with the context the services learn from the store. A model
    that cannot split a deal at all (a ``CreditError``) fails every key contributor of it.
    """
    names = list(models) if models is not None else list(MODELS)
    journeys = store.deal_journeys(sorted({i.deal for i in instances}))
    missing = sorted({i.deal for i in instances} - set(journeys))
    if missing:
        raise InvalidRequest.one("deal", f"not in the store (or voided): {', '.join(missing[:5])}")
    records: Sequence[PolicyRecord] = (
        [policy_record(policy, "fairness")] if policy is not None else store.ledger.policies()
    )
    ordered = sorted(instances, key=lambda i: (_order(i.scenario), i.source, i.deal))
    report = FairnessReport()
    for name in names:
        contexts: dict[str, CreditContext | None] = {}
        failures: dict[str, list[Failure]] = {}
        shares: dict[str, dict[str, list[float]]] = {}
        counts: dict[str, int] = {}
        roles: dict[str, str] = {}
        for instance in ordered:
            journey = journeys[instance.deal]
            record = (
                records[0]
                if policy is not None
                else policy_in_force(records, journey.deal.closed_at)
            )
            scenario = instance.scenario
            counts[scenario] = counts.get(scenario, 0) + 1
            roles.setdefault(scenario, instance.contributors[0].role)
            try:
                if record.id not in contexts:
                    contexts[record.id] = credit_context(store, record.policy, name)
                context = contexts[record.id]
                split = compute_split(journey, record.policy, name, context)
            except CreditError:
                got: dict[KeyContributor, float] = dict.fromkeys(instance.contributors, 0.0)
                failed = [
                    Failure(scenario, instance.deal, c, "positive", 0.0, name)
                    for c in instance.contributors
                ]
            else:
                got = key_shares(split, instance)
                failed = check_split(split, instance)
            failures.setdefault(scenario, []).extend(failed)
            for c, share in got.items():
                shares.setdefault(scenario, {}).setdefault(c.role, []).append(share)
        for scenario in sorted(counts, key=_order):
            report.results.append(
                ScenarioResult(
                    model=name,
                    scenario=scenario,
                    instances=counts[scenario],
                    failures=tuple(failures.get(scenario, ())),
                    shares={
                        role: (statistics.median(values), min(values))
                        for role, values in shares.get(scenario, {}).items()
                    },
                    role=roles[scenario],
                )
            )
    return report


def load_demo(
    store: Store, size: str = "demo", seed: int = 1, fixtures: bool = True
) -> list[ScenarioInstance]:
    """Load the ``size`` network for ``seed`` (what ``contribnet demo`` loads) and, with
    ``fixtures``, the hand-built scenarios into ``store``; record the default policy if the store
    has none. Returns every scenario instance: the network's, then the fixtures'."""
    from contribnet.demo.generator import NetworkGenerator
    from contribnet.demo.scenarios import all_events, fixture_instances
    from contribnet.services.ingest import ingest_events, ingest_stream

    gen = NetworkGenerator(size, seed)
    gen.instances = []
    ingest_stream(store, gen.events())
    instances = list(gen.instances)
    if fixtures:
        ingest_events(store, all_events())
        instances += fixture_instances()
    ensure_default_policy(store)
    return instances


def demo_fairness(
    size: str = "demo",
    seed: int = 1,
    models: Iterable[str] | None = None,
    policy: Policy | None = None,
    fixtures: bool = True,
) -> tuple[FairnessReport, FairnessReport]:
    """The fairness check of every model on the demo network's instances and on the hand-built
    fixtures, in a temporary SQLite store: ``(demo report, fixtures report)`` (the second is
    empty without ``fixtures``). The store is deleted afterwards."""
    from contribnet.store import open_store

    with tempfile.TemporaryDirectory(prefix="contribnet-fairness-") as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'demo.db'}")
        try:
            instances = load_demo(store, size, seed, fixtures)
            names = list(models) if models is not None else list(MODELS)
            demo = check_store(store, [i for i in instances if i.source == "demo"], names, policy)
            demo.description = f"{size} network, seed {seed}"
            hand = FairnessReport(description="hand-built scenario fixtures")
            if fixtures:
                hand = check_store(
                    store, [i for i in instances if i.source == "fixture"], names, policy
                )
                hand.description = "hand-built scenario fixtures"
        finally:
            store.close()
    return demo, hand
