"""Physical social-security cards: issue, report lost.

DOMAIN.md: "The e-credential".
"""

from __future__ import annotations

from server.agency.common import IdNumber, Ok, actor, bp
from server.cards import service as cards
from server.http import Answer, Schema, documented, parse, role_required
from server.web.context import uow


class NewCard(Schema):
    id_number: IdNumber


class CardIssued(Answer):
    card_no: str


@bp.post("/cards")
@role_required("admin")
@documented(body=NewCard, answer=CardIssued, status=201, summary="Issue a social-security card")
def issue_card() -> tuple[dict[str, object], int]:
    form = parse(NewCard)
    card_no = cards.issue_card(uow(), id_number=form.id_number, actor=actor())
    return CardIssued(card_no=card_no).model_dump(), 201


@bp.post("/cards/<card_no>/report-lost")
@role_required("admin")
@documented(answer=Ok, summary="Report a card lost; the e-credential keeps working")
def report_card_lost(card_no: str) -> dict[str, object]:
    cards.report_lost(uow(), card_no=card_no, actor=actor())
    return Ok().model_dump()
