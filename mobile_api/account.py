"""The holder's personal account: balance, statement, payment password, password-free limit.

CONTRACT.md, Phone app: GET /api/v1/account, GET /api/v1/account/transactions,
PUT /api/v1/account/payment-password, PUT /api/v1/account/password-free-limit.

DOMAIN.md: "The personal account (个人账户) and who pays what", "Payment password",
"When a password is needed".
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from flask import Blueprint
from pydantic import Field

from mobile_api.family import ExpensesQuery, Visit, expense_totals, visit_answers
from server.accounts import queries, service
from server.benefits import queries as benefits
from server.clock import beijing_date, iso
from server.family import overview
from server.http import (
    Answer,
    Schema,
    current_user_id,
    documented,
    parse,
    parse_query,
    role_required,
)
from server.web.context import uow, wiring

bp = Blueprint("account", __name__, url_prefix="/api/v1/account")

SixDigits = Annotated[str, Field(pattern=r"^\d{6}$")]


class PasswordChange(Schema):
    old_password: SixDigits
    new_password: SixDigits


class LimitChange(Schema):
    limit_fen: int
    payment_password: SixDigits


class Ok(Answer):
    ok: bool = True


class AccountAnswer(Answer):
    balance_fen: int
    password_free_limit_fen: int
    password_locked_until: str | None


class StatementQuery(Schema):
    # An entry id: at most 18 digits keeps it inside a signed 64-bit column.
    cursor: Annotated[str | None, Field(pattern=r"^\d{1,18}$")] = None
    limit: Annotated[int, Field(ge=1, le=queries.MAX_PAGE)] = 20


class StatementItem(Answer):
    id: str
    kind: Literal[
        "credit", "interest", "payment", "refund", "premium", "mutual_aid_out", "reimbursement"
    ]
    direction: Literal["in", "out"]
    amount_fen: int = Field(description="the amount moved, always positive; see direction")
    balance_after_fen: int
    at: str
    reference: str
    beneficiary_masked: str | None = Field(
        default=None,
        description="whose bill or premium it was, masked, when a family member's (mutual aid)",
    )


class StatementAnswer(Answer):
    items: list[StatementItem]
    next_cursor: str | None


@bp.get("")
@role_required("user")
@documented(answer=AccountAnswer, summary="Balance, password-free limit and password lock")
def account() -> dict[str, Any]:
    found = service.summary(uow(), user_id=current_user_id())
    return AccountAnswer(
        balance_fen=found.balance_fen,
        password_free_limit_fen=found.password_free_limit_fen,
        password_locked_until=iso(found.password_locked_until)
        if found.password_locked_until
        else None,
    ).model_dump()


@bp.get("/transactions")
@role_required("user")
@documented(query=StatementQuery, answer=StatementAnswer, summary="Statement, newest first")
def transactions() -> dict[str, Any]:
    query = parse_query(StatementQuery)
    lines, next_cursor = service.statement(
        uow(),
        user_id=current_user_id(),
        before_entry_id=int(query.cursor) if query.cursor else None,
        limit=query.limit,
    )
    return StatementAnswer(
        items=[
            StatementItem(
                id=str(line.entry_id),
                kind=line.kind,
                direction="in" if line.amount_fen > 0 else "out",
                amount_fen=abs(line.amount_fen),
                balance_after_fen=line.balance_after_fen,
                at=iso(line.at),
                reference=line.reference,
                beneficiary_masked=line.beneficiary_masked,
            )
            for line in lines
        ],
        next_cursor=str(next_cursor) if next_cursor is not None else None,
    ).model_dump()


class YearQuery(Schema):
    year: Annotated[int | None, Field(ge=2000, le=2199)] = None
    member: Annotated[str | None, Field(min_length=1, max_length=36)] = None


class PoolYear(Answer):
    pool: str
    name: str
    deductible_fen: int | None = Field(description="起付线 of the person's rule; null: unknown")
    deductible_used_fen: int
    deductible_left_fen: int | None
    fund_paid_fen: int = Field(description="统筹基金 paid this year in this pool")


class YearAnswer(Answer):
    year: int
    pools: list[PoolYear]


@bp.get("/year")
@role_required("user")
@documented(
    query=YearQuery,
    answer=YearAnswer,
    summary="The year so far per pool (年度累计); ?member= for a bound family member",
)
def year() -> dict[str, Any]:
    query = parse_query(YearQuery)
    asked, pools = benefits.year_view(
        uow(), user_id=current_user_id(), member_id=query.member, year=query.year
    )
    return YearAnswer(
        year=asked,
        pools=[
            PoolYear(
                pool=p.pool,
                name=p.name,
                deductible_fen=p.deductible_fen,
                deductible_used_fen=p.deductible_used_fen,
                deductible_left_fen=p.deductible_left_fen,
                fund_paid_fen=p.fund_paid_fen,
            )
            for p in pools
        ],
    ).model_dump()


@bp.put("/payment-password")
@role_required("user")
@documented(body=PasswordChange, answer=Ok, summary="Change the payment password")
def change_password() -> dict[str, Any]:
    body = parse(PasswordChange)
    service.change_payment_password(
        uow(),
        user_id=current_user_id(),
        old_password=body.old_password,
        new_password=body.new_password,
    )
    return {"ok": True}


@bp.put("/password-free-limit")
@role_required("user")
@documented(body=LimitChange, answer=Ok, summary="Set the password-free limit (限额免密)")
def set_limit() -> dict[str, Any]:
    body = parse(LimitChange)
    service.set_password_free_limit(
        uow(),
        user_id=current_user_id(),
        limit_fen=body.limit_fen,
        payment_password=body.payment_password,
    )
    return {"ok": True}


class OwnExpensesAnswer(Answer):
    year: int
    total_fen: int
    fund_fen: int
    personal_account_fen: int
    mutual_aid_fen: int
    cash_fen: int
    visits: list[Visit]


@bp.get("/expenses")
@role_required("user")
@documented(
    query=ExpensesQuery,
    answer=OwnExpensesAnswer,
    summary="Your own medical expenses in a year: fund, personal account, cash, visits",
)
def expenses() -> dict[str, Any]:
    query = parse_query(ExpensesQuery)
    year = query.year or beijing_date(wiring().clock.now()).year
    found = overview.own_expenses(uow(), user_id=current_user_id(), year=year)
    return OwnExpensesAnswer(
        year=found.year, **expense_totals(found.totals), visits=visit_answers(found.visits)
    ).model_dump()
