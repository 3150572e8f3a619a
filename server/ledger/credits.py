"""Monthly credits (划入): the agency's money into personal accounts, once per person and month.

DOMAIN.md, "The personal account (个人账户) and who pays what": the agency credits accounts
monthly; the contract's `POST /api/v1/admin/credits`. Idempotent per person and month through a
unique marker row claimed in the same transaction as the money.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from server.audit import record, request_id_var
from server.clock import beijing_date
from server.db.dialect import insert_for
from server.db.models import Account, Person
from server.errors import InsuredNumberNotFoundError, InvalidAmountError, RequestValidationError
from server.ledger import rules
from server.ledger import service as ledger
from server.ledger.models import MonthlyCredit
from server.money import MAX_AMOUNT_FEN
from server.uow import UnitOfWork

_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
CHUNK = 500  # rows per statement (and, for interest, accounts per transaction)
_CREDITS = cast(Table, MonthlyCredit.__table__)


@dataclass(frozen=True)
class CreditRow:
    id_number: str
    amount_fen: int


@dataclass(frozen=True)
class Tally:
    credited: int
    skipped: int


def check_month(month: str, *, now: datetime) -> None:
    """Refuse a month that is not YYYY-MM or lies after the Beijing month of `now`.

    A credit is money for a month that has begun; one for a later month is a typo (2062 for
    2026) that would otherwise be unrepeatable once that month comes (VALIDATION_ERROR).
    """
    if not _MONTH.fullmatch(month):
        raise RequestValidationError("month is YYYY-MM", field="month")
    if month > f"{beijing_date(now):%Y-%m}":
        raise RequestValidationError(
            "month is after the current Beijing month", field="month", month=month
        )


def credit_month(
    uow: UnitOfWork,
    *,
    month: str,
    rows: Sequence[CreditRow],
    actor: str,
) -> Tally:
    """Credit each person's account for `month` once; a repeat (also a racing one) is skipped.

    All rows or none: an unknown ID number is INSURED_NUMBER_NOT_FOUND (details: the row
    indexes), an amount outside 1 .. 10^10-1 fen INVALID_AMOUNT, a month after the current
    Beijing month VALIDATION_ERROR. A person twice in one request is credited once, like a
    second request.
    """
    clock = uow.clock
    check_month(month, now=clock.now())
    bad = [i for i, r in enumerate(rows) if not 0 < r.amount_fen < MAX_AMOUNT_FEN]
    if bad:
        raise InvalidAmountError("Each credit is 1 .. 10^10-1 fen", rows=bad[:20])

    def work(s: Session) -> Tally:
        now = clock.now()
        ids = sorted({r.id_number for r in rows})
        account_of: dict[str, int] = {}
        for start in range(0, len(ids), CHUNK):
            account_of.update(
                s.execute(
                    select(Person.id_number, Account.id)
                    .join(Account, Account.person_id == Person.id)
                    .where(Person.id_number.in_(ids[start : start + CHUNK]))
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
        for start in range(0, len(accounts), CHUNK):
            chunk = accounts[start : start + CHUNK]
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
            tx_id = ledger.pay_from_fund(
                s,
                kind=rules.Kind.CREDIT,
                amounts={a: first[a] for a in claimed},
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
