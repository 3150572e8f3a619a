"""Ledger rules: balanced journal transactions, their reversal, and yearly interest.

Pure: no Flask, no SQLAlchemy. docs/ledger.md; DOMAIN.md, "The personal account" (monthly
credits and interest, 划入 and 结息). Every amount is an integer number of fen; a positive
posting adds to the account's balance, a negative one takes from it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


class Kind(StrEnum):
    """What a journal transaction is; the user's transaction list shows it as `kind`."""

    CREDIT = "credit"  # monthly credit from the fund (划入)
    INTEREST = "interest"  # yearly interest (结息)
    PAYMENT = "payment"  # a settlement
    REFUND = "refund"  # a settlement's reversal
    PREMIUM = "premium"  # supplementary insurance (北京普惠健康保)
    REIMBURSEMENT = "reimbursement"  # an approved manual claim (手工报销)


@dataclass(frozen=True)
class Posting:
    """An amount for one account; the account is any hashable reference (an id, or a pair)."""

    account_id: Hashable
    amount_fen: int


@dataclass(frozen=True)
class JournalTransaction:
    """Postings that move money between accounts and sum to zero."""

    kind: Kind
    postings: tuple[Posting, ...]


def journal(kind: Kind, postings: Iterable[Posting]) -> JournalTransaction:
    """A journal transaction, checked: at least two postings, none zero, summing to zero.

    Postings to the same account are merged, so a transaction never holds two entries for one
    account (each entry's balance-after stays unambiguous). Raises ValueError: an unbalanced
    transaction is a bug, never a user error.
    """
    merged: dict[Hashable, int] = {}
    for p in postings:
        if not isinstance(p.amount_fen, int) or isinstance(p.amount_fen, bool):
            raise ValueError("posting amounts are integer fen")
        merged[p.account_id] = merged.get(p.account_id, 0) + p.amount_fen
    kept = tuple(Posting(a, amount) for a, amount in merged.items() if amount != 0)
    if sum(p.amount_fen for p in kept) != 0:
        raise ValueError("a journal transaction must sum to zero")
    if len(kept) < 2:
        raise ValueError("a journal transaction moves money between at least two accounts")
    return JournalTransaction(kind=kind, postings=kept)


def reversal(original: JournalTransaction, kind: Kind = Kind.REFUND) -> JournalTransaction:
    """The transaction that undoes `original`: every posting negated (nothing is deleted)."""
    return journal(kind, (Posting(p.account_id, -p.amount_fen) for p in original.postings))


def apply(
    balances: Mapping[Hashable, int],
    tx: JournalTransaction,
    *,
    may_go_negative: frozenset[Hashable] = frozenset(),
) -> dict[Hashable, int]:
    """The balances after `tx`; raises ValueError when an account would go below zero.

    System accounts (the fund, cash/external) are the other side of every movement, so their
    balances go negative by design; personal accounts and institutions never may.
    """
    after = dict(balances)
    for p in tx.postings:
        after[p.account_id] = after.get(p.account_id, 0) + p.amount_fen
        if after[p.account_id] < 0 and p.account_id not in may_go_negative:
            raise ValueError(f"account {p.account_id} would go negative")
    return after


def is_balanced(transactions: Iterable[JournalTransaction]) -> bool:
    """Whether the whole journal sums to zero."""
    total: Counter[Hashable] = Counter()
    for tx in transactions:
        for p in tx.postings:
            total[p.account_id] += p.amount_fen
    return sum(total.values()) == 0


# --- interest ----------------------------------------------------------------------------------
DAYS_PER_YEAR_FOR_INTEREST = 365  # the contract's divisor, also in a leap year


@dataclass(frozen=True)
class BalanceChange:
    """An account's balance after a movement on a Beijing calendar day."""

    day: date
    balance_after_fen: int


def balance_days_fen(
    *, opening_fen: int, changes: Sequence[BalanceChange], first_day: date, last_day: date
) -> int:
    """The sum, over each day from `first_day` to `last_day`, of the day's closing balance.

    `opening_fen` is the balance before `first_day`; `changes` are in recording order, and the
    last change of a day gives that day's closing balance. Changes before `first_day` are
    ignored (they are in `opening_fen`), changes after `last_day` too.
    """
    if last_day < first_day:
        return 0
    closing_by_day: dict[date, int] = {}
    for change in changes:
        if first_day <= change.day <= last_day:
            closing_by_day[change.day] = change.balance_after_fen
    total = 0
    balance = opening_fen
    day = first_day
    for change_day in sorted(closing_by_day):
        total += balance * (change_day - day).days
        balance = closing_by_day[change_day]
        day = change_day
    total += balance * ((last_day - day).days + 1)
    return total


def interest_fen(*, balance_days_fen: int, annual_rate_bp: int) -> int:
    """floor(Σ daily closing balance × rate_bp / 10000 / 365), in integer arithmetic only."""
    if balance_days_fen < 0 or annual_rate_bp < 0:
        raise ValueError("balances and rates are not negative")
    return (balance_days_fen * annual_rate_bp) // (10000 * DAYS_PER_YEAR_FOR_INTEREST)


def year_days(year: int) -> tuple[date, date]:
    """The first and last Beijing calendar day of `year`."""
    return date(year, 1, 1), date(year + 1, 1, 1) - timedelta(days=1)
