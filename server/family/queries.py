"""Reads of family proxy bindings (亲情账户), used by the QR code, /me and the family routes,
and of a member's yearly expenses.

DOMAIN.md: "Family proxy accounts". Only live bindings count: once a member is unbound, every
read here answers as if the binding had never been, so proxy codes stop at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from server.clock import beijing_date
from server.db.models import Institution, Person
from server.errors import NotFoundError
from server.family.models import FamilyMember
from server.family.rules import Visit, beijing_year_bounds, claim_visit
from server.privacy import mask_id_number, mask_name
from server.reimbursement.service import approved_claims
from server.settlement.models import Settlement, SettlementRefund


@dataclass(frozen=True)
class ProxyMember:
    member_id: str
    person_id: int
    relation: str  # what the member is to the user, as bound (family.rules.inverse_relation)


@dataclass(frozen=True)
class MemberView:
    """A bound member as the proxy sees them: masked."""

    member_id: str
    name_masked: str
    id_number_masked: str
    relation: str
    bound_at: datetime


def _live(user_id: int) -> tuple[ColumnElement[bool], ...]:
    return (FamilyMember.user_id == user_id, FamilyMember.unbound_at.is_(None))


def proxy_member(session: Session, *, user_id: int, member_id: str) -> ProxyMember:
    """The member a user has bound under `member_id`.

    Raises NotFoundError when this user has no live binding with that id: never bound, bound
    by somebody else, or unbound.
    """
    row = session.scalar(select(FamilyMember).where(FamilyMember.id == member_id, *_live(user_id)))
    if row is None:
        raise NotFoundError("No such family member")
    return ProxyMember(member_id=row.id, person_id=row.person_id, relation=row.relation)


def member_views(session: Session, *, user_id: int) -> list[MemberView]:
    """The user's live bindings, oldest first, masked."""
    rows = session.execute(
        select(FamilyMember, Person)
        .join(Person, Person.id == FamilyMember.person_id)
        .where(*_live(user_id))
        .order_by(FamilyMember.bound_at, FamilyMember.id)
    ).all()
    return [
        MemberView(
            member_id=member.id,
            name_masked=mask_name(person.name),
            id_number_masked=mask_id_number(person.id_number),
            relation=member.relation,
            bound_at=member.bound_at,
        )
        for member, person in rows
    ]


def yearly_visits(session: Session, *, person_id: int, year: int) -> list[Visit]:
    """A person's visits in a Beijing calendar year, by date: real-time settlements (except
    refunded ones: that bill was given back) and approved manual claims."""
    start, end = beijing_year_bounds(year)
    settled = session.execute(
        select(Settlement, Institution.name)
        .join(Institution, Institution.id == Settlement.institution_id)
        .outerjoin(SettlementRefund, SettlementRefund.settlement_id == Settlement.id)
        .where(
            Settlement.person_id == person_id,
            Settlement.settled_at >= start,
            Settlement.settled_at < end,
            SettlementRefund.id.is_(None),
        )
    ).all()
    visits = [
        Visit(
            on=beijing_date(s.settled_at),
            institution=institution,
            scene=s.scene,
            kind="settlement",
            total_fen=s.total_fen,
            fund_fen=s.fund_fen,
            personal_account_fen=s.personal_account_fen + s.mutual_aid_fen,
            mutual_aid_fen=s.mutual_aid_fen,
            cash_fen=s.cash_fen,
        )
        for s, institution in settled
    ]
    claims = approved_claims(session, person_id=person_id, year=year)
    names: dict[int, str] = {
        institution_id: name
        for institution_id, name in session.execute(
            select(Institution.id, Institution.name).where(
                Institution.id.in_({c.institution_id for c in claims})
            )
        )
    }
    visits += [
        claim_visit(
            on=c.visit_date,
            institution=names[c.institution_id],
            total_fen=c.total_fen,
            fund_fen=c.fund_fen,
        )
        for c in claims
    ]
    return sorted(visits, key=lambda v: v.on)
