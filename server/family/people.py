"""Who is who, for family features: the signed-in person, and a relative found on the roster.

Shared by family proxy accounts and mutual aid; reads only, inside the caller's transaction.

DOMAIN.md: "Family proxy accounts (亲情账户)", "Family mutual aid (家庭共济)".
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import Credential, Person, User
from server.errors import InsuredNumberNotFoundError, NotActivatedError


def signed_in_person_id(session: Session, *, user_id: int) -> int:
    """The person behind the user's active e-credential.

    Acting for a relative needs a real-name verified user (DOMAIN.md: Activation), so a user
    with no active credential gets NotActivatedError.
    """
    user = session.get(User, user_id)
    if user is None or user.person_id is None:
        raise NotActivatedError()
    active = session.scalar(
        select(Credential.id).where(
            Credential.user_id == user_id,
            Credential.person_id == user.person_id,
            Credential.status == "active",
        )
    )
    if active is None:
        raise NotActivatedError()
    return user.person_id


def roster_person(session: Session, *, id_number: str, name: str) -> Person:
    """The insured person with exactly this ID number and name.

    A relative need not have a phone or the app, so only these two must match the roster.
    Raises InsuredNumberNotFoundError otherwise (the same answer for a wrong name as for an
    unknown number, so the call does not tell which one was wrong).
    """
    person = session.scalar(select(Person).where(Person.id_number == id_number))
    if person is None or person.name != name:
        raise InsuredNumberNotFoundError(
            "参保人员编号不存在: no insured person matches this ID number and name"
        )
    return person
