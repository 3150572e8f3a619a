"""Supplementary insurance bought from the personal account. CONTRACT.md, Phone app."""

from __future__ import annotations

from typing import Annotated, Any

from flask import Blueprint
from pydantic import Field

from server.accounts.service import holder_of
from server.clock import iso
from server.db import session
from server.http import Answer, Schema, current_user_id, documented, parse, role_required
from server.privacy import mask_id_number
from server.supplementary import service
from server.wiring import wiring

bp = Blueprint("supplementary", __name__, url_prefix="/api/v1/supplementary-insurance")


class PurchaseRequest(Schema):
    product_code: Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]
    premium_fen: int
    insured: Annotated[
        str, Field(min_length=1, max_length=18, description='"self" or an ID number')
    ]


class PurchaseAnswer(Answer):
    purchase_id: str
    product_code: str
    insured: str = Field(description='"self", or the masked ID number of the beneficiary')
    year: int
    premium_fen: int
    purchased_at: str


@bp.post("/purchases")
@role_required("user")
@documented(
    body=PurchaseRequest,
    answer=PurchaseAnswer,
    status=201,
    summary="Pay a premium from the personal account (whole premium or nothing)",
)
def purchase() -> tuple[dict[str, Any], int]:
    body = parse(PurchaseRequest)
    user_id = current_user_id()
    holder = holder_of(session(), user_id)
    for_self = body.insured in ("self", holder.id_number)
    done = (
        service.buy_for_self(
            session(),
            clock=wiring().clock,
            user_id=user_id,
            person_id=holder.person_id,
            account_id=holder.account_id,
            product_code=body.product_code,
            premium_fen=body.premium_fen,
        )
        if for_self
        else service.buy_for_beneficiary(
            session(),
            clock=wiring().clock,
            user_id=user_id,
            holder_person_id=holder.person_id,
            account_id=holder.account_id,
            id_number=body.insured,
            product_code=body.product_code,
            premium_fen=body.premium_fen,
        )
    )
    p = done.purchase
    answer = PurchaseAnswer(
        purchase_id=p.id,
        product_code=p.product_code,
        insured="self" if for_self else mask_id_number(body.insured),
        year=p.year,
        premium_fen=p.premium_fen,
        purchased_at=iso(p.purchased_at),
    ).model_dump()
    return answer, 200 if done.replayed else 201
