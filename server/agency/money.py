"""Money at the counter: monthly credits (划入), yearly interest (结息), manual claims.

DOMAIN.md: "The personal account (个人账户) and who pays what", "The e-credential".
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field

from server.agency.common import IdNumber, actor, bp
from server.http import Answer, Schema, documented, parse, role_required
from server.ledger import credits, interest
from server.reimbursement import service as reimbursement
from server.reimbursement.models import ReimbursementClaim
from server.roster.service import MAX_ROWS
from server.web.context import uow


class Credit(Schema):
    id_number: IdNumber
    amount_fen: int


class MonthlyCredits(Schema):
    month: Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", examples=["2026-11"])]
    credits: Annotated[list[Credit], Field(min_length=1, max_length=MAX_ROWS)]


class Tallied(Answer):
    credited: int
    skipped: int


class YearlyInterest(Schema):
    year: Annotated[int, Field(ge=2000, le=2200)]
    annual_rate_bp: Annotated[int, Field(ge=0, le=10_000)]


class NewClaim(Schema):
    id_number: IdNumber
    institution_code: Annotated[str, Field(min_length=1, max_length=32)]
    visit_date: Annotated[dt.date, Field(strict=False)]
    total_fen: int
    fund_fen: int


class ClaimAnswer(Answer):
    claim_id: str
    status: Literal["pending", "approved", "rejected"]
    total_fen: int
    fund_fen: int


class ClaimDecision(Schema):
    approve: bool
    reason: Annotated[str | None, Field(max_length=500)] = None


def _claim_answer(claim: ReimbursementClaim) -> dict[str, object]:
    return ClaimAnswer(
        claim_id=claim.id,
        status=claim.status,
        total_fen=claim.total_fen,
        fund_fen=claim.fund_fen,
    ).model_dump()


@bp.post("/credits")
@role_required("admin")
@documented(
    body=MonthlyCredits,
    answer=Tallied,
    status=201,
    summary="Monthly credits (划入): once per person and month, all rows or none",
)
def monthly_credits() -> tuple[dict[str, object], int]:
    form = parse(MonthlyCredits)
    tally = credits.credit_month(
        uow(),
        month=form.month,
        rows=[credits.CreditRow(c.id_number, c.amount_fen) for c in form.credits],
        actor=actor(),
    )
    return {"credited": tally.credited, "skipped": tally.skipped}, 201


@bp.post("/interest")
@role_required("admin")
@documented(
    body=YearlyInterest,
    answer=Tallied,
    status=201,
    summary="A closed year's interest (结息) into every personal account, once",
)
def yearly_interest() -> tuple[dict[str, object], int]:
    form = parse(YearlyInterest)
    tally = interest.pay_interest(
        uow(),
        year=form.year,
        annual_rate_bp=form.annual_rate_bp,
        actor=actor(),
    )
    return {"credited": tally.credited, "skipped": tally.skipped}, 201


@bp.post("/reimbursements")
@role_required("admin")
@documented(body=NewClaim, answer=ClaimAnswer, status=201, summary="File a manual claim")
def file_claim() -> tuple[dict[str, object], int]:
    form = parse(NewClaim)
    claim = reimbursement.file_claim(
        uow(),
        form=reimbursement.ClaimForm(
            id_number=form.id_number,
            institution_code=form.institution_code,
            visit_date=form.visit_date,
            total_fen=form.total_fen,
            fund_fen=form.fund_fen,
        ),
        actor=actor(),
    )
    return _claim_answer(claim), 201


@bp.post("/reimbursements/<claim_id>/decision")
@role_required("admin")
@documented(body=ClaimDecision, answer=ClaimAnswer, summary="Approve or reject a manual claim")
def decide_claim(claim_id: str) -> dict[str, object]:
    form = parse(ClaimDecision)
    claim = reimbursement.decide(
        uow(),
        claim_id=claim_id,
        approve=form.approve,
        reason=form.reason,
        actor=actor(),
    )
    return _claim_answer(claim)
