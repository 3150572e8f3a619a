"""Supplementary insurance bought from the personal account. CONTRACT.md, Phone app.

DOMAIN.md: "The personal account (个人账户) and who pays what".
"""

from __future__ import annotations

from typing import Annotated, Any

from flask import Blueprint
from pydantic import Field

from server.clock import iso
from server.http import Answer, Schema, current_user_id, documented, parse, role_required
from server.privacy import mask_id_number
from server.supplementary import service
from server.web.context import uow

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
    done = service.buy(
        uow(),
        user_id=user_id,
        insured=body.insured,
        product_code=body.product_code,
        premium_fen=body.premium_fen,
    )
    p = done.purchase
    answer = PurchaseAnswer(
        purchase_id=p.id,
        product_code=p.product_code,
        insured="self" if done.for_holder else mask_id_number(body.insured),
        year=p.year,
        premium_fen=p.premium_fen,
        purchased_at=iso(p.purchased_at),
    ).model_dump()
    return answer, 200 if done.replayed else 201
