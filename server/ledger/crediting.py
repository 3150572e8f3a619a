"""The agency's money into personal accounts: monthly credits (划入) and yearly interest (结息).

DOMAIN.md, "The personal account": the agency credits accounts monthly and pays interest; the
contract's `POST /api/v1/admin/credits` and `POST /api/v1/admin/interest`. Each is idempotent
per person and period through a unique marker row claimed in the same transaction as the money.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import cast

from sqlalchemy import Table, func, select, update
from sqlalchemy.orm import Session

from server.audit import record, request_id_var
from server.clock import BEIJING, beijing_date
from server.db.dialect import insert_for
from server.db.models import Account, Person
from server.errors import InsuredNumberNotFoundError, InvalidAmountError, RequestValidationError
from server.ledger import rules
from server.ledger import service as ledger
from server.ledger.models import InterestPayment, JournalEntry, MonthlyCredit
from server.money import MAX_AMOUNT_FEN
from server.uow import UnitOfWork

_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
_CHUNK = 500
_CREDITS = cast(Table, MonthlyCredit.__table__)
_INTEREST = cast(Table, InterestPayment.__table__)


@dataclass(frozen=True)
class CreditRow:
    id_number: str
    amount_fen: int


@dataclass(frozen=True)
class Tally:
    credited: int
    skipped: int


def credit_month(
    uow: UnitOfWork,
    *,
    month: str,
    rows: Sequence[CreditRow],
    actor: str,
) -> Tally:
    """Credit each person's account for `month` once; a repeat (also a racing one) is skipped.

    All rows or none: an unknown ID number is INSURED_NUMBER_NOT_FOUND (details: the row
    indexes), an amount outside 1 .. 10^10-1 fen INVALID_AMOUNT. A person twice in one
    request is credited once, like a second request.
    """
    clock = uow.clock
    if not _MONTH.fullmatch(month):
        raise RequestValidationError("month is YYYY-MM", field="month")
    bad = [i for i, r in enumerate(rows) if not 0 < r.amount_fen < MAX_AMOUNT_FEN]
    if bad:
        raise InvalidAmountError("Each credit is 1 .. 10^10-1 fen", rows=bad[:20])

    def work(s: Session) -> Tally:
        now = clock.now()
        ids = sorted({r.id_number for r in rows})
        account_of: dict[str, int] = {}
        for start in range(0, len(ids), _CHUNK):
            account_of.update(
                s.execute(
                    select(Person.id_number, Account.id)
                    .join(Account, Account.person_id == Person.id)
                    .where(Person.id_number.in_(ids[start : start + _CHUNK]))
                ).all()
            )
        unknown = [i for i, r in enumerate(rows) if r.id_number not in account_of]
        if unknown:
            raise InsuredNumberNotFoundError(
                "Some rows name no insured person; nothing was credited", rows=unknown[:20]
            )
        first: dict[int, int] = {}
        for r in rows:
            first.setdefault(account_of[r.id_number], r.amount_fen)
        # Claim the (account, month) markers first: a concurrent import of the same month
        # waits on the unique key and then finds them taken, so it skips instead of paying twice.
        claimed: set[int] = set()
        accounts = sorted(first)
        make = insert_for(s)
        for start in range(0, len(accounts), _CHUNK):
            chunk = accounts[start : start + _CHUNK]
            claimed.update(
                s.execute(
                    make(_CREDITS)
                    .values(
                        [
                            {
                                "account_id": a,
                                "month": month,
                                "amount_fen": first[a],
                                "transaction_id": None,
                            }
                            for a in chunk
                        ]
                    )
                    .on_conflict_do_nothing()
                    .returning(_CREDITS.c.account_id)
                ).scalars()
            )
        if claimed:
            fund = ledger.system_accounts(s, now=now, codes=[ledger.FUND])[ledger.FUND]
            total = sum(first[a] for a in claimed)
            tx_id = ledger.post(
                s,
                kind=rules.Kind.CREDIT,
                lines=[
                    ledger.Line(ledger.personal(a), first[a], rules.Kind.CREDIT.value)
                    for a in sorted(claimed)
                ]
                + [ledger.Line(ledger.system(fund), -total, rules.Kind.CREDIT.value)],
                stamp=ledger.Stamp(now, now, actor, request_id_var.get()),
                reference=f"credit:{month}",
            )
            s.execute(
                update(_CREDITS)
                .where(
                    _CREDITS.c.month == month,
                    _CREDITS.c.account_id.in_(sorted(claimed)),
                    _CREDITS.c.transaction_id.is_(None),
                )
                .values(transaction_id=tx_id)
            )
        record(
            s,
            at=now,
            actor=actor,
            action="credits.monthly",
            subject=f"month:{month}",
            credited=len(claimed),
            skipped=len(rows) - len(claimed),
        )
        return Tally(credited=len(claimed), skipped=len(rows) - len(claimed))

    return uow.run(work)


def _year_bounds(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1, tzinfo=BEIJING), datetime(year + 1, 1, 1, tzinfo=BEIJING)


def pay_interest(uow: UnitOfWork, *, year: int, annual_rate_bp: int, actor: str) -> Tally:
    """Pay `year`'s interest into every personal account once (contract: POST /admin/interest).

    Per account: floor(Σ each Beijing day's closing balance × rate_bp / 10000 / 365) fen. Only a
    year that has ended in Beijing can be paid: its days' closing balances are then known, and
    paying a year in progress would either pay for days not yet lived or lose the rest of it.
    `skipped` counts accounts already paid for the year and those whose interest is 0 fen.
    Accounts are done in chunks, each in its own transaction, so a big run holds no long locks
    and a crashed run resumes where it stopped.
    """
    session, clock = uow.session, uow.clock
    if not 0 <= annual_rate_bp <= 10_000:
        raise RequestValidationError("annual_rate_bp is 0 .. 10000", field="annual_rate_bp")
    if beijing_date(clock.now()) <= date(year, 12, 31):
        raise RequestValidationError(
            f"Interest for {year} is paid once the year has ended (Beijing time)", field="year"
        )
    start, end = _year_bounds(year)
    first_day, last_day = rules.year_days(year)
    credited = skipped = 0
    after = 0
    while True:
        with session.begin():
            chunk = list(
                session.scalars(
                    select(Account.id).where(Account.id > after).order_by(Account.id).limit(_CHUNK)
                )
            )
        if not chunk:
            break
        after = chunk[-1]

        def work(s: Session, chunk: list[int] = chunk) -> Tally:
            now = clock.now()
            done = set(
                s.scalars(
                    select(InterestPayment.account_id).where(
                        InterestPayment.year == year, InterestPayment.account_id.in_(chunk)
                    )
                )
            )
            todo = [a for a in chunk if a not in done]
            amounts = _interest_of(s, todo, start, end, first_day, last_day, annual_rate_bp)
            make = insert_for(s)
            claimed = (
                set(
                    s.execute(
                        make(_INTEREST)
                        .values(
                            [
                                {
                                    "account_id": a,
                                    "year": year,
                                    "annual_rate_bp": annual_rate_bp,
                                    "balance_days_fen": amounts[a][0],
                                    "amount_fen": amounts[a][1],
                                    "transaction_id": None,
                                }
                                for a in todo
                            ]
                        )
                        .on_conflict_do_nothing()
                        .returning(_INTEREST.c.account_id)
                    ).scalars()
                )
                if todo
                else set()
            )
            paying = sorted(a for a in claimed if amounts[a][1] > 0)
            if paying:
                fund = ledger.system_accounts(s, now=now, codes=[ledger.FUND])[ledger.FUND]
                tx_id = ledger.post(
                    s,
                    kind=rules.Kind.INTEREST,
                    lines=[
                        ledger.Line(ledger.personal(a), amounts[a][1], rules.Kind.INTEREST.value)
                        for a in paying
                    ]
                    + [
                        ledger.Line(
                            ledger.system(fund),
                            -sum(amounts[a][1] for a in paying),
                            rules.Kind.INTEREST.value,
                        )
                    ],
                    # The interest belongs to the year it was earned in: its business time is
                    # the year's last instant, its recording time now.
                    stamp=ledger.Stamp(
                        end - timedelta(microseconds=1), now, actor, request_id_var.get()
                    ),
                    reference=f"interest:{year}",
                )
                s.execute(
                    update(_INTEREST)
                    .where(_INTEREST.c.year == year, _INTEREST.c.account_id.in_(paying))
                    .values(transaction_id=tx_id)
                )
            return Tally(credited=len(paying), skipped=len(chunk) - len(paying))

        tally = uow.run(work)
        credited += tally.credited
        skipped += tally.skipped
    with session.begin():
        record(
            session,
            at=clock.now(),
            actor=actor,
            action="interest.yearly",
            subject=f"year:{year}",
            annual_rate_bp=annual_rate_bp,
            credited=credited,
            skipped=skipped,
        )
    return Tally(credited=credited, skipped=skipped)


def _interest_of(
    s: Session,
    accounts: list[int],
    start: datetime,
    end: datetime,
    first_day: date,
    last_day: date,
    rate_bp: int,
) -> dict[int, tuple[int, int]]:
    """(balance-days, interest) per account, from the entries' balance-after values."""
    if not accounts:
        return {}
    last_before = (
        select(func.max(JournalEntry.id))
        .where(JournalEntry.account_id.in_(accounts), JournalEntry.recorded_at < start)
        .group_by(JournalEntry.account_id)
    )
    opening: dict[int, int] = {
        int(a or 0): int(b or 0)
        for a, b in s.execute(
            select(JournalEntry.account_id, JournalEntry.balance_after_fen).where(
                JournalEntry.id.in_(last_before)
            )
        )
    }
    changes: dict[int, list[rules.BalanceChange]] = {a: [] for a in accounts}
    for a, at, balance in s.execute(
        select(JournalEntry.account_id, JournalEntry.recorded_at, JournalEntry.balance_after_fen)
        .where(
            JournalEntry.account_id.in_(accounts),
            JournalEntry.recorded_at >= start,
            JournalEntry.recorded_at < end,
        )
        .order_by(JournalEntry.id)
    ):
        changes[int(a or 0)].append(rules.BalanceChange(beijing_date(at), int(balance or 0)))
    result: dict[int, tuple[int, int]] = {}
    for a in accounts:
        days = rules.balance_days_fen(
            opening_fen=opening.get(a, 0),
            changes=changes[a],
            first_day=first_day,
            last_day=last_day,
        )
        result[a] = (days, rules.interest_fen(balance_days_fen=days, annual_rate_bp=rate_bp))
    return result
