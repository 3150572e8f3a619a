"""Supplementary insurance bought from the personal account. CONTRACT.md, Phone app."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from flask import Blueprint
from pydantic import Field

from server.accounts.service import holder_of
from server.clock import iso
from server.db import session
from server.errors import RelationNotAllowedError
from server.http import Answer, Schema, current_user_id, documented, parse, role_required
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
    insured: Literal["self"]
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
    if body.insured != "self":
        # TODO(issue 6): premiums for a filed spouse, parent or child, once filings exist.
        raise RelationNotAllowedError("Only purchases for oneself are available yet")
    user_id = current_user_id()
    holder = holder_of(session(), user_id)
    done = service.buy_for_self(
        session(),
        clock=wiring().clock,
        user_id=user_id,
        person_id=holder.person_id,
        account_id=holder.account_id,
        product_code=body.product_code,
        premium_fen=body.premium_fen,
    )
    p = done.purchase
    answer = PurchaseAnswer(
        purchase_id=p.id,
        product_code=p.product_code,
        insured="self",
        year=p.year,
        premium_fen=p.premium_fen,
        purchased_at=iso(p.purchased_at),
    ).model_dump()
    return answer, 200 if done.replayed else 201
