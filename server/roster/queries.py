"""Reads of the roster: an insured person found by ID number, as a clerk looks one up.

DOMAIN.md: "Who uses it" (the agency clerk keeps the roster).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import Person
from server.errors import NotFoundError


def person_by_id_number(session: Session, id_number: str) -> Person:
    """The insured person with this ID number. Raises NOT_FOUND when the roster has none."""
    person = session.scalar(select(Person).where(Person.id_number == id_number))
    if person is None:
        raise NotFoundError("No insured person with this ID number")
    return person
