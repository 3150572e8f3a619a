"""Scanner calls: sign-in here; scanning (issue 4) and settlement (issue 5) join this blueprint."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from flask import Blueprint
from pydantic import Field, model_validator

from server.auth.tokens import access_token, checks_own_terminal_revocation
from server.clock import beijing_date, iso
from server.credentials import scanning as credentials
from server.http import Answer, Schema, claims, documented, parse, parse_query, role_required
from server.institutions.service import authenticate_terminal
from server.settlement import refunds
from server.settlement import service as settlement
from server.settlement.models import Settlement, SettlementRefund
from server.settlement.rules import Medium, Scene
from server.web.context import uow, wiring

bp = Blueprint("terminal", __name__, url_prefix="/api/v1/terminal")


class TerminalLogin(Schema):
    terminal_id: Annotated[str, Field(min_length=1, max_length=64)]
    secret: Annotated[str, Field(min_length=1, max_length=256)]


class AccessToken(Answer):
    access_token: str


@bp.post("/token")
@documented(body=TerminalLogin, answer=AccessToken, summary="A terminal signs in")
def token() -> dict[str, object]:
    form = parse(TerminalLogin)
    who = authenticate_terminal(uow(), terminal_id=form.terminal_id, secret=form.secret)
    return {
        "access_token": access_token(
            "terminal", who.terminal_id, inst=who.institution_id, inst_code=who.institution_code
        )
    }


class ScanRequest(Schema):
    # Longer than any code on purpose: an oversized text is QR_MALFORMED, not VALIDATION_ERROR.
    qr_text: Annotated[str, Field(max_length=4096)]


class ScannedPerson(Answer):
    name_masked: str
    id_number_masked: str
    insurance_type: str
    region: str


class PresentedBy(Answer):
    name_masked: str
    relation: str | None


class ScanAnswer(Answer):
    scan_token: str
    expires_at: str
    person: ScannedPerson
    presented_by: PresentedBy | None


@bp.post("/scan")
@role_required("terminal")
@checks_own_terminal_revocation  # the scan's read refuses a revoked terminal (one store call)
@documented(body=ScanRequest, answer=ScanAnswer, summary="Verify an e-credential code")
def scan() -> dict[str, object]:
    form = parse(ScanRequest)
    who = claims()
    done = credentials.scan(
        uow(),
        qr_text=form.qr_text,
        terminal_id=str(who["sub"]),
        institution_id=int(who["inst"]),
        refuse_revoked_terminal=True,
    )
    # ScanAnswer's shape, built as plain data (a hot path: tests check it against the model).
    return {
        "scan_token": done.scan_token,
        "expires_at": iso(done.expires_at),
        "person": vars(done.person),
        "presented_by": None if done.presented_by is None else vars(done.presented_by),
    }


# --- settlement (issues 5 and 11) ----------------------------------------------------------------
class SettlementRequest(Schema):
    order_no: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$")]
    scene: Annotated[Scene, Field(strict=False)]  # the enum's values, as JSON text
    medium: Literal["ecredential", "card"]
    scan_token: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    card_no: Annotated[str | None, Field(min_length=1, max_length=20)] = None
    total_fen: int
    fund_fen: Annotated[
        int | None,
        Field(
            description="the institution's own decomposition, used as is (the person's year is "
            "not touched); omitted: computed with the benefit policy, explained in fund_detail"
        ),
    ] = None
    fulamt_ownpay_fen: Annotated[int, Field(description="全自费, outside the policy")] = 0
    preselfpay_fen: Annotated[int, Field(description="先行自付 of category-B items")] = 0
    overlmt_selfpay_fen: Annotated[int, Field(description="超限价自付, over a price limit")] = 0
    payment_password: Annotated[str | None, Field(pattern=r"^\d{6}$")] = None

    @model_validator(mode="after")
    def _medium_names_its_identity(self) -> SettlementRequest:
        if self.medium == "ecredential" and (self.scan_token is None or self.card_no is not None):
            raise ValueError("medium ecredential takes scan_token (and no card_no)")
        if self.medium == "card" and (self.card_no is None or self.scan_token is not None):
            raise ValueError("medium card takes card_no (and no scan_token)")
        return self


class PaidFrom(Answer):
    source: str = Field(description='"self" or the holder\'s relation (mutual aid)')
    holder_masked: str
    amount_fen: int


class FundDetail(Answer):
    """Why the fund pays what it pays (docs/benefit-policy.md); null when the terminal sent it."""

    rule: str = Field(description="the rule's name in the policy file")
    pool: str | None = Field(description="the pool it counts in; null for a fixed amount")
    eligible_fen: int = Field(description="符合范围金额: the bill less its out-of-scope parts")
    deductible_applied_fen: int = Field(description="taken by the deductible on this bill")
    ratio_bp: int | None = Field(description="the ratio in basis points; null for a fixed amount")
    fixed_fen: int | None = Field(description="the fixed amount per visit; null for a pool")
    cap_left_fen: int | None = Field(description="the year's cap left after it; null: no cap")


class SettlementAnswer(Answer):
    settlement_id: str
    order_no: str
    scene: str
    medium: str
    total_fen: int
    fund_fen: int
    personal_burden_fen: int
    paid_from_accounts: list[PaidFrom]
    cash_due_fen: int
    password_checked: bool
    settled_at: str
    status: Literal["settled", "refunded"]
    refunded_at: str | None
    fund_detail: FundDetail | None


class PreviewAnswer(Answer):
    """A settlement's answer before it happens (试算): no id, no time, nothing written."""

    order_no: str
    scene: str
    medium: str
    total_fen: int
    fund_fen: int
    personal_burden_fen: int
    paid_from_accounts: list[PaidFrom]
    cash_due_fen: int
    password_needed: bool
    fund_detail: FundDetail | None


class ReconciliationQuery(Schema):
    # Bounded, so that the day's instants always exist (year 1 in Beijing is year 0 in UTC).
    date: Annotated[dt.date | None, Field(ge=dt.date(2000, 1, 1), le=dt.date(2199, 12, 31))] = None


class SettlementFigures(Answer):
    count: int
    total_fen: int
    fund_fen: int
    personal_account_fen: int
    mutual_aid_fen: int
    cash_fen: int


class RefundFigures(Answer):
    count: int
    amount_fen: int


class ReconciliationAnswer(Answer):
    date: str
    institution_code: str
    settlements: SettlementFigures
    refunds: RefundFigures
    digest: str = Field(
        description="SHA-256 hex over the day's settlements sorted by id, one line each: "
        "id:total_fen:fund_fen:personal_account_fen:mutual_aid_fen:cash_fen\\n"
    )


def _terminal() -> settlement.Terminal:
    """The signed-in terminal; a settlement or a refund reads its row and refuses it when revoked
    (the views marked `checks_own_terminal_revocation`)."""
    c = claims()
    return settlement.Terminal(
        terminal_id=str(c["sub"]), institution_id=int(c["inst"]), refuse_revoked=True
    )


def _settlement_answer(
    s: Settlement | settlement.Settled, refund: SettlementRefund | None
) -> dict[str, Any]:
    """SettlementAnswer's shape, built as plain data: every settlement answers it, and building
    the models cost more Python than the rest of the answer (tests check it against them)."""
    return {
        "settlement_id": s.id,
        "order_no": s.order_no,
        "scene": s.scene,
        "medium": s.medium,
        "total_fen": s.total_fen,
        "fund_fen": s.fund_fen,
        "personal_burden_fen": s.total_fen - s.fund_fen,
        "paid_from_accounts": _paid_from(s.legs),
        "cash_due_fen": s.cash_fen,
        "password_checked": s.password_checked,
        "settled_at": iso(s.settled_at),
        "status": "refunded" if refund is not None else "settled",
        "refunded_at": iso(refund.refunded_at) if refund is not None else None,
        "fund_detail": FundDetail(**s.fund_detail).model_dump()
        if s.fund_detail is not None
        else None,
    }


def _paid_from(legs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """PaidFrom's shape for each leg, as plain data (a settlement's answer is built so)."""
    return [
        {
            "source": leg["source"],
            "holder_masked": leg["holder_masked"],
            "amount_fen": leg["amount_fen"],
        }
        for leg in legs
    ]


def _request(body: SettlementRequest) -> settlement.SettleRequest:
    return settlement.SettleRequest(
        order_no=body.order_no,
        scene=body.scene,
        medium=Medium(body.medium),
        scan_token=body.scan_token,
        card_no=body.card_no,
        total_fen=body.total_fen,
        fund_fen=body.fund_fen,
        payment_password=body.payment_password,
        fulamt_ownpay_fen=body.fulamt_ownpay_fen,
        preselfpay_fen=body.preselfpay_fen,
        overlmt_selfpay_fen=body.overlmt_selfpay_fen,
    )


@bp.post("/settlements")
@role_required("terminal")
@checks_own_terminal_revocation  # ec_settle (or the reference) reads the terminal's row first
@documented(
    body=SettlementRequest,
    answer=SettlementAnswer,
    status=201,
    summary="Settle a bill: fund, own account, mutual aid, then cash (200 for a retry)",
)
def settle() -> tuple[dict[str, Any], int]:
    body = parse(SettlementRequest)
    outcome = settlement.settle(uow(), terminal=_terminal(), request=_request(body))
    return _settlement_answer(outcome.settlement, outcome.refund), 200 if outcome.replayed else 201


@bp.post("/settlements/preview")
@role_required("terminal")
@documented(
    body=SettlementRequest,
    answer=PreviewAnswer,
    summary="Preview a bill (试算): the same answer, nothing written, the scan token unused",
)
def preview() -> dict[str, Any]:
    body = parse(SettlementRequest)
    quote = settlement.preview(uow(), terminal=_terminal(), request=_request(body))
    return PreviewAnswer(
        order_no=body.order_no,
        scene=body.scene.value,
        medium=body.medium,
        total_fen=body.total_fen,
        fund_fen=quote.fund_fen,
        personal_burden_fen=quote.personal_burden_fen,
        paid_from_accounts=[PaidFrom(**leg) for leg in _paid_from(quote.legs)],
        cash_due_fen=quote.cash_fen,
        password_needed=quote.password_needed,
        fund_detail=FundDetail(**quote.fund_detail) if quote.fund_detail is not None else None,
    ).model_dump()


@bp.get("/settlements/<settlement_id>")
@role_required("terminal")
@documented(answer=SettlementAnswer, summary="One settlement of this terminal's institution")
def get_settlement(settlement_id: str) -> dict[str, Any]:
    found, refund = settlement.look_up(
        uow(), institution_id=_terminal().institution_id, settlement_id=settlement_id
    )
    return _settlement_answer(found, refund)


@bp.post("/settlements/<settlement_id>/refund")
@role_required("terminal")
@checks_own_terminal_revocation  # ec_refund (or the reference) reads the terminal's row first
@documented(answer=SettlementAnswer, summary="Refund a settlement: every fen back where it came")
def refund_settlement(settlement_id: str) -> dict[str, Any]:
    found, refund = refunds.refund(uow(), terminal=_terminal(), settlement_id=settlement_id)
    return _settlement_answer(found, refund)


@bp.get("/reconciliation")
@role_required("terminal")
@documented(query=ReconciliationQuery, answer=ReconciliationAnswer, summary="The day's figures")
def reconciliation() -> dict[str, Any]:
    query = parse_query(ReconciliationQuery)
    day = query.date or beijing_date(wiring().clock.now())
    figures = settlement.reconcile(uow(), institution_id=_terminal().institution_id, day=day)
    return ReconciliationAnswer(
        date=day.isoformat(),
        institution_code=str(claims().get("inst_code", "")),
        settlements=SettlementFigures(
            count=figures.count,
            total_fen=figures.total_fen,
            fund_fen=figures.fund_fen,
            personal_account_fen=figures.personal_account_fen,
            mutual_aid_fen=figures.mutual_aid_fen,
            cash_fen=figures.cash_fen,
        ),
        refunds=RefundFigures(count=figures.refund_count, amount_fen=figures.refund_fen),
        digest=figures.digest,
    ).model_dump()
