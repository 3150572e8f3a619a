"""The benefit policy (待遇政策) as data: the enums, the frozen rule tables and Policy.rule_for.

Pure: no Flask, no SQLAlchemy, no pydantic. server/benefits/policy_file.py reads and validates a
policy file into these values; server/benefits/policy.py re-exports both. Every amount is an
integer number of fen; ratios are basis points.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from server.settlement.rules import Scene

FULL_RATIO_BP = 10_000  # 100.00 %


class InsuranceType(StrEnum):
    EMPLOYEE = "employee"  # 职工基本医疗保险
    RESIDENT = "resident"  # 城乡居民基本医疗保险


class PersonType(StrEnum):
    IN_SERVICE = "in_service"  # 在职
    RETIRED = "retired"  # 退休


class Level(StrEnum):
    """The institution's level; a pharmacy bill takes the level of the prescribing hospital."""

    COMMUNITY = "community"  # 社区卫生服务机构
    FIRST = "1"  # 一级
    SECOND = "2"  # 二级
    THIRD = "3"  # 三级


RuleKey = tuple[InsuranceType, PersonType, Scene, Level]

# The roster's insurance_type (server/roster/rules.py) names the person, not only the scheme.
# The roster keeps no age class for residents, so a resident is looked up as in service.
_ROSTER_PERSON: Mapping[str, tuple[InsuranceType, PersonType]] = {
    "employee": (InsuranceType.EMPLOYEE, PersonType.IN_SERVICE),
    "retiree": (InsuranceType.EMPLOYEE, PersonType.RETIRED),
    "resident": (InsuranceType.RESIDENT, PersonType.IN_SERVICE),
}


def person_of(roster_insurance_type: str) -> tuple[InsuranceType, PersonType]:
    """The policy's (insurance type, person type) for a roster row's `insurance_type`.

    Raises ValueError for a value the roster never stores.
    """
    try:
        return _ROSTER_PERSON[roster_insurance_type]
    except KeyError:
        raise ValueError(f"unknown roster insurance_type {roster_insurance_type!r}") from None


class NoRuleError(LookupError):
    """No rule of the policy applies to this person, scene, level and day."""

    def __init__(self, key: RuleKey, on: date, why: str) -> None:
        self.key = key
        self.on = on
        insurance_type, person_type, scene, level = key
        super().__init__(
            f"no benefit rule for {insurance_type.value}/{person_type.value}/{scene.value}/"
            f"level {level.value} on {on.isoformat()}: {why}"
        )


@dataclass(frozen=True)
class Source:
    """A published text a figure comes from."""

    id: str
    title: str
    publisher: str | None
    published: date | None
    note: str | None


@dataclass(frozen=True)
class Pool:
    """A pool counted per person and calendar year: its own deductible used and fund paid."""

    id: str
    name: str


@dataclass(frozen=True)
class FixedAmountRule:
    """The fund pays a fixed amount per visit (at most the eligible amount); no pool counts it."""

    name: str
    fixed_fen: int
    sources: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class PooledRule:
    """A deductible per year (起付线), then a ratio (报销比例), up to an optional cap (封顶线)."""

    name: str
    pool: str
    deductible_fen: int
    ratio_bp: int
    cap_fen: int | None
    sources: tuple[str, ...]
    line: int


Rule = FixedAmountRule | PooledRule


@dataclass(frozen=True)
class PolicyVersion:
    """The complete rule table in force from `effective_from` until `effective_until` (excluded)."""

    effective_from: date
    effective_until: date | None
    rules: Mapping[RuleKey, Rule]
    line: int

    def is_in_force(self, on: date) -> bool:
        return self.effective_from <= on and (
            self.effective_until is None or on < self.effective_until
        )


@dataclass(frozen=True)
class Policy:
    name: str
    is_demo: bool
    description: str | None
    path: str
    sources: Mapping[str, Source]
    pools: Mapping[str, Pool]
    versions: tuple[PolicyVersion, ...]

    def rule_for(
        self,
        insurance_type: InsuranceType | str,
        person_type: PersonType | str,
        scene: Scene | str,
        level: Level | str,
        on: date,
    ) -> Rule:
        """The rule for this combination in the version in force on `on` (a Beijing date).

        Raises ValueError for a value outside the enums, and NoRuleError when no version is in
        force that day or the version in force does not cover the combination.
        """
        key: RuleKey = (
            InsuranceType(insurance_type),
            PersonType(person_type),
            Scene(scene),
            Level(level),
        )
        for version in self.versions:
            if version.is_in_force(on):
                rule = version.rules.get(key)
                if rule is None:
                    raise NoRuleError(
                        key, on, f"the version from {version.effective_from} does not cover it"
                    )
                return rule
        raise NoRuleError(key, on, "no version of the policy is in force that day")
