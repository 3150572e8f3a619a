"""Mutual-aid use cases: a holder files and withdraws beneficiaries; a beneficiary orders the
accounts they may draw on. DOMAIN.md: "Family mutual aid".

Every write locks the persons whose order or filings it changes (in id order, so two writers
never wait on each other in a circle): a new filing takes the last place in its beneficiary's
order, and a reorder sees exactly the set it replaces.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.audit import record
from server.db.models import Person
from server.errors import (
    AlreadyFiledError,
    NotFoundError,
    RelationNotAllowedError,
    RequestValidationError,
)
from server.family.people import roster_person, signed_in_person_id
from server.mutual_aid.models import MutualAidFiling
from server.mutual_aid.queries import BeneficiaryView, SourceView, beneficiaries_of, sources_of
from server.mutual_aid.rules import (
    RELATIONS,
    FilingRefusal,
    effective_at,
    filing_refusal,
    reorder_problem,
)
from server.roster import service as roster
from server.uow import UnitOfWork


@dataclass(frozen=True)
class FilingForm:
    id_number: str
    name: str
    relation: str  # what the beneficiary is to the holder


@dataclass(frozen=True)
class Filed:
    beneficiary_id: str
    relation: str
    effective_at: datetime


def _refuse(refusal: FilingRefusal) -> None:
    if refusal is FilingRefusal.RELATION_NOT_ALLOWED:
        raise RelationNotAllowedError(
            "Only a spouse, a parent or a child may be filed for mutual aid",
            allowed=list(RELATIONS),
        )
    if refusal is FilingRefusal.SELF:
        raise RelationNotAllowedError("You cannot file yourself", reason="self")
    if refusal is FilingRefusal.SECOND_SPOUSE:
        raise RelationNotAllowedError(
            "A spouse is already filed; withdraw that filing first", reason="second_spouse"
        )
    if refusal is FilingRefusal.ALREADY_FILED:
        raise AlreadyFiledError()
    raise AssertionError(refusal)


def _lock_persons(session: Session, *person_ids: int) -> None:
    for person_id in sorted(set(person_ids)):
        session.get(Person, person_id, with_for_update=True)


def file_beneficiary(
    uow: UnitOfWork,
    *,
    user_id: int,
    form: FilingForm,
) -> Filed:
    """File a spouse, parent or child who may draw on the user's personal account.

    The filing takes effect at once, or at Beijing midnight MUTUAL_AID_DELAY_DAYS later, and joins
    the end of the beneficiary's order. Raises RELATION_NOT_ALLOWED (another relation, oneself,
    a second spouse), NOT_ACTIVATED, INSURED_NUMBER_NOT_FOUND, ALREADY_FILED, RATE_LIMITED (too
    many roster lookups today).
    """
    session, store, clock = uow.session, uow.store, uow.clock
    if form.relation not in RELATIONS:
        _refuse(FilingRefusal.RELATION_NOT_ALLOWED)
    roster.count_lookup(store, clock, user_id=user_id)
    now = clock.now()
    filing_id = str(uuid.uuid4())
    starts_at = effective_at(now, delay_days=uow.settings.mutual_aid_delay_days)
    try:
        with session.begin():
            holder_id = signed_in_person_id(session, user_id=user_id)
            beneficiary_id = roster_person(session, id_number=form.id_number, name=form.name).id
            _lock_persons(session, holder_id, beneficiary_id)
            live = select(MutualAidFiling).where(
                MutualAidFiling.holder_person_id == holder_id,
                MutualAidFiling.withdrawn_at.is_(None),
            )
            filed = session.scalars(live).all()
            refusal = filing_refusal(
                relation=form.relation,
                is_self=holder_id == beneficiary_id,
                is_already_filed=any(f.beneficiary_person_id == beneficiary_id for f in filed),
                has_spouse_filed=any(f.relation == "spouse" for f in filed),
            )
            if refusal is not None:
                _refuse(refusal)
            last = session.scalar(
                select(func.max(MutualAidFiling.position)).where(
                    MutualAidFiling.beneficiary_person_id == beneficiary_id,
                    MutualAidFiling.withdrawn_at.is_(None),
                )
            )
            session.add(
                MutualAidFiling(
                    id=filing_id,
                    holder_person_id=holder_id,
                    beneficiary_person_id=beneficiary_id,
                    relation=form.relation,
                    position=(last or 0) + 1,
                    filed_at=now,
                    effective_at=starts_at,
                )
            )
            record(
                session,
                at=now,
                actor=f"user:{user_id}",
                action="mutual_aid.filed",
                subject=filing_id,
                relation=form.relation,
            )
    except IntegrityError as exc:  # a parallel filing of the same beneficiary won
        raise AlreadyFiledError() from exc
    return Filed(beneficiary_id=filing_id, relation=form.relation, effective_at=starts_at)


def withdraw_filing(uow: UnitOfWork, *, user_id: int, beneficiary_id: str) -> None:
    """Withdraw one of the holder's filings: from now on no settlement draws on it.

    Raises NOT_ACTIVATED, NOT_FOUND (no live filing of this holder with that id).
    """
    session, clock = uow.session, uow.clock
    now = clock.now()
    with session.begin():
        holder_id = signed_in_person_id(session, user_id=user_id)
        filing = session.scalar(
            select(MutualAidFiling)
            .where(
                MutualAidFiling.id == beneficiary_id,
                MutualAidFiling.holder_person_id == holder_id,
                MutualAidFiling.withdrawn_at.is_(None),
            )
            .with_for_update()
        )
        if filing is None:
            raise NotFoundError("No such beneficiary")
        filing.withdrawn_at = now
        record(
            session,
            at=now,
            actor=f"user:{user_id}",
            action="mutual_aid.withdrawn",
            subject=beneficiary_id,
        )


def reorder_sources(
    uow: UnitOfWork,
    *,
    user_id: int,
    source_ids: Sequence[str],
) -> list[SourceView]:
    """Set the order in which the user, as a beneficiary, draws on the accounts filed for them.

    `source_ids` must hold each current source exactly once (VALIDATION_ERROR otherwise).
    Answers the sources in their new order.
    """
    session, clock = uow.session, uow.clock
    now = clock.now()
    with session.begin():
        person_id = signed_in_person_id(session, user_id=user_id)
        _lock_persons(session, person_id)
        filings = session.scalars(
            select(MutualAidFiling).where(
                MutualAidFiling.beneficiary_person_id == person_id,
                MutualAidFiling.withdrawn_at.is_(None),
            )
        ).all()
        problem = reorder_problem([f.id for f in filings], source_ids)
        if problem is not None:
            raise RequestValidationError(f"source_ids: {problem}")
        by_id = {f.id: f for f in filings}
        for position, source_id in enumerate(source_ids, start=1):
            by_id[source_id].position = position
        record(
            session,
            at=now,
            actor=f"user:{user_id}",
            action="mutual_aid.reordered",
            subject=str(person_id),
        )
        session.flush()
        return sources_of(session, beneficiary_person_id=person_id)


def list_sources(uow: UnitOfWork, *, user_id: int) -> list[SourceView]:
    """The accounts filed for the user as a beneficiary, in their order. Raises NOT_ACTIVATED."""
    session = uow.session
    with session.begin():
        person_id = signed_in_person_id(session, user_id=user_id)
        return sources_of(session, beneficiary_person_id=person_id)


def list_beneficiaries(uow: UnitOfWork, *, user_id: int) -> list[BeneficiaryView]:
    """The user's live filings as a holder. Raises NOT_ACTIVATED."""
    session = uow.session
    with session.begin():
        person_id = signed_in_person_id(session, user_id=user_id)
        return beneficiaries_of(session, holder_person_id=person_id)
