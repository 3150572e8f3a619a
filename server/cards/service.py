"""Cards at the agency counter: issue (a new card replaces the old), report lost.

DOMAIN.md: "The e-credential".
"""

from __future__ import annotations

import secrets

from sqlalchemy import update

from server.audit import record
from server.cards.models import Card
from server.errors import NotFoundError
from server.privacy import mask_id_number
from server.roster.queries import person_by_id_number
from server.uow import UnitOfWork


def _new_card_no() -> str:
    # 12 random digits after a region letter: not derived from the ID number, so a card number
    # on a receipt reveals nothing about its holder.
    return "B" + "".join(secrets.choice("0123456789") for _ in range(12))


def issue_card(uow: UnitOfWork, *, id_number: str, actor: str) -> str:
    """A new active card for the person; an earlier active card is replaced (stops working)."""
    session, clock = uow.session, uow.clock
    now = clock.now()
    with session.begin():
        person_id = person_by_id_number(session, id_number).id
        session.execute(
            update(Card)
            .where(Card.person_id == person_id, Card.status == "active")
            .values(status="replaced", replaced_at=now)
        )
        card_no = _new_card_no()
        while session.get(Card, card_no) is not None:  # a 1-in-10^12 clash
            card_no = _new_card_no()
        session.add(Card(card_no=card_no, person_id=person_id, status="active", issued_at=now))
        record(
            session, at=now, actor=actor, action="card.issued", subject=mask_id_number(id_number)
        )
    return card_no


def report_lost(uow: UnitOfWork, *, card_no: str, actor: str) -> None:
    """Stop a card: settlements with it answer CARD_REPORTED_LOST; the e-credential still pays.
    Reporting a lost card again changes nothing."""
    session, clock = uow.session, uow.clock
    now = clock.now()
    with session.begin():
        card = session.get(Card, card_no, with_for_update=True)
        if card is None:
            raise NotFoundError("No card with this number")
        if card.status == "active":
            card.status = "lost"
            card.lost_at = now
            record(session, at=now, actor=actor, action="card.reported_lost", subject=card_no)
