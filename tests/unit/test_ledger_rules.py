"""Ledger rules: balanced transactions, reversals, and the contract's interest formula."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.ledger.rules import (
    BalanceChange,
    Kind,
    Posting,
    apply,
    balance_days_fen,
    interest_fen,
    is_balanced,
    journal,
    reversal,
    year_days,
)

FUND, PERSON, SPOUSE, HOSPITAL, CASH = 1, 2, 3, 4, 5


def outpatient_settlement() -> list[Posting]:
    # DOMAIN.md: outpatient 1260.92 = 882.64 fund + 378.28 personal; the personal account pays
    # 300.00, the spouse's 50.00 (mutual aid) and 28.28 is cash; the hospital is owed all of it.
    return [
        Posting(FUND, -88264),
        Posting(PERSON, -30000),
        Posting(SPOUSE, -5000),
        Posting(CASH, -2828),
        Posting(HOSPITAL, 126092),
    ]


def test_a_settlements_entries_sum_to_zero() -> None:
    tx = journal(Kind.PAYMENT, outpatient_settlement())
    assert sum(p.amount_fen for p in tx.postings) == 0
    assert is_balanced([tx])


def test_an_unbalanced_transaction_is_refused() -> None:
    with pytest.raises(ValueError, match="sum to zero"):
        journal(Kind.CREDIT, [Posting(FUND, -1000), Posting(PERSON, 999)])


def test_a_transaction_moves_money_between_two_accounts_at_least() -> None:
    with pytest.raises(ValueError, match="two accounts"):
        journal(Kind.CREDIT, [Posting(PERSON, 1000), Posting(PERSON, -1000)])


def test_postings_to_one_account_merge_into_one_entry() -> None:
    tx = journal(Kind.PAYMENT, [Posting(PERSON, -10), Posting(PERSON, -20), Posting(FUND, 30)])
    assert tx.postings == (Posting(PERSON, -30), Posting(FUND, 30))


def test_a_float_is_not_money() -> None:
    with pytest.raises(ValueError, match="integer fen"):
        journal(Kind.CREDIT, [Posting(FUND, -10.5), Posting(PERSON, 10.5)])  # type: ignore[arg-type]


def test_a_refund_gives_every_fen_back_to_the_account_it_came_from() -> None:
    balances = {FUND: -1_000_000, PERSON: 30000, SPOUSE: 5000, CASH: 0, HOSPITAL: 0}
    paid = journal(Kind.PAYMENT, outpatient_settlement())
    after_payment = apply(balances, paid, may_go_negative=frozenset({FUND, CASH}))
    assert after_payment[PERSON] == 0 and after_payment[SPOUSE] == 0
    refunded = apply(after_payment, reversal(paid), may_go_negative=frozenset({FUND, CASH}))
    assert refunded == balances
    assert reversal(paid).kind is Kind.REFUND


def test_a_personal_account_never_goes_below_zero() -> None:
    with pytest.raises(ValueError, match="negative"):
        apply({PERSON: 100}, journal(Kind.PAYMENT, [Posting(PERSON, -101), Posting(HOSPITAL, 101)]))


@given(st.lists(st.lists(st.integers(-(10**9), 10**9), min_size=1, max_size=5), max_size=20))
def test_any_journal_of_balanced_transactions_sums_to_zero(amounts: list[list[int]]) -> None:
    txs = []
    for row in amounts:
        postings = [Posting(i + 1, a) for i, a in enumerate(row)]
        postings.append(Posting(99, -sum(row)))
        try:
            txs.append(journal(Kind.CREDIT, postings))
        except ValueError:
            continue  # all-zero rows move nothing
    assert is_balanced(txs)


# --- interest ----------------------------------------------------------------------------
def test_interest_on_a_year_of_ten_thousand_yuan_at_35_bp_is_35_yuan() -> None:
    first, last = year_days(2025)
    days = balance_days_fen(opening_fen=1_000_000, changes=[], first_day=first, last_day=last)
    assert days == 1_000_000 * 365
    assert interest_fen(balance_days_fen=days, annual_rate_bp=35) == 3500


def test_a_leap_year_still_divides_by_365() -> None:
    first, last = year_days(2024)
    days = balance_days_fen(opening_fen=1_000_000, changes=[], first_day=first, last_day=last)
    # 366 days of 10,000.00 yuan at 0.35%: 10000.00 × 0.0035 × 366/365 = 35.0958... -> 35.09
    assert interest_fen(balance_days_fen=days, annual_rate_bp=35) == 3509


def test_interest_counts_each_days_closing_balance_and_rounds_down_to_the_fen() -> None:
    first, last = year_days(2026)
    changes = [
        # a credit of 1000.00 on 2026-03-01, spent down to 400.00 the same day: 400.00 closes
        BalanceChange(date(2026, 3, 1), 100_000),
        BalanceChange(date(2026, 3, 1), 40_000),
        # another 600.00 on 2026-12-31, the year's last day
        BalanceChange(date(2026, 12, 31), 100_000),
    ]
    days = balance_days_fen(opening_fen=0, changes=changes, first_day=first, last_day=last)
    # 2026-03-01 .. 2026-12-30 is 305 days at 40,000 fen, then one day at 100,000 fen
    assert days == 305 * 40_000 + 100_000
    # 12,300,000 × 35 / 10000 / 365 = 117.94... -> 117 fen
    assert interest_fen(balance_days_fen=days, annual_rate_bp=35) == 117


def test_changes_before_the_year_are_in_the_opening_balance() -> None:
    first, last = year_days(2026)
    changes = [BalanceChange(date(2025, 12, 31), 999), BalanceChange(date(2027, 1, 1), 5)]
    assert balance_days_fen(opening_fen=100, changes=changes, first_day=first, last_day=last) == (
        100 * 365
    )


@given(
    balance=st.integers(0, 10**10),
    rate=st.integers(0, 10_000),
)
def test_interest_is_the_exact_floor_of_the_formula(balance: int, rate: int) -> None:
    days = balance * 365
    got = interest_fen(balance_days_fen=days, annual_rate_bp=rate)
    # exact rational check without floats: got <= true value < got + 1
    assert got * 10000 * 365 <= days * rate < (got + 1) * 10000 * 365
