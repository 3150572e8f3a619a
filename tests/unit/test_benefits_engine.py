"""The fund's share of a bill: the worked examples, the rounding, a year of visits, properties.

Worked examples from the Beijing 医保 Q&A of March 2023 (DOMAIN.md, source 003), in fen, for an
in-service employee under the demo policy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.benefits.engine import (
    Bill,
    FundShare,
    YearDelta,
    YearToDate,
    benefit_year,
    compute_fund_share,
    ratio_of,
)
from server.benefits.policy import (
    DEMO_POLICY_PATH,
    FixedAmountRule,
    Policy,
    PooledRule,
    load_policy,
)
from server.clock import BEIJING, beijing_date
from server.settlement.rules import Scene

DEMO = load_policy(DEMO_POLICY_PATH)
MARCH_2023 = date(2023, 3, 3)
PAST_DEDUCTIBLE = YearToDate(deductible_used_fen=180_000, fund_paid_fen=0)

# (scene, level, total, the person's outpatient year before, fund, personal burden)
WORKED_EXAMPLES = [
    (Scene.REGISTRATION, "3", 5000, YearToDate(), 4000, 1000),
    (Scene.OUTPATIENT, "3", 126092, PAST_DEDUCTIBLE, 88264, 37828),
    (Scene.PHARMACY_PRESCRIPTION, "3", 84077, PAST_DEDUCTIBLE, 58854, 25223),
    (Scene.PHARMACY_SELF_PURCHASE, "3", 84077, PAST_DEDUCTIBLE, 0, 84077),
]


@pytest.mark.parametrize(("scene", "level", "total", "year", "fund", "burden"), WORKED_EXAMPLES)
def test_the_demo_policy_reproduces_the_worked_examples(
    scene: Scene, level: str, total: int, year: YearToDate, fund: int, burden: int
) -> None:
    rule = DEMO.rule_for("employee", "in_service", scene, level, MARCH_2023)
    share = compute_fund_share(rule, Bill(total_fen=total), year)
    assert (share.fund_fen, share.personal_burden_fen) == (fund, burden)


def test_registration_is_a_fixed_amount_per_visit_that_no_pool_counts() -> None:
    rule = DEMO.rule_for("employee", "in_service", "registration", "3", MARCH_2023)
    share = compute_fund_share(rule, Bill(total_fen=5000), YearToDate())
    assert share.delta == YearDelta()
    assert share.detail.as_dict() == {
        "rule": "registration, level 3",
        "pool": None,
        "eligible_fen": 5000,
        "deductible_applied_fen": 0,
        "ratio_bp": None,
        "fixed_fen": 4000,
        "cap_left_fen": None,
    }


def test_a_fixed_amount_is_at_most_the_eligible_amount() -> None:
    rule = FixedAmountRule(name="registration", fixed_fen=4000, sources=(), line=1)
    assert compute_fund_share(rule, Bill(total_fen=3000), YearToDate()).fund_fen == 3000
    with_own_pay = Bill(total_fen=5000, fulamt_ownpay_fen=2000)
    assert compute_fund_share(rule, with_own_pay, YearToDate()).fund_fen == 3000


def test_the_outpatient_example_explains_itself_in_fund_detail() -> None:
    rule = DEMO.rule_for("employee", "in_service", "outpatient", "3", MARCH_2023)
    share = compute_fund_share(rule, Bill(total_fen=126092), PAST_DEDUCTIBLE)
    assert share.detail.as_dict() == {
        "rule": "employee in service, outpatient at a hospital",
        "pool": "outpatient",
        "eligible_fen": 126092,
        "deductible_applied_fen": 0,
        "ratio_bp": 7000,
        "fixed_fen": None,
        "cap_left_fen": None,
    }
    assert share.delta == YearDelta(deductible_used_fen=0, fund_paid_fen=88264)


def test_the_ratio_applies_to_the_in_scope_remainder_only() -> None:
    rule = DEMO.rule_for("employee", "in_service", "outpatient", "3", MARCH_2023)
    # 1,500.00 billed: 100.00 全自费, 200.00 先行自付 (category B), 50.00 over a price limit.
    bill = Bill(
        total_fen=150_000,
        fulamt_ownpay_fen=10_000,
        preselfpay_fen=20_000,
        overlmt_selfpay_fen=5_000,
    )
    share = compute_fund_share(rule, bill, PAST_DEDUCTIBLE)
    assert share.detail.eligible_fen == 115_000
    assert share.fund_fen == 80_500  # 70 % of 1,150.00
    assert share.personal_burden_fen == 69_500


def test_a_deductible_crossed_mid_visit_is_paid_first_then_the_ratio() -> None:
    rule = DEMO.rule_for("employee", "in_service", "outpatient", "3", MARCH_2023)
    # 1,700.00 of the 1,800.00 deductible already used; a 1,100.00 bill uses the last 100.00.
    share = compute_fund_share(rule, Bill(total_fen=110_000), YearToDate(170_000, 0))
    assert share.detail.deductible_applied_fen == 10_000
    assert share.fund_fen == 70_000  # 70 % of 1,000.00
    assert share.delta == YearDelta(deductible_used_fen=10_000, fund_paid_fen=70_000)


def test_below_the_deductible_the_fund_pays_nothing() -> None:
    rule = DEMO.rule_for("employee", "retired", "outpatient", "community", MARCH_2023)
    share = compute_fund_share(rule, Bill(total_fen=129_999), YearToDate())
    assert share.fund_fen == 0
    assert share.delta == YearDelta(deductible_used_fen=129_999, fund_paid_fen=0)


def test_the_fund_stops_at_the_cap_left_this_year() -> None:
    rule = PooledRule(
        name="capped", pool="outpatient", deductible_fen=0, ratio_bp=5000, cap_fen=450_000,
        sources=(), line=1,
    )  # fmt: skip
    share = compute_fund_share(rule, Bill(total_fen=100_000), YearToDate(0, 420_000))
    assert share.fund_fen == 30_000
    assert share.detail.cap_left_fen == 0
    after = compute_fund_share(rule, Bill(total_fen=100_000), YearToDate(0, 450_000))
    assert after.fund_fen == 0


@pytest.mark.parametrize(
    ("amount_fen", "ratio_bp", "expected"),
    [
        (126092, 7000, 88264),  # 882.644 -> 882.64
        (84077, 7000, 58854),  # 588.539 -> 588.54
        (1, 5000, 1),  # half a fen rounds up
        (3, 5000, 2),  # 1.5 -> 2
        (1, 4999, 0),  # under half a fen rounds down
        (5, 1000, 1),  # 0.5 -> 1
        (0, 7000, 0),
        (99_999_999, 10000, 99_999_999),
        (99_999_999, 0, 0),
    ],
)
def test_the_ratio_rounds_to_the_nearest_fen_half_up(
    amount_fen: int, ratio_bp: int, expected: int
) -> None:
    assert ratio_of(amount_fen, ratio_bp) == expected


@pytest.mark.parametrize(("amount_fen", "ratio_bp"), [(-1, 5000), (100, 10001), (100, -1)])
def test_ratio_of_refuses_impossible_inputs(amount_fen: int, ratio_bp: int) -> None:
    with pytest.raises(ValueError):
        ratio_of(amount_fen, ratio_bp)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"total_fen": -1},
        {"total_fen": 100, "fulamt_ownpay_fen": -1},
        {
            "total_fen": 100,
            "fulamt_ownpay_fen": 50,
            "preselfpay_fen": 30,
            "overlmt_selfpay_fen": 21,
        },
        {"total_fen": True},
    ],
)
def test_a_bill_whose_parts_cannot_be_true_is_refused(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        Bill(**kwargs)


def test_a_refund_that_was_never_applied_is_refused() -> None:
    with pytest.raises(ValueError, match="never added"):
        YearToDate(100, 0).reverse(YearDelta(deductible_used_fen=101))


def test_the_year_turns_at_beijing_midnight() -> None:
    assert benefit_year(datetime(2022, 12, 31, 15, 59, 59, tzinfo=UTC)) == 2022
    assert benefit_year(datetime(2022, 12, 31, 16, 0, 0, tzinfo=UTC)) == 2023


# --- a year of visits for one person ------------------------------------------------------------
@dataclass
class Book:
    """One person's settlements and year-to-date accumulators, as a clerk would keep them.

    Accumulators are keyed by (pool, Beijing year); each settlement keeps the delta it added,
    which is exactly what its refund takes away.
    """

    policy: Policy
    insurance_type: str
    person_type: str
    years: dict[tuple[str, int], YearToDate] = field(default_factory=dict)
    recorded: dict[str, tuple[tuple[str, int] | None, YearDelta]] = field(default_factory=dict)

    def settle(self, visit: str, at: str, scene: Scene, level: str, bill: Bill) -> FundShare:
        when = datetime.fromisoformat(at).replace(tzinfo=BEIJING)
        rule = self.policy.rule_for(
            self.insurance_type, self.person_type, scene, level, beijing_date(when)
        )
        key = (rule.pool, benefit_year(when)) if isinstance(rule, PooledRule) else None
        year = self.years.get(key, YearToDate()) if key else YearToDate()
        share = compute_fund_share(rule, bill, year)
        if key:
            self.years[key] = year.apply(share.delta)
        self.recorded[visit] = (key, share.delta)
        return share

    def refund(self, visit: str) -> None:
        key, delta = self.recorded.pop(visit)
        if key:
            self.years[key] = self.years[key].reverse(delta)

    def year(self, pool: str, year: int) -> YearToDate:
        return self.years.get((pool, year), YearToDate())


def test_a_year_of_visits_for_one_in_service_employee_at_a_level_3_hospital() -> None:
    """Beijing 2022: deductible 1,800.00, 70 %, outpatient capped at 20,000.00; then 2023."""
    book = Book(DEMO, "employee", "in_service")
    outpatient, inpatient = "outpatient", "inpatient"

    # 10 Jan: registration, 50.00 = 40.00 fund + 10.00 person; no pool moves.
    share = book.settle("V1", "2022-01-10 09:00", Scene.REGISTRATION, "3", Bill(5000))
    assert (share.fund_fen, share.personal_burden_fen) == (4000, 1000)
    assert book.year(outpatient, 2022) == YearToDate(0, 0)

    # 14 Feb: outpatient 1,000.00 of which 100.00 全自费: 900.00 eligible, all deductible.
    share = book.settle("V2", "2022-02-14 10:30", Scene.OUTPATIENT, "3",
                        Bill(100_000, fulamt_ownpay_fen=10_000))  # fmt: skip
    assert (share.fund_fen, share.personal_burden_fen) == (0, 100_000)
    assert book.year(outpatient, 2022) == YearToDate(90_000, 0)

    # 8 Mar: outpatient 1,500.00 crosses the deductible mid-visit: 900.00 deductible, then 70 %
    # of 600.00 = 420.00.
    share = book.settle("V3", "2022-03-08 14:00", Scene.OUTPATIENT, "3", Bill(150_000))
    assert share.detail.deductible_applied_fen == 90_000
    assert (share.fund_fen, share.personal_burden_fen) == (42_000, 108_000)
    assert share.detail.cap_left_fen == 2_000_000 - 42_000
    assert book.year(outpatient, 2022) == YearToDate(180_000, 42_000)

    # 20 Mar: a pharmacy prescription (外配) counts in the same pool, so it is past the
    # deductible too: 840.77 = 588.54 + 252.23.
    share = book.settle("V4", "2022-03-20 11:00", Scene.PHARMACY_PRESCRIPTION, "3", Bill(84_077))
    assert (share.fund_fen, share.personal_burden_fen) == (58_854, 25_223)
    assert book.year(outpatient, 2022) == YearToDate(180_000, 100_854)

    # 2 Apr: V3 is refunded, after the crossing and after V4. Exactly V3's own delta comes off
    # (900.00 deductible, 420.00 fund); V4 is not recomputed, so 900.00 of deductible reopens.
    book.refund("V3")
    assert book.year(outpatient, 2022) == YearToDate(90_000, 58_854)

    # 5 Apr: outpatient 1,260.92: the reopened 900.00 first, then 70 % of 360.92 = 252.64.
    share = book.settle("V5", "2022-04-05 09:15", Scene.OUTPATIENT, "3", Bill(126_092))
    assert share.detail.deductible_applied_fen == 90_000
    assert (share.fund_fen, share.personal_burden_fen) == (25_264, 100_828)
    assert book.year(outpatient, 2022) == YearToDate(180_000, 84_118)

    # 18 Jun: outpatient 30,000.00: 70 % is 21,000.00 but only 19,158.82 of the 20,000.00 cap
    # is left; the fund pays that and the cap is reached.
    share = book.settle("V6", "2022-06-18 08:40", Scene.OUTPATIENT, "3", Bill(3_000_000))
    assert (share.fund_fen, share.personal_burden_fen) == (1_915_882, 1_084_118)
    assert share.detail.cap_left_fen == 0
    assert book.year(outpatient, 2022) == YearToDate(180_000, 2_000_000)

    # 1 Sep: outpatient 200.00 after the cap: the fund pays nothing more this year.
    share = book.settle("V7", "2022-09-01 10:00", Scene.OUTPATIENT, "3", Bill(20_000))
    assert (share.fund_fen, share.personal_burden_fen) == (0, 20_000)

    # 11 Nov: discharge 3,026.14; the inpatient pool is separate and untouched by the outpatient
    # cap: 1,300.00 deductible, then 85 % of 1,726.14 = 1,467.219 -> 1,467.22.
    share = book.settle("V8", "2022-11-11 16:00", Scene.INPATIENT_DISCHARGE, "3", Bill(302_614))
    assert (share.fund_fen, share.personal_burden_fen) == (146_722, 155_892)
    assert book.year(inpatient, 2022) == YearToDate(130_000, 146_722)

    # 31 Dec, 23:59:59 Beijing: still 2022, still capped.
    share = book.settle("V9", "2022-12-31 23:59:59", Scene.OUTPATIENT, "3", Bill(10_000))
    assert share.fund_fen == 0

    # 1 Jan 2023, 00:00 Beijing (16:00 UTC on 31 Dec): a new year and the 2023 rules. The pools
    # start from zero, so 100.00 goes to the deductible, and there is no cap any more.
    share = book.settle("V10", "2023-01-01 00:00:00", Scene.OUTPATIENT, "3", Bill(10_000))
    assert (share.fund_fen, share.personal_burden_fen) == (0, 10_000)
    assert share.detail.cap_left_fen is None
    assert book.year(outpatient, 2023) == YearToDate(10_000, 0)
    assert book.year(inpatient, 2023) == YearToDate(0, 0)

    # 2022's books are closed as they were: refunding nothing else leaves them untouched.
    assert book.year(outpatient, 2022) == YearToDate(180_000, 2_000_000)

    # 3 Jan 2023: a refund of V8 (a 2022 discharge) comes off 2022's inpatient pool.
    book.refund("V8")
    assert book.year(inpatient, 2022) == YearToDate(0, 0)
    assert book.year(outpatient, 2023) == YearToDate(10_000, 0)


# --- properties -------------------------------------------------------------------------------
pooled_rules = st.builds(
    PooledRule,
    name=st.just("property"),
    pool=st.just("outpatient"),
    deductible_fen=st.integers(0, 1_000_000),
    ratio_bp=st.integers(0, 10_000),
    cap_fen=st.none() | st.integers(0, 10_000_000),
    sources=st.just(()),
    line=st.just(1),
)
fixed_rules = st.builds(
    FixedAmountRule,
    name=st.just("fixed"),
    fixed_fen=st.integers(0, 100_000),
    sources=st.just(()),
    line=st.just(1),
)
years = st.builds(
    YearToDate,
    deductible_used_fen=st.integers(0, 2_000_000),
    fund_paid_fen=st.integers(0, 20_000_000),
)


@st.composite
def bills(draw: st.DrawFn) -> Bill:
    total = draw(st.integers(0, 50_000_000))
    own = draw(st.integers(0, total))
    pre = draw(st.integers(0, total - own))
    over = draw(st.integers(0, total - own - pre))
    return Bill(total, fulamt_ownpay_fen=own, preselfpay_fen=pre, overlmt_selfpay_fen=over)


@given(rule=pooled_rules | fixed_rules, bill=bills(), year=years)
def test_the_funds_share_is_never_negative_nor_more_than_the_eligible_amount(
    rule: PooledRule | FixedAmountRule, bill: Bill, year: YearToDate
) -> None:
    share = compute_fund_share(rule, bill, year)
    assert 0 <= share.fund_fen <= bill.eligible_fen
    assert share.personal_burden_fen == bill.total_fen - share.fund_fen >= bill.out_of_scope_fen


@given(rule=pooled_rules, bill=bills(), year=years)
def test_the_funds_share_never_passes_the_cap(
    rule: PooledRule, bill: Bill, year: YearToDate
) -> None:
    share = compute_fund_share(rule, bill, year)
    if rule.cap_fen is not None:
        assert share.fund_fen <= max(0, rule.cap_fen - year.fund_paid_fen)
        assert share.detail.cap_left_fen is not None
        assert share.detail.cap_left_fen >= 0
        assert year.apply(share.delta).fund_paid_fen <= max(rule.cap_fen, year.fund_paid_fen)


@given(rule=pooled_rules, bill=bills(), year=years)
def test_the_deductible_used_never_passes_the_deductible(
    rule: PooledRule, bill: Bill, year: YearToDate
) -> None:
    share = compute_fund_share(rule, bill, year)
    after = year.apply(share.delta).deductible_used_fen
    assert after <= max(rule.deductible_fen, year.deductible_used_fen)


@given(rule=pooled_rules | fixed_rules, bill=bills(), year=years, more=st.integers(0, 5_000_000))
def test_the_funds_share_is_monotonic_in_the_bill(
    rule: PooledRule | FixedAmountRule, bill: Bill, year: YearToDate, more: int
) -> None:
    bigger = Bill(
        bill.total_fen + more,
        fulamt_ownpay_fen=bill.fulamt_ownpay_fen,
        preselfpay_fen=bill.preselfpay_fen,
        overlmt_selfpay_fen=bill.overlmt_selfpay_fen,
    )
    assert (
        compute_fund_share(rule, bigger, year).fund_fen
        >= compute_fund_share(rule, bill, year).fund_fen
    )


@given(rule=pooled_rules, bill=bills(), year=years, later=st.lists(bills(), max_size=4))
def test_a_refund_takes_off_exactly_what_its_settlement_added(
    rule: PooledRule, bill: Bill, year: YearToDate, later: list[Bill]
) -> None:
    share = compute_fund_share(rule, bill, year)
    running = year.apply(share.delta)
    later_deltas = []
    for other in later:  # later visits settle on top, then the first one is refunded
        delta = compute_fund_share(rule, other, running).delta
        later_deltas.append(delta)
        running = running.apply(delta)
    refunded = running.reverse(share.delta)
    expected = year
    for delta in later_deltas:
        expected = expected.apply(delta)
    assert refunded == expected
