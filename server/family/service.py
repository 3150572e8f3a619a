"""Family proxy use cases: bind a member (with their own face as consent) and unbind them.

DOMAIN.md: "Family proxy accounts". Reads are phased as in activation: a short read
transaction, the face check outside any transaction, then a write transaction that takes the
user's row lock and checks the limit and duplicates again, so two parallel bindings can never
make a sixth member or bind one person twice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.audit import record
from server.db.models import User
from server.decoding import image
from server.errors import (
    AlreadyBoundError,
    FaceMismatchError,
    FamilyLimitReachedError,
    NotFoundError,
    RelationNotAllowedError,
)
from server.family.models import FamilyMember
from server.family.people import roster_person, signed_in_person_id
from server.family.queries import MemberView, member_views, proxy_member, yearly_visits
from server.family.rules import (
    FAMILY_LIMIT,
    RELATIONS,
    BindingRefusal,
    Visit,
    YearTotals,
    binding_refusal,
    year_totals,
)
from server.roster import service as roster
from server.uow import UnitOfWork


@dataclass(frozen=True)
class BindingForm:
    id_number: str
    name: str
    relation: str
    face_image: str  # base64 of the member's live photo


def _refuse(refusal: BindingRefusal, *, existing_member_id: str | None = None) -> None:
    if refusal is BindingRefusal.RELATION_NOT_ALLOWED:
        raise RelationNotAllowedError(
            f"A family member is one of: {', '.join(RELATIONS)}", allowed=list(RELATIONS)
        )
    if refusal is BindingRefusal.SELF:
        raise RelationNotAllowedError("You cannot bind yourself as a family member", reason="self")
    if refusal is BindingRefusal.ALREADY_BOUND:
        raise AlreadyBoundError(member_id=existing_member_id)
    if refusal is BindingRefusal.LIMIT_REACHED:
        raise FamilyLimitReachedError(limit=FAMILY_LIMIT)
    raise AssertionError(refusal)


def _check(
    session: Session, *, user_id: int, self_person_id: int, person_id: int, relation: str
) -> None:
    existing = session.scalar(
        select(FamilyMember.id).where(
            FamilyMember.user_id == user_id,
            FamilyMember.person_id == person_id,
            FamilyMember.unbound_at.is_(None),
        )
    )
    count = session.scalar(
        select(func.count())
        .select_from(FamilyMember)
        .where(FamilyMember.user_id == user_id, FamilyMember.unbound_at.is_(None))
    )
    refusal = binding_refusal(
        relation=relation,
        is_self=person_id == self_person_id,
        is_already_bound=existing is not None,
        bound_count=count or 0,
    )
    if refusal is not None:
        _refuse(refusal, existing_member_id=existing)


def bind_member(uow: UnitOfWork, *, user_id: int, form: BindingForm) -> str:
    """Bind a family member to the user; answers the new member_id.

    Raises RELATION_NOT_ALLOWED (a relation outside the list, or oneself), NOT_ACTIVATED (the
    user is not real-name verified), INSURED_NUMBER_NOT_FOUND (ID number and name match nobody
    on the roster), ALREADY_BOUND, FAMILY_LIMIT_REACHED (a sixth member), FACE_MISMATCH (the
    live photo is not the member's: their face is their consent), RATE_LIMITED (too many
    roster lookups today).
    """
    session, store, clock, face = uow.session, uow.store, uow.clock, uow.face
    if form.relation not in RELATIONS:
        _refuse(BindingRefusal.RELATION_NOT_ALLOWED)
    face_image = image(form.face_image, "face_image")
    roster.count_lookup(store, clock, user_id=user_id)

    with session.begin():
        self_person_id = signed_in_person_id(session, user_id=user_id)
        person = roster_person(session, id_number=form.id_number, name=form.name)
        person_id, template = person.id, person.face_template
        _check(
            session,
            user_id=user_id,
            self_person_id=self_person_id,
            person_id=person_id,
            relation=form.relation,
        )

    if not face.matches(template, face_image):
        raise FaceMismatchError("The live photo is not the family member's enrolled face")

    now = clock.now()
    member_id = str(uuid.uuid4())
    try:
        with session.begin():
            # The user's row lock serialises this user's bindings: the count below is exact.
            session.get(User, user_id, with_for_update=True)
            _check(
                session,
                user_id=user_id,
                self_person_id=self_person_id,
                person_id=person_id,
                relation=form.relation,
            )
            session.add(
                FamilyMember(
                    id=member_id,
                    user_id=user_id,
                    person_id=person_id,
                    relation=form.relation,
                    bound_at=now,
                )
            )
            record(
                session,
                at=now,
                actor=f"user:{user_id}",
                action="family.member_bound",
                subject=member_id,
                relation=form.relation,
            )
    except IntegrityError as exc:  # a parallel binding of the same person won
        raise AlreadyBoundError() from exc
    return member_id


def unbind_member(uow: UnitOfWork, *, user_id: int, member_id: str) -> None:
    """End a binding: from now on the user can neither show the member's code nor read their
    expenses. Raises NOT_FOUND when the user has no live binding with that id."""
    session, clock = uow.session, uow.clock
    now = clock.now()
    with session.begin():
        member = session.scalar(
            select(FamilyMember)
            .where(
                FamilyMember.id == member_id,
                FamilyMember.user_id == user_id,
                FamilyMember.unbound_at.is_(None),
            )
            .with_for_update()
        )
        if member is None:
            raise NotFoundError("No such family member")
        member.unbound_at = now
        record(
            session,
            at=now,
            actor=f"user:{user_id}",
            action="family.member_unbound",
            subject=member_id,
        )


def list_members(uow: UnitOfWork, *, user_id: int) -> list[MemberView]:
    """The user's live bindings, masked (none before activation: binding needs it)."""
    session = uow.session
    with session.begin():
        return member_views(session, user_id=user_id)


@dataclass(frozen=True)
class Expenses:
    member_id: str
    year: int
    totals: YearTotals
    visits: list[Visit]


def member_expenses(uow: UnitOfWork, *, user_id: int, member_id: str, year: int) -> Expenses:
    """A bound member's medical expenses in a Beijing calendar year (001: "annual medical
    expenses"). Raises NOT_FOUND unless this user has a live binding of that member."""
    session = uow.session
    with session.begin():
        member = proxy_member(session, user_id=user_id, member_id=member_id)
        visits = yearly_visits(session, person_id=member.person_id, year=year)
    return Expenses(member_id=member_id, year=year, totals=year_totals(visits), visits=visits)
