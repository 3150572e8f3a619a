"""Yearly interest (结息) on personal accounts, from each Beijing day's closing balance.

DOMAIN.md, "The personal account (个人账户) and who pays what" and "Dates and money" (the
Beijing calendar); the contract's `POST /api/v1/admin/interest`. Idempotent per person and year
through a unique marker row claimed in the same transaction as the money.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import cast

from sqlalchemy import Table, func, select, update
from sqlalchemy.orm import Session

from server.audit import record, request_id_var
from server.clock import BEIJING, beijing_date
from server.db.dialect import insert_for
from server.db.models import Account
from server.errors import RequestValidationError
from server.ledger import rules
from server.ledger import service as ledger
from server.ledger.credits import CHUNK, Tally
from server.ledger.models import InterestPayment, JournalEntry
from server.uow import UnitOfWork

_INTEREST = cast(Table, InterestPayment.__table__)


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
                    select(Account.id).where(Account.id > after).order_by(Account.id).limit(CHUNK)
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
                tx_id = ledger.pay_from_fund(
                    s,
                    kind=rules.Kind.INTEREST,
                    amounts={a: amounts[a][1] for a in paying},
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
