"""The benefit policy file: the demo policy, a rule picked by date, errors naming the line."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import yaml

from server.benefits.policy import (
    DEMO_POLICY_PATH,
    FixedAmountRule,
    InsuranceType,
    Level,
    NoRuleError,
    PersonType,
    PolicyError,
    PooledRule,
    load_configured_policy,
    load_policy,
    person_of,
)
from server.settlement.rules import Scene


def test_the_shipped_demo_policy_loads_and_says_it_is_a_demo() -> None:
    policy = load_policy(DEMO_POLICY_PATH)
    assert policy.is_demo
    assert policy.pools.keys() == {"outpatient", "inpatient"}
    assert DEMO_POLICY_PATH.read_text(encoding="utf-8").startswith("# DEMO BENEFIT POLICY")


def test_without_policy_file_the_demo_policy_is_used(tmp_path: Path) -> None:
    assert load_configured_policy(None).path == str(DEMO_POLICY_PATH)
    assert load_configured_policy("").path == str(DEMO_POLICY_PATH)
    own = tmp_path / "own.yaml"
    own.write_text(VALID, encoding="utf-8")
    assert load_configured_policy(str(own)).name == "test"


def test_every_demo_rule_with_a_published_figure_cites_a_known_source() -> None:
    policy = load_policy(DEMO_POLICY_PATH)
    for version in policy.versions:
        for rule in version.rules.values():
            assert set(rule.sources) <= policy.sources.keys()
            if not rule.sources:
                assert "illustrative" in rule.name


def test_employee_outpatient_from_2023_has_no_annual_cap() -> None:
    policy = load_policy(DEMO_POLICY_PATH)
    for person_type in PersonType:
        for level in Level:
            rule = policy.rule_for("employee", person_type, "outpatient", level, date(2023, 1, 1))
            assert isinstance(rule, PooledRule)
            assert rule.cap_fen is None


def test_a_rule_is_picked_by_the_day_it_applies_on() -> None:
    policy = load_policy(DEMO_POLICY_PATH)
    last_2022 = policy.rule_for("employee", "in_service", "outpatient", "3", date(2022, 12, 31))
    first_2023 = policy.rule_for("employee", "in_service", "outpatient", "3", date(2023, 1, 1))
    assert isinstance(last_2022, PooledRule)
    assert isinstance(first_2023, PooledRule)
    assert last_2022.cap_fen == 2_000_000
    assert first_2023.cap_fen is None


@pytest.mark.parametrize(
    ("insurance_type", "person_type", "deductible_fen", "hospital_bp", "community_bp"),
    [("employee", "in_service", 180_000, 7000, 9000), ("employee", "retired", 130_000, 8500, 9000)],
)
def test_employee_outpatient_deductible_and_ratios_follow_the_published_figures(
    insurance_type: str, person_type: str, deductible_fen: int, hospital_bp: int, community_bp: int
) -> None:
    policy = load_policy(DEMO_POLICY_PATH)
    on = date(2023, 6, 1)
    for scene in (Scene.OUTPATIENT, Scene.PHARMACY_PRESCRIPTION):
        for level in Level:
            rule = policy.rule_for(insurance_type, person_type, scene, level, on)
            assert isinstance(rule, PooledRule)
            assert rule.pool == "outpatient"
            assert rule.deductible_fen == deductible_fen
            expected = community_bp if level is Level.COMMUNITY else hospital_bp
            assert rule.ratio_bp == expected


def test_a_pharmacy_prescription_counts_in_the_same_pool_as_hospital_outpatient() -> None:
    policy = load_policy(DEMO_POLICY_PATH)
    on = date(2023, 3, 3)
    at_hospital = policy.rule_for("employee", "in_service", "outpatient", "3", on)
    at_pharmacy = policy.rule_for("employee", "in_service", "pharmacy_prescription", "3", on)
    assert isinstance(at_hospital, PooledRule)
    assert isinstance(at_pharmacy, PooledRule)
    assert at_hospital.pool == at_pharmacy.pool == "outpatient"


def test_self_purchase_at_a_pharmacy_is_a_fixed_zero() -> None:
    policy = load_policy(DEMO_POLICY_PATH)
    for insurance_type in InsuranceType:
        rule = policy.rule_for(
            insurance_type, "in_service", "pharmacy_self_purchase", "1", date(2024, 5, 1)
        )
        assert isinstance(rule, FixedAmountRule)
        assert rule.fixed_fen == 0


def test_the_demo_covers_every_scene_but_cross_region_from_2023() -> None:
    policy = load_policy(DEMO_POLICY_PATH)
    on = date(2023, 1, 1)
    for scene in Scene:
        for insurance_type in InsuranceType:
            if scene is Scene.CROSS_REGION:
                with pytest.raises(NoRuleError, match="cross_region"):
                    policy.rule_for(insurance_type, "retired", scene, "2", on)
            else:
                policy.rule_for(insurance_type, "retired", scene, "2", on)


@pytest.mark.parametrize(
    ("args", "on", "why"),
    [
        (("employee", "in_service", "outpatient", "3"), date(2021, 12, 31), "no version"),
        (("resident", "in_service", "outpatient", "3"), date(2022, 6, 1), "does not cover"),
    ],
)
def test_no_rule_is_a_clear_error(args: tuple[str, str, str, str], on: date, why: str) -> None:
    policy = load_policy(DEMO_POLICY_PATH)
    with pytest.raises(NoRuleError, match=why) as caught:
        policy.rule_for(*args, on=on)
    assert caught.value.on == on


def test_a_value_outside_the_enums_is_a_bug_not_a_missing_rule() -> None:
    policy = load_policy(DEMO_POLICY_PATH)
    with pytest.raises(ValueError, match="'4'"):
        policy.rule_for("employee", "in_service", "outpatient", "4", date(2023, 1, 1))


@pytest.mark.parametrize(
    ("roster_value", "expected"),
    [
        ("employee", (InsuranceType.EMPLOYEE, PersonType.IN_SERVICE)),
        ("retiree", (InsuranceType.EMPLOYEE, PersonType.RETIRED)),
        ("resident", (InsuranceType.RESIDENT, PersonType.IN_SERVICE)),
    ],
)
def test_roster_insurance_types_map_to_the_policys_person(
    roster_value: str, expected: tuple[InsuranceType, PersonType]
) -> None:
    assert person_of(roster_value) == expected


def test_an_unknown_roster_insurance_type_is_refused() -> None:
    with pytest.raises(ValueError, match="pensioner"):
        person_of("pensioner")


# --- validation: one PolicyError naming the file and the line ----------------------------------
VALID = """\
format: 1
name: test
demo: true
sources:
  s1:
    title: A source
pools:
  outpatient:
    name: outpatient pool
versions:
  - effective_from: 2023-01-01
    covers:
      - insurance_types: [employee]
        person_types: [in_service]
        scenes: [outpatient, registration]
        levels: [3]
    rules:
      - name: registration
        insurance_types: [employee]
        person_types: [in_service]
        scenes: [registration]
        levels: [3]
        fixed_fen: 4000
      - name: outpatient
        insurance_types: [employee]
        person_types: [in_service]
        scenes: [outpatient]
        levels: [3]
        pool: outpatient
        deductible_fen: 180000
        ratio_bp: 7000
        sources: [s1]
"""

SECOND_VERSION = """\
  - effective_from: {start}
    covers:
      - insurance_types: [employee]
        person_types: [in_service]
        scenes: [registration]
        levels: [3]
    rules:
      - name: registration
        insurance_types: [employee]
        person_types: [in_service]
        scenes: [registration]
        levels: [3]
        fixed_fen: 4000
"""


def _line_of(text: str, marker: str) -> int:
    lines = [n for n, line in enumerate(text.splitlines(), start=1) if marker in line]
    assert len(lines) == 1, f"marker {marker!r} must be on exactly one line"
    return lines[0]


def test_a_valid_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(VALID, encoding="utf-8")
    policy = load_policy(path)
    rule = policy.rule_for("employee", "in_service", "outpatient", "3", date(2023, 1, 1))
    assert rule == PooledRule(
        name="outpatient",
        pool="outpatient",
        deductible_fen=180000,
        ratio_bp=7000,
        cap_fen=None,
        sources=("s1",),
        line=_line_of(VALID, "- name: outpatient"),
    )


def test_the_same_policy_in_json_loads_the_same(tmp_path: Path) -> None:
    data = yaml.safe_load(VALID)
    data["versions"][0]["effective_from"] = "2023-01-01"
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    yaml_path = tmp_path / "policy.yaml"
    yaml_path.write_text(VALID, encoding="utf-8")
    from_json = load_policy(path)
    from_yaml = load_policy(yaml_path)
    on = date(2023, 1, 1)
    for scene in ("outpatient", "registration"):
        a = from_json.rule_for("employee", "in_service", scene, "3", on)
        b = from_yaml.rule_for("employee", "in_service", scene, "3", on)
        assert (a.name, a.sources) == (b.name, b.sources)


# (what is wrong, text replaced, replacement, marker on the line the error names, message part)
BROKEN = [
    ("unknown key", "        fixed_fen: 4000", "        fixed_fen: 4000\n        colour: red",
     "colour: red", "unknown key 'colour'"),
    ("bad scene", "scenes: [outpatient]", "scenes: [surgery]", "scenes: [surgery]",
     "unknown scene 'surgery'"),
    ("bad level", "levels: [3]\n        pool", "levels: [4]\n        pool", "levels: [4]",
     "unknown level 4"),
    ("bad insurance type", "      - insurance_types: [employee]", "      - insurance_types: [army]",
     "insurance_types: [army]", "unknown insurance_type 'army'"),
    ("negative deductible", "deductible_fen: 180000", "deductible_fen: -1", "deductible_fen: -1",
     "cannot be negative"),
    ("yuan instead of fen", "fixed_fen: 4000", "fixed_fen: 40.00", "fixed_fen: 40.00",
     "whole number of fen"),
    ("ratio over 100 %", "ratio_bp: 7000", "ratio_bp: 10001", "ratio_bp: 10001",
     "basis points from 0 to 10000"),
    ("ratio as a fraction", "ratio_bp: 7000", "ratio_bp: 0.7", "ratio_bp: 0.7",
     "whole number"),
    ("unknown pool", "pool: outpatient", "pool: dental", "pool: dental",
     "unknown pool 'dental'"),
    ("unknown source", "sources: [s1]", "sources: [s2]", "sources: [s2]",
     "unknown source 's2'"),
    ("fixed and pooled at once", "fixed_fen: 4000", "fixed_fen: 4000\n        ratio_bp: 5000",
     "- name: registration", "cannot also have ratio_bp"),
    ("neither kind", "        fixed_fen: 4000\n", "", "- name: registration",
     "needs fixed_fen, or pool"),
    ("missing rule for a covered combination", "scenes: [outpatient, registration]",
     "scenes: [outpatient, registration, pharmacy_prescription]",
     "      - insurance_types: [employee]", "claims to cover employee/in_service/"
     "pharmacy_prescription/level 3"),
    ("rule outside the covers", "scenes: [registration]\n",
     "scenes: [registration, inpatient_discharge]\n", "- name: registration",
     "covers do not list"),
    ("two rules for one combination", "scenes: [registration]\n",
     "scenes: [registration, outpatient]\n", "- name: outpatient", "already matched by rule"),
    ("duplicate key", "ratio_bp: 7000", "ratio_bp: 7000\n        ratio_bp: 8000",
     "ratio_bp: 8000", "duplicate key 'ratio_bp'"),
    ("bad date", "effective_from: 2023-01-01", "effective_from: 2023-02-30",
     "effective_from: 2023-02-30", "date YYYY-MM-DD"),
    ("end before start", "    covers:", "    effective_until: 2022-01-01\n    covers:",
     "effective_until: 2022-01-01", "after effective_from"),
    ("overlapping versions", "        sources: [s1]\n",
     "        sources: [s1]\n" + SECOND_VERSION.format(start="2024-01-01"),
     "effective_from: 2024-01-01", "overlaps the version from 2023-01-01 on line 11"),
    ("wrong format", "format: 1", "format: 2", "format: 2", "format must be 1"),
    ("demo not a boolean", "demo: true", "demo: maybe", "demo: maybe", "true or false"),
    ("missing pools", "pools:\n  outpatient:\n    name: outpatient pool\n", "", "format: 1",
     "needs the key 'pools'"),
    ("broken YAML", "ratio_bp: 7000", "ratio_bp: [7000", "ratio_bp: [7000", "not valid YAML"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("old", "new", "marker", "message"),
    [case[1:] for case in BROKEN],
    ids=[case[0] for case in BROKEN],
)
def test_a_broken_policy_file_is_refused_naming_the_line(
    tmp_path: Path, old: str, new: str, marker: str, message: str
) -> None:
    assert old in VALID
    text = VALID.replace(old, new, 1)
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    error = caught.value
    assert message in error.problem
    if message != "not valid YAML":  # the parser names where it noticed, a line or two later
        assert error.line == _line_of(text, marker)
    assert str(error).startswith(f"{path}:{error.line}: ")


def test_versions_that_follow_each_other_do_not_overlap(tmp_path: Path) -> None:
    text = VALID.replace(
        "    covers:", "    effective_until: 2024-01-01\n    covers:", 1
    ) + SECOND_VERSION.format(start="2024-01-01")
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    policy = load_policy(path)
    with pytest.raises(NoRuleError):
        policy.rule_for("employee", "in_service", "outpatient", "3", date(2024, 1, 1))
    policy.rule_for("employee", "in_service", "outpatient", "3", date(2023, 12, 31))


def test_broken_json_is_refused_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "policy.json"
    path.write_text('{\n  "format": 1,\n  "name": "x",\n}\n', encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert caught.value.line == 4
    assert "not valid JSON" in str(caught.value)


def test_a_missing_file_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(PolicyError, match="cannot read") as caught:
        load_policy(path)
    assert caught.value.line is None
    assert str(caught.value).startswith(str(path))


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="empty"):
        load_policy(path)
