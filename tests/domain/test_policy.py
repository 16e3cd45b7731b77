"""Policies from TOML: defaults, unknown keys, bad values, region overrides."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from contribnet.domain.errors import ContribnetError
from contribnet.domain.policy import (
    MAX_WEIGHT,
    MODEL_NAMES,
    InvalidPolicy,
    Policy,
    default_policy,
    load_policy,
)
from contribnet.paths import POLICIES_DIR

DEFAULT = POLICIES_DIR / "default.toml"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_toml_is_the_built_in_default() -> None:
    loaded = load_policy(DEFAULT).model_dump()
    built_in = Policy().model_dump()
    loaded.pop("description")
    built_in.pop("description")
    assert loaded == built_in
    assert default_policy().model_dump(exclude={"description"}) == built_in


def _keys(table: dict, prefix: str = "") -> set[str]:  # type: ignore[type-arg]
    keys = set()
    for k, v in table.items():
        keys.add(prefix + k)
        if isinstance(v, dict) and k not in ("stage_weights", "region_stage_weights"):
            keys |= _keys(v, prefix + k + ".")
    return keys


def test_default_toml_sets_and_comments_every_key() -> None:
    text = DEFAULT.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    expected = set(Policy.model_fields)
    for name in ("position_based", "w_shaped", "role_shares"):
        sub = type(getattr(Policy(), name))
        expected |= {f"{name}.{k}" for k in sub.model_fields}
    assert _keys(data) == expected
    assert set(data["stage_weights"]) == set(Policy().stage_weights)
    commented = False  # a comment since the last blank line documents the keys below it
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            commented = False
        elif stripped.startswith("#"):
            commented = True
        elif "=" in stripped:
            key = stripped.split("=")[0].strip()
            assert commented or "#" in stripped, f"{key} is not documented"


def test_missing_keys_take_their_defaults(tmp_path: Path) -> None:
    policy = load_policy(_write(tmp_path, 'name = "tiny"\n[position_based]\nfirst = 0.5\n'))
    assert policy.name == "tiny"
    assert policy.position_based.first == 0.5
    assert policy.position_based.last == 0.4
    assert policy.half_life_days == 7.0 and policy.model == "stage_weighted"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("half_lief_days = 3\n", "unknown key 'half_lief_days'"),
        ("[position_based]\nfrist = 0.5\n", "unknown key 'position_based.frist'"),
        ("[role_shares]\nbuyer = 0.5\n", "unknown key 'role_shares.buyer'"),
        ("saturation = 0\n", "saturation:"),
        ("half_life_days = 'week'\n", "half_life_days:"),
        ("model = 'random'\n", "unknown model 'random'"),
        ("markov_order = 5\n", "markov_order:"),
        ("floor = 0.5\ncap = 0.4\n", "floor 0.5 is above cap 0.4"),
        ("[stage_weights]\nlead = -1\n", "stage_weights.lead:"),
        ("role_fallback = 'boss'\n", "unknown role fallback 'boss'"),
        ("owner_referrals = 'beer'\n", "owner_referrals:"),
        ("name = \n", "not TOML"),
    ],
)
def test_bad_policies_name_the_key(tmp_path: Path, text: str, problem: str) -> None:
    with pytest.raises(InvalidPolicy) as info:
        load_policy(_write(tmp_path, text))
    assert problem in str(info.value)
    assert isinstance(info.value, ContribnetError)


def test_missing_file_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidPolicy, match="cannot read"):
        load_policy(tmp_path / "absent.toml")


def test_region_overrides_single_stage_weights() -> None:
    policy = load_policy(POLICIES_DIR / "east-region.toml")
    east = policy.for_region("East")
    assert east.stage_weights["reception"] == 5.0
    assert east.stage_weights["test_drive"] == 30.0
    assert east.stage_weights["order"] == policy.stage_weights["order"]
    assert policy.for_region("West") is policy
    assert policy.for_region(None) is policy


def test_unlisted_stages_weigh_zero_and_every_model_name_is_valid() -> None:
    assert Policy().weight("mystery") == 0.0
    for name in MODEL_NAMES:
        assert Policy(model=name).model == name


def test_every_policy_in_the_folder_loads() -> None:
    for path in sorted(POLICIES_DIR.glob("*.toml")):
        assert load_policy(path).name


# --- issue 12: every unreadable or invalid policy is a clear error, found when stored ----------


def test_outcome_stages_and_analysis_models_for_pay_defaults(tmp_path: Path) -> None:
    policy = Policy()
    assert policy.outcome_stages == ("quote", "order", "delivery")
    assert policy.analysis_models_for_pay is False
    loaded = load_policy(
        _write(tmp_path, 'outcome_stages = ["order"]\nanalysis_models_for_pay = true\n')
    )
    assert loaded.outcome_stages == ("order",)
    assert loaded.analysis_models_for_pay is True


def test_a_policy_that_is_not_utf8_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('description = "Politique révisée"\n'.encode("latin-1"))
    with pytest.raises(InvalidPolicy) as info:
        load_policy(path)
    assert str(path) in str(info.value) and "UTF-8" in str(info.value)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[stage_weights]\ntest_drive = 1e308\n", "stage_weights.test_drive"),
        ("[stage_weights]\ntest_drive = 1000001\n", "stage_weights.test_drive"),
        ("[stage_weights]\ntest_drive = inf\n", "stage_weights.test_drive"),
        ("[stage_weights]\ntest_drive = nan\n", "stage_weights.test_drive"),
        ("[region_stage_weights.East]\nlead = 1e300\n", "region_stage_weights.East.lead"),
        ("[position_based]\nfirst = 1e308\n", "position_based.first"),
        ("[role_shares]\ncloser = 1e308\n", "role_shares.closer"),
        ("conversion_smoothing = 1e308\n", "conversion_smoothing"),
        ("lookback_days = 1e9\n", "lookback_days"),  # beyond the calendar: a date overflow
        ("dedup_minutes = 1e300\n", "dedup_minutes"),
        ("half_life_days = 1e300\n", "half_life_days"),
        ("owner_points = 10000000000000000\n", "owner_points"),
    ],
)
def test_absurd_numbers_are_refused_naming_the_key(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(InvalidPolicy) as info:
        load_policy(_write(tmp_path, text))
    assert f"{key}:" in str(info.value)


def test_the_largest_weights_allowed_still_split_every_model_exactly() -> None:
    from contribnet.credit import build_context, compute_split
    from contribnet.demo.scenarios import SCENARIOS, deal_journey

    # Only ratios matter: the default weights scaled up to the bound split as the defaults do.
    base = Policy()
    scale = MAX_WEIGHT / max(base.stage_weights.values())
    huge = Policy(stage_weights={k: w * scale for k, w in base.stage_weights.items()})
    grab = next(s for s in SCENARIOS if s.key == "order_grabbing")
    journey = deal_journey(grab.events, grab.checks[0].deal)
    paths = [(("lead", "test_drive", "order"), True), (("lead",), False)]
    for model in MODEL_NAMES:
        expected = compute_split(journey, base, model, build_context(paths, base))
        split = compute_split(journey, huge, model, build_context(paths, huge))
        assert sum(a.amount for a in split.allocations) == split.pool, model
        got = {a.id: a.amount for a in split.allocations}
        for a in expected.allocations:
            assert abs(got[a.id] - a.amount) <= 1, model


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('half_life_days = "7"\n', "half_life_days"),
        ('[stage_weights]\nlead = "10"\n', "stage_weights.lead"),
        ('floor = "0.1"\n', "floor"),
        ('markov_order = "2"\n', "markov_order"),
        ("markov_order = 2.0\n", "markov_order"),
        ("owner_points = 10.5\n", "owner_points"),
        ('analysis_models_for_pay = "yes"\n', "analysis_models_for_pay"),
        ("saturation = true\n", "saturation"),
    ],
)
def test_numbers_are_never_read_from_strings(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(InvalidPolicy) as info:
        load_policy(_write(tmp_path, text))
    assert f"{key}:" in str(info.value)


def test_toml_integers_still_work_for_float_keys(tmp_path: Path) -> None:
    policy = load_policy(
        _write(tmp_path, "half_life_days = 3\ncap = 1\n[stage_weights]\nlead = 12\n")
    )
    assert policy.half_life_days == 3.0 and isinstance(policy.half_life_days, float)
    assert policy.stage_weights["lead"] == 12.0 and policy.cap == 1.0


def test_toml_syntax_errors_name_the_line(tmp_path: Path) -> None:
    with pytest.raises(InvalidPolicy, match="line 2"):
        load_policy(_write(tmp_path, 'name = "x"\nmodel = \n'))


def test_stored_policies_are_checked_when_parsed() -> None:
    from contribnet.domain.settlement import InvalidRequest
    from contribnet.services.policies import parse_policy

    for data, field in (
        (
            {"effective_from": "2025-04-01", "stage_weights": {"test_drive": 1e308}},
            "policy.stage_weights.test_drive",
        ),
        ({"effective_from": "2025-04-01", "half_life_days": "7"}, "policy.half_life_days"),
        (
            "effective_from = 2025-04-01\n[stage_weights]\nlead = 1e308\n",
            "policy.stage_weights.lead",
        ),
    ):
        with pytest.raises(InvalidRequest) as info:
            parse_policy(data)
        assert [f for f, _ in info.value.problems] == [field]
    policy, _ = parse_policy({"effective_from": "2025-04-01", "stage_weights": {"lead": 3}})
    assert policy.stage_weights == {"lead": 3.0}


def test_cli_refuses_a_policy_that_is_not_utf8(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from contribnet.cli import main

    bad = tmp_path / "bad.toml"
    bad.write_bytes(b'effective_from = 2025-03-01\ndescription = "\xff\xfe"\n')
    url = f"sqlite:///{tmp_path / 'p.db'}"
    assert main(["policies", "add", str(bad), "--store", url]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "UTF-8" in err and "Traceback" not in err
    events = tmp_path / "events.jsonl"
    events.write_text("")
    assert main(["credit", "--events", str(events), "--deal", "d-1", "--policy", str(bad)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "UTF-8" in err


def test_cli_refuses_absurd_weights_naming_the_key(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from contribnet.cli import main

    bad = tmp_path / "huge.toml"
    bad.write_text("effective_from = 2025-03-01\n[stage_weights]\ntest_drive = 1e308\n")
    url = f"sqlite:///{tmp_path / 'p.db'}"
    assert main(["policies", "add", str(bad), "--store", url]) == 2
    assert "policy.stage_weights.test_drive" in capsys.readouterr().err
