"""The fund's share of a bill at settlement, from the benefit policy and the person's year.

Issue 11; docs/benefit-policy.md, "What the settlement integration does". Runs inside the
settlement's transaction: `share_of` looks the rule up for the person, the institution's level,
the scene and the Beijing date, and computes the share against the accumulators (locked for a
settlement, read only for a preview).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.benefits import service as years
from server.benefits.engine import Bill, FundShare, YearToDate, benefit_year, compute_fund_share
from server.benefits.policy import Level, NoRuleError, Policy, PooledRule, Rule, person_of
from server.clock import beijing_date
from server.db.models import Institution, Person
from server.errors import InvalidAmountError
from server.settlement import rules
from server.settlement.rules import Scene

# A pharmacy has no level of its own: its prescription bills take the prescribing hospital's,
# which the bill does not carry yet, so they are looked up at level 3 (the worked examples').
DEFAULT_LEVEL = Level.THIRD


def bill_of(
    *, total_fen: int, fulamt_ownpay_fen: int, preselfpay_fen: int, overlmt_selfpay_fen: int
) -> Bill:
    """The bill with its out-of-scope parts; INVALID_AMOUNT for a total that cannot be, a negative
    part or too many."""
    rules.check_total(total_fen)
    for name, value in (
        ("fulamt_ownpay_fen", fulamt_ownpay_fen),
        ("preselfpay_fen", preselfpay_fen),
        ("overlmt_selfpay_fen", overlmt_selfpay_fen),
    ):
        if value < 0:
            raise InvalidAmountError(f"{name} cannot be negative", reason="part_negative")
    if fulamt_ownpay_fen + preselfpay_fen + overlmt_selfpay_fen > total_fen:
        raise InvalidAmountError(
            "The out-of-scope parts add up to more than total_fen", reason="parts_exceed_total"
        )
    return Bill(total_fen, fulamt_ownpay_fen, preselfpay_fen, overlmt_selfpay_fen)


@dataclass(frozen=True)
class Priced:
    """The share, and where its delta counts: pool and Beijing year (None for a fixed amount)."""

    share: FundShare
    pool: str | None
    year: int | None
    before: YearToDate


def rule_of(
    policy: Policy,
    *,
    insurance_type: str,
    person_type: str,
    level: str | None,
    scene: Scene,
    now: datetime,
) -> Rule:
    """The rule for the person (roster `insurance_type`, `person_type`), the institution's level
    (a pharmacy's is DEFAULT_LEVEL), the scene and the Beijing date of `now`.

    Raises InvalidAmountError (reason `no_benefit_rule`) when the policy has none.
    """
    scheme, _ = person_of(insurance_type)
    try:
        return policy.rule_for(
            scheme, person_type, scene, level or DEFAULT_LEVEL, beijing_date(now)
        )
    except NoRuleError as exc:
        raise InvalidAmountError(
            f"{exc}; send fund_fen for this bill", reason="no_benefit_rule"
        ) from None


def share_of(
    session: Session,
    *,
    policy: Policy,
    person_id: int,
    institution_id: int,
    scene: Scene,
    bill: Bill,
    now: datetime,
    lock: bool,
) -> Priced:
    """What the fund pays for `bill`. With `lock`, the pool's row is created and locked.

    Raises InvalidAmountError (reason `no_benefit_rule`) when the policy has no rule for the
    person, scene, level and day: the terminal must then send fund_fen.
    """
    insurance_type, person_type = session.execute(
        select(Person.insurance_type, Person.person_type).where(Person.id == person_id)
    ).one()
    level = session.scalar(select(Institution.level).where(Institution.id == institution_id))
    rule = rule_of(
        policy,
        insurance_type=insurance_type,
        person_type=person_type,
        level=level,
        scene=scene,
        now=now,
    )
    if not isinstance(rule, PooledRule):
        return Priced(compute_fund_share(rule, bill, YearToDate()), None, None, YearToDate())
    year = benefit_year(now)
    read = years.lock_year if lock else years.read_year
    before = read(session, person_id=person_id, pool=rule.pool, year=year)
    return Priced(compute_fund_share(rule, bill, before), rule.pool, year, before)
