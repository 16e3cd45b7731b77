"""Policies from TOML: defaults, unknown keys, bad values, region overrides."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from contribnet.domain.errors import ContribnetError
from contribnet.domain.policy import (
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
