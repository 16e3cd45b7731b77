"""Fairness is checked, not hoped for.

Every model offered for pay meets the domain brief's six scenarios on every scenario instance of
the demo network and on every hand-built fixture: the order-grab victim keeps at least 1/3 of the
staff cash; every contributor a scenario names gets more than 0 (the referrer either way, the
cross-city advisor, the handing advisor, the joint-event advisor and both organising stores, the
referring owner in points). Every model marked "analysis only" really fails the scenario it is
marked with, so the marks cannot drift from what the models do. And the gate: a settlement or a
stored policy using an analysis-only model is refused, naming the scenario, unless the policy
allows it; previews still work.
"""

from __future__ import annotations

import doctest
import importlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from contribnet.cli import main
from contribnet.credit import CreditError
from contribnet.credit.fairness import Failure, check_split, key_shares
from contribnet.credit.registry import MODELS, payable
from contribnet.demo.generator import generate_with_summary, scenario_instances
from contribnet.demo.scenarios import SCENARIOS, all_events, fixture_instances
from contribnet.domain.fairness import SCENARIO_NAMES, KeyContributor, ScenarioInstance
from contribnet.domain.policy import Policy
from contribnet.domain.settlement import InvalidRequest
from contribnet.domain.split import Allocation, Explanation, PolicyRef, Split, StoreShare
from contribnet.services import credit as credit_service
from contribnet.services import policies as policy_service
from contribnet.services import settlement as settlement_service
from contribnet.services.fairness import FairnessReport, demo_fairness
from contribnet.services.ingest import ingest_events
from contribnet.store import Store, open_store

FOR_PAY = [name for name, spec in MODELS.items() if spec.for_pay]
ANALYSIS_ONLY = [name for name, spec in MODELS.items() if not spec.for_pay]


@pytest.fixture(scope="module")
def reports() -> tuple[FairnessReport, FairnessReport]:
    """Every model on the demo network's instances and on the hand-built fixtures: the network
    is generated and loaded once, into a temporary SQLite store."""
    return demo_fairness()


def _shown(failures: list[Failure]) -> str:
    return "; ".join(str(f) for f in failures[:5]) + (
        f" (and {len(failures) - 5} more)" if len(failures) > 5 else ""
    )


# --- the marks ------------------------------------------------------------------------------


def test_the_default_model_is_offered_for_pay() -> None:
    assert MODELS[Policy().model].for_pay


@pytest.mark.parametrize("model", FOR_PAY)
def test_a_model_for_pay_is_fair_on_every_demo_instance(
    reports: tuple[FairnessReport, FairnessReport], model: str
) -> None:
    demo, _ = reports
    failures = demo.failures(model)
    assert not failures, f"{model} is marked for pay but fails: {_shown(failures)}"


@pytest.mark.parametrize("model", FOR_PAY)
def test_a_model_for_pay_is_fair_on_every_hand_built_fixture(
    reports: tuple[FairnessReport, FairnessReport], model: str
) -> None:
    _, hand = reports
    failures = hand.failures(model)
    assert not failures, f"{model} is marked for pay but fails: {_shown(failures)}"


@pytest.mark.parametrize("model", ANALYSIS_ONLY)
def test_an_analysis_only_model_fails_the_scenario_it_is_marked_with(
    reports: tuple[FairnessReport, FairnessReport], model: str
) -> None:
    spec = MODELS[model]
    assert spec.fails in SCENARIO_NAMES and spec.fails_because
    failed = {f.scenario for report in reports for f in report.failures(model)}
    assert failed, f"{model} is marked analysis only but passes every check: mark it for pay"
    assert spec.fails in failed, f"{model} fails {sorted(failed)}, not {spec.fails}"


def test_the_report_covers_every_model_and_scenario(
    reports: tuple[FairnessReport, FairnessReport],
) -> None:
    for report in reports:
        assert report.models == list(MODELS)
        assert report.scenarios == list(SCENARIO_NAMES)
        for r in report.results:
            assert r.instances > 0 and r.median is not None and r.minimum is not None
            assert 0 <= r.minimum <= r.median <= 1


def test_the_worst_failure_is_named_in_words(
    reports: tuple[FairnessReport, FairnessReport],
) -> None:
    demo, _ = reports
    worst = demo.worst("last_touch")
    assert worst is not None
    assert str(worst).startswith(f"{SCENARIO_NAMES[worst.scenario]} scenario, deal d-")


# --- the scenario instances -----------------------------------------------------------------


def test_the_demo_instances_are_the_summary_s_scenarios() -> None:
    events, summary = generate_with_summary("demo", 1)
    deals = {e["id"] for e in events if e["type"] == "deal"}
    found = scenario_instances()
    assert found == scenario_instances("demo", 1)  # deterministic
    assert {i.deal for i in found} <= deals
    assert len({i.deal for i in found}) == len(found)  # one scenario per deal
    counts = Counter(i.scenario for i in found)
    assert counts["bulk_handover"] == summary.handover_deals
    assert counts["owner_referral"] == summary.owner_referral_deals
    assert counts["cross_brand_referral"] == sum(summary.cross_brand_deals.values())
    assert Counter(i.note for i in found if i.scenario == "cross_brand_referral") == Counter(
        {k: v for k, v in summary.cross_brand_deals.items() if v}
    )
    # a voided touch can take a key contributor out of an instance, never add one
    assert 0 < counts["order_grabbing"] <= summary.order_grabs
    assert 0 < counts["cross_city_assist"] <= summary.cross_city_assist_deals
    assert 0 < counts["joint_event"] <= summary.joint_event_deals
    roles = {i.scenario: Counter(c.role for c in i.contributors) for i in found}
    assert roles["joint_event"] == Counter({"event_advisor": 1, "organiser": 2})
    assert roles["order_grabbing"] == Counter({"victim": 1})


def test_the_fixture_instances_are_the_hand_built_deals() -> None:
    found = fixture_instances()
    assert [i.deal for i in found] == [c.deal for s in SCENARIOS for c in s.checks]
    for s in SCENARIOS:
        for c in s.checks:
            instance = next(i for i in found if i.deal == c.deal)
            assert instance.scenario == s.key and instance.source == "fixture"
            named = {(k.kind, k.id) for k in instance.contributors if k.kind != "store"}
            assert named <= c.credited  # the key contributors are among those credited
    assert {i.scenario for i in found} == set(SCENARIO_NAMES)


# --- the check itself -------------------------------------------------------------------------


def _paid(
    kind: str, who: str, fen: int = 0, points: int = 0, stores: dict[str, float] | None = None
):  # type: ignore[no-untyped-def]
    parts = [StoreShare(store=s, share=v) for s, v in (stores or {}).items()]
    return Allocation(
        kind=kind,  # type: ignore[arg-type]
        id=who,
        share=0.0,
        amount=fen,
        points=points,
        explanation=Explanation(text="", model_share=0.0, touches=[], stores=parts),
    )


def _split(*allocations: Allocation, pool: int = 0) -> Split:
    return Split(
        deal="d",
        model="m",
        policy=PolicyRef(name="p", version="1"),
        pool=pool or sum(a.amount for a in allocations),
        input_hash="",
        allocations=list(allocations),
    )


X = KeyContributor("staff", "x", "victim")


def test_the_victim_keeps_a_third_to_the_fen() -> None:
    grab = ScenarioInstance("order_grabbing", "d", (X,))
    assert check_split(_split(_paid("staff", "x", 33), _paid("staff", "y", 67)), grab) == []
    (failure,) = check_split(_split(_paid("staff", "x", 32), _paid("staff", "y", 68)), grab)
    assert (failure.rule, failure.share) == ("victim_share", 0.32)
    assert failure.because == "the victim keeps 32.0% < 1/3"
    # owners' points are not staff cash
    split = _split(_paid("staff", "x", 50), _paid("staff", "y", 50), _paid("owner", "c", points=9))
    assert key_shares(split, grab) == {X: 0.5}
    assert check_split(_split(_paid("staff", "y", 100)), grab)[0].share == 0.0


def test_everyone_named_gets_more_than_nothing() -> None:
    owner = KeyContributor("owner", "c-1", "owner")
    referral = ScenarioInstance("owner_referral", "d", (owner,))
    assert (
        check_split(_split(_paid("staff", "y", 100), _paid("owner", "c-1", points=1)), referral)
        == []
    )
    (failure,) = check_split(_split(_paid("staff", "y", 100)), referral)
    assert failure.because == "the referring owner c-1 gets 0 points"
    stores = (KeyContributor("store", "a", "organiser"), KeyContributor("store", "b", "organiser"))
    event = ScenarioInstance(
        "joint_event", "d", (KeyContributor("staff", "x", "event_advisor"),) + stores
    )
    both = _split(
        _paid("staff", "x", 10, stores={"a": 0.5, "b": 0.5}),
        _paid("staff", "y", 90, stores={"a": 1.0}),
    )
    assert check_split(both, event) == []
    one = _split(
        _paid("staff", "x", 10, stores={"a": 1.0}), _paid("staff", "y", 90, stores={"a": 1.0})
    )
    (failure,) = check_split(one, event)
    assert failure.contributor == stores[1]
    assert (
        str(failure)
        == "joint event scenario, deal d: the organising store b gets 0 fen at store level"
    )


# --- the gate ---------------------------------------------------------------------------------


@pytest.fixture
def scenarios_store(tmp_path: Path) -> Iterator[Store]:
    """The hand-built scenarios in a SQLite store with the default policy."""
    store = open_store(f"sqlite:///{tmp_path / 'gate.db'}")
    ingest_events(store, all_events())
    policy_service.ensure_default_policy(store)
    yield store
    store.close()


def _allowing(store: Store, model: str) -> str:
    toml = (
        f'name = "analysis"\neffective_from = 2024-11-01\nmodel = "{model}"\n'
        "analysis_models_for_pay = true\n"
    )
    record, _ = policy_service.add_policy(store, toml, "test")
    return record.id


def test_payable_names_the_scenario_and_the_way_out() -> None:
    for model in ANALYSIS_ONLY:
        spec = MODELS[model]
        with pytest.raises(CreditError) as caught:
            payable(model, Policy())
        message = str(caught.value)
        assert message.startswith(f"model {model!r} is analysis only: it fails the ")
        assert f"{SCENARIO_NAMES[spec.fails or '']} scenario ({spec.fails_because})" in message
        assert message.endswith(
            "set analysis_models_for_pay = true in the policy to pay with it anyway"
        )
        payable(model, Policy(analysis_models_for_pay=True))
    for model in FOR_PAY:
        payable(model, Policy())


@pytest.mark.skipif(not ANALYSIS_ONLY, reason="no model is marked analysis only")
def test_a_settlement_with_an_analysis_only_model_is_refused_unless_the_policy_allows_it(
    scenarios_store: Store,
) -> None:
    store, model = scenarios_store, ANALYSIS_ONLY[0]
    preview = credit_service.preview(store, "d-s5-1", model=model)
    assert preview.split.model == model
    with pytest.raises(InvalidRequest, match="analysis only") as caught:
        settlement_service.settle(store, "d-s5-1", requested_by="test", model=model)
    assert caught.value.problems[0][0] == "model"
    with pytest.raises(CreditError, match="analysis_models_for_pay = true"):
        next(settlement_service.settle_period(store, None, None, requested_by="test", model=model))
    assert store.ledger.settlement_history("d-s5-1") == []
    policy = _allowing(store, model)
    settlement, created = settlement_service.settle(
        store, "d-s5-1", requested_by="test", model=model, policy=policy
    )
    assert created and settlement.model == model
    *_, last = settlement_service.settle_period(
        store, None, None, requested_by="test", model=model, policy=policy
    )
    assert last.failures == 0 and last.created > 0


@pytest.mark.skipif(not ANALYSIS_ONLY, reason="no model is marked analysis only")
def test_a_batch_lists_the_deals_whose_policy_names_an_analysis_only_model(
    scenarios_store: Store,
) -> None:
    """A policy recorded before the marks (here: written straight to the store) that names an
    analysis-only model settles nothing with it: each deal fails with the message."""
    store, model = scenarios_store, ANALYSIS_ONLY[0]
    old = Policy(name="old", version="1", model=model, effective_from=Policy().effective_from)
    store.ledger.put_policy(policy_service.policy_record(old, "before the marks"))
    *_, last = settlement_service.settle_period(store, None, None, requested_by="test")
    assert last.created == 0 and last.failures > 0
    assert all("analysis only" in message for _, message in last.failed)


@pytest.mark.skipif(not ANALYSIS_ONLY, reason="no model is marked analysis only")
def test_storing_a_policy_with_an_analysis_only_model_is_refused_unless_it_allows_it(
    scenarios_store: Store,
) -> None:
    model = ANALYSIS_ONLY[0]
    toml = f'name = "analysis"\neffective_from = 2024-11-01\nmodel = "{model}"\n'
    with pytest.raises(InvalidRequest, match="analysis only") as caught:
        policy_service.add_policy(scenarios_store, toml, "test")
    assert caught.value.problems[0][0] == "policy.model"
    assert _allowing(scenarios_store, model) == "analysis@1"


@pytest.mark.skipif(not ANALYSIS_ONLY, reason="no model is marked analysis only")
def test_the_cli_refuses_with_exit_2_and_marks_the_models_in_its_help(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = ANALYSIS_ONLY[0]
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    store = open_store(url)
    ingest_events(store, all_events())
    store.close()
    assert main(["settle", "--store", url, "--deal", "d-s5-1", "--model", model]) == 2
    assert "analysis only" in capsys.readouterr().err
    policy = tmp_path / "analysis.toml"
    policy.write_text(f'name = "analysis"\neffective_from = 2024-11-01\nmodel = "{model}"\n')
    assert main(["policies", "add", str(policy), "--store", url]) == 2
    assert "analysis only" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["credit", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    for name in MODELS:
        marked = f"{name} (analysis only)" in help_text
        assert marked is (name in ANALYSIS_ONLY), name


# --- docstring examples -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "contribnet.credit.fairness",
        "contribnet.credit.registry",
        "contribnet.demo.generator",
        "contribnet.demo.scenarios",
    ],
)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
