"""The fund's share of one bill (统筹基金支付), from a benefit rule and the person's year so far.

Pure: no Flask, no SQLAlchemy, no pydantic. Implements issue 11's engine: the eligible amount
(符合范围金额) is the bill less its out-of-scope parts; a pooled rule takes what is left of the
year's deductible (起付线) from it, pays its ratio (报销比例) of the rest, and stops at the year's
cap (封顶线). Every amount is an integer number of fen, every ratio basis points, and the one
rounding (ratio times amount) is to the nearest fen, half up, in integer arithmetic.

A settlement records the `YearDelta` it added to the person's accumulators; its refund subtracts
exactly that delta (`reverse`), even when later visits came in between. Later settlements are
never recomputed, so the accumulators always equal the sum of the deltas of the settlements not
refunded. docs/benefit-policy.md explains this choice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from server.benefits.policy import FULL_RATIO_BP, FixedAmountRule, PooledRule, Rule
from server.clock import beijing_date


def _is_fen(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _require_fen(name: str, value: int) -> None:
    if not _is_fen(value) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer number of fen, got {value!r}")


def ratio_of(amount_fen: int, ratio_bp: int) -> int:
    """`ratio_bp` basis points of `amount_fen`, rounded to the nearest fen, half up.

    Integer arithmetic only: floor((amount * ratio + 5000) / 10000). For the non-negative
    amounts used here half up and half away from zero agree (882.644 → 882.64; 0.5 fen → 1).
    """
    _require_fen("amount_fen", amount_fen)
    if not _is_fen(ratio_bp) or not 0 <= ratio_bp <= FULL_RATIO_BP:
        raise ValueError(f"ratio_bp must be 0..{FULL_RATIO_BP}, got {ratio_bp!r}")
    return (amount_fen * ratio_bp + FULL_RATIO_BP // 2) // FULL_RATIO_BP


def benefit_year(at: datetime) -> int:
    """The calendar year an instant's settlement counts in: Beijing's, which turns at midnight."""
    return beijing_date(at).year


@dataclass(frozen=True)
class Bill:
    """A bill as the institution sends it: the total and the parts outside the policy.

    fulamt_ownpay_fen: fully self-paid items (全自费); preselfpay_fen: the part of category-B
    items the person pays first (先行自付); overlmt_selfpay_fen: amounts over a price limit
    (超限价自付). What remains is the eligible amount (符合范围金额).
    """

    total_fen: int
    fulamt_ownpay_fen: int = 0
    preselfpay_fen: int = 0
    overlmt_selfpay_fen: int = 0

    def __post_init__(self) -> None:
        for name in ("total_fen", "fulamt_ownpay_fen", "preselfpay_fen", "overlmt_selfpay_fen"):
            _require_fen(name, getattr(self, name))
        if self.out_of_scope_fen > self.total_fen:
            raise ValueError("the out-of-scope parts add up to more than the bill")

    @property
    def out_of_scope_fen(self) -> int:
        return self.fulamt_ownpay_fen + self.preselfpay_fen + self.overlmt_selfpay_fen

    @property
    def eligible_fen(self) -> int:
        return self.total_fen - self.out_of_scope_fen


@dataclass(frozen=True)
class YearDelta:
    """What one settlement adds to the person's accumulators of one pool and year."""

    deductible_used_fen: int = 0
    fund_paid_fen: int = 0

    def __post_init__(self) -> None:
        _require_fen("deductible_used_fen", self.deductible_used_fen)
        _require_fen("fund_paid_fen", self.fund_paid_fen)

    @property
    def is_zero(self) -> bool:
        return self.deductible_used_fen == 0 and self.fund_paid_fen == 0


@dataclass(frozen=True)
class YearToDate:
    """One person's accumulators for one pool and one Beijing calendar year (年度累计)."""

    deductible_used_fen: int = 0
    fund_paid_fen: int = 0

    def __post_init__(self) -> None:
        _require_fen("deductible_used_fen", self.deductible_used_fen)
        _require_fen("fund_paid_fen", self.fund_paid_fen)

    def apply(self, delta: YearDelta) -> YearToDate:
        """The accumulators after a settlement that recorded `delta`."""
        return YearToDate(
            deductible_used_fen=self.deductible_used_fen + delta.deductible_used_fen,
            fund_paid_fen=self.fund_paid_fen + delta.fund_paid_fen,
        )

    def reverse(self, delta: YearDelta) -> YearToDate:
        """The accumulators after refunding a settlement that recorded `delta`.

        Subtracts exactly that settlement's own delta, whatever came after it. Raises ValueError
        when the result would be negative: the delta was never applied to this year and pool.
        """
        deductible = self.deductible_used_fen - delta.deductible_used_fen
        fund = self.fund_paid_fen - delta.fund_paid_fen
        if deductible < 0 or fund < 0:
            raise ValueError("this delta was never added to these accumulators")
        return YearToDate(deductible_used_fen=deductible, fund_paid_fen=fund)


@dataclass(frozen=True)
class FundDetail:
    """Why the fund pays what it pays: the terminal's `fund_detail` object."""

    rule_name: str
    pool: str | None  # None for a fixed amount per visit, which no pool counts
    eligible_fen: int
    deductible_applied_fen: int
    ratio_bp: int | None  # None for a fixed amount per visit
    fixed_fen: int | None  # None for a pooled rule
    cap_left_fen: int | None  # the year's cap left after this bill; None when uncapped

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule_name,
            "pool": self.pool,
            "eligible_fen": self.eligible_fen,
            "deductible_applied_fen": self.deductible_applied_fen,
            "ratio_bp": self.ratio_bp,
            "fixed_fen": self.fixed_fen,
            "cap_left_fen": self.cap_left_fen,
        }


@dataclass(frozen=True)
class FundShare:
    """The fund's share of a bill, the burden left, the explanation and the accumulator delta."""

    total_fen: int
    fund_fen: int
    detail: FundDetail
    delta: YearDelta

    @property
    def personal_burden_fen(self) -> int:
        return self.total_fen - self.fund_fen


def compute_fund_share(rule: Rule, bill: Bill, year: YearToDate) -> FundShare:
    """What the pooled fund pays for `bill` under `rule`, given the person's `year` in its pool.

    Fixed amount per visit: the fund pays the fixed amount, at most the eligible amount, and
    nothing is counted in a pool. Pooled rule: deductible_applied = min(eligible, deductible
    left this year); the fund pays ratio × (eligible − deductible_applied), rounded half up to
    the fen, then at most the cap left this year. `year` must be the accumulators of the rule's
    pool for the Beijing year of the settlement. Raises ValueError for a rule of another kind.
    """
    eligible = bill.eligible_fen
    if isinstance(rule, FixedAmountRule):
        fund = min(rule.fixed_fen, eligible)
        detail = FundDetail(
            rule_name=rule.name,
            pool=None,
            eligible_fen=eligible,
            deductible_applied_fen=0,
            ratio_bp=None,
            fixed_fen=rule.fixed_fen,
            cap_left_fen=None,
        )
        return FundShare(total_fen=bill.total_fen, fund_fen=fund, detail=detail, delta=YearDelta())
    if not isinstance(rule, PooledRule):
        raise ValueError(f"not a benefit rule: {rule!r}")
    deductible_left = max(0, rule.deductible_fen - year.deductible_used_fen)
    deductible_applied = min(eligible, deductible_left)
    fund = ratio_of(eligible - deductible_applied, rule.ratio_bp)
    cap_left_after: int | None = None
    if rule.cap_fen is not None:
        cap_left = max(0, rule.cap_fen - year.fund_paid_fen)
        fund = min(fund, cap_left)
        cap_left_after = cap_left - fund
    detail = FundDetail(
        rule_name=rule.name,
        pool=rule.pool,
        eligible_fen=eligible,
        deductible_applied_fen=deductible_applied,
        ratio_bp=rule.ratio_bp,
        fixed_fen=None,
        cap_left_fen=cap_left_after,
    )
    delta = YearDelta(deductible_used_fen=deductible_applied, fund_paid_fen=fund)
    return FundShare(total_fen=bill.total_fen, fund_fen=fund, detail=detail, delta=delta)
