"""Reads of mutual-aid filings (家庭共济): what settlement draws on, and what people see.

DOMAIN.md: "Family mutual aid". A beneficiary draws only on accounts filed *for them*; a
holder's own sources are never passed on, so circular filings and a beneficiary who is also a
holder need no special case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import ColumnElement, Table, bindparam, or_, select
from sqlalchemy.orm import Session, aliased

from server.db.models import Account, Person
from server.mutual_aid.models import MutualAidFiling
from server.mutual_aid.rules import holder_relation
from server.privacy import mask_id_number, mask_name


@dataclass(frozen=True)
class DrawSource:
    """A holder's account that a beneficiary may draw on, in the beneficiary's order."""

    holder_person_id: int
    account_id: int
    relation: str  # what the holder is to the beneficiary: spouse | parent | child
    holder_masked: str


@dataclass(frozen=True)
class SourceView:
    """A filing as its beneficiary sees it (GET /api/v1/mutual-aid/sources)."""

    source_id: str
    holder_masked: str
    relation: str  # what the holder is to the beneficiary
    effective_at: datetime


@dataclass(frozen=True)
class BeneficiaryView:
    """A filing as its holder sees it (GET /api/v1/mutual-aid/beneficiaries)."""

    beneficiary_id: str
    name_masked: str
    id_number_masked: str
    relation: str  # what the beneficiary is to the holder, as filed
    filed_at: datetime
    effective_at: datetime


def _not_withdrawn_at(at: datetime) -> ColumnElement[bool]:
    return or_(MutualAidFiling.withdrawn_at.is_(None), MutualAidFiling.withdrawn_at > at)


_ORDER = (MutualAidFiling.position, MutualAidFiling.filed_at, MutualAidFiling.id)


_FILINGS = cast(Table, MutualAidFiling.__table__)
_PERSONS = cast(Table, Person.__table__)
_ACCOUNTS = cast(Table, Account.__table__)
# Read on every settlement: built once, plain columns (no ORM entities to load).
_DRAWABLE = (
    select(_FILINGS.c.holder_person_id, _FILINGS.c.relation, _PERSONS.c.name, _ACCOUNTS.c.id)
    .join(_PERSONS, _PERSONS.c.id == _FILINGS.c.holder_person_id)
    .join(_ACCOUNTS, _ACCOUNTS.c.person_id == _FILINGS.c.holder_person_id)
    .where(
        _FILINGS.c.beneficiary_person_id == bindparam("beneficiary_person_id"),
        _FILINGS.c.effective_at <= bindparam("at"),
        or_(_FILINGS.c.withdrawn_at.is_(None), _FILINGS.c.withdrawn_at > bindparam("at")),
    )
    .order_by(_FILINGS.c.position, _FILINGS.c.filed_at, _FILINGS.c.id)
)


def drawable_sources(
    session: Session, *, beneficiary_person_id: int, at: datetime
) -> list[DrawSource]:
    """Effective filings for the beneficiary at `at`, in the beneficiary's chosen order.

    Effective: filed, not withdrawn by `at`, and its effective instant reached
    (MUTUAL_AID_DELAY_DAYS). Balances are not read here: settlement locks the accounts itself,
    inside the same transaction, and takes what each holds then.
    """
    rows = session.execute(
        _DRAWABLE, {"beneficiary_person_id": beneficiary_person_id, "at": at}
    ).all()
    return [
        DrawSource(
            holder_person_id=holder_person_id,
            account_id=account_id,
            relation=holder_relation(relation),
            holder_masked=mask_name(holder_name),
        )
        for holder_person_id, relation, holder_name, account_id in rows
    ]


def sources_of(session: Session, *, beneficiary_person_id: int) -> list[SourceView]:
    """Every live filing naming the beneficiary, effective or not yet, in their order."""
    rows = session.execute(
        select(MutualAidFiling, Person.name)
        .join(Person, Person.id == MutualAidFiling.holder_person_id)
        .where(
            MutualAidFiling.beneficiary_person_id == beneficiary_person_id,
            MutualAidFiling.withdrawn_at.is_(None),
        )
        .order_by(*_ORDER)
    ).all()
    return [
        SourceView(
            source_id=filing.id,
            holder_masked=mask_name(holder_name),
            relation=holder_relation(filing.relation),
            effective_at=filing.effective_at,
        )
        for filing, holder_name in rows
    ]


def beneficiaries_of(session: Session, *, holder_person_id: int) -> list[BeneficiaryView]:
    """The holder's live filings, oldest first, masked."""
    beneficiary = aliased(Person)
    rows = session.execute(
        select(MutualAidFiling, beneficiary)
        .join(beneficiary, beneficiary.id == MutualAidFiling.beneficiary_person_id)
        .where(
            MutualAidFiling.holder_person_id == holder_person_id,
            MutualAidFiling.withdrawn_at.is_(None),
        )
        .order_by(MutualAidFiling.filed_at, MutualAidFiling.id)
    ).all()
    return [
        BeneficiaryView(
            beneficiary_id=filing.id,
            name_masked=mask_name(person.name),
            id_number_masked=mask_id_number(person.id_number),
            relation=filing.relation,
            filed_at=filing.filed_at,
            effective_at=filing.effective_at,
        )
        for filing, person in rows
    ]


def effective_beneficiary_id(
    session: Session, *, holder_person_id: int, id_number: str, at: datetime
) -> int | None:
    """The person with this ID number when the holder's filing of them is effective at `at`
    (to buy supplementary insurance for them from the holder's account), else None.

    The filing row is locked, so a withdrawal waits until the caller's transaction ends.
    """
    beneficiary = aliased(Person)
    return session.scalar(
        select(MutualAidFiling.beneficiary_person_id)
        .join(beneficiary, beneficiary.id == MutualAidFiling.beneficiary_person_id)
        .where(
            MutualAidFiling.holder_person_id == holder_person_id,
            beneficiary.id_number == id_number,
            MutualAidFiling.effective_at <= at,
            _not_withdrawn_at(at),
        )
        .with_for_update(of=MutualAidFiling)
    )
