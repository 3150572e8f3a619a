"""The signed-in person as their phone shows them (GET /api/v1/me): masked person, credential
state, bound family members. DOMAIN.md "Who uses it"; CONTRACT.md "Phone app"."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from server.db.models import Credential, Person, User
from server.family.queries import MemberView, member_views
from server.uow import UnitOfWork


@dataclass(frozen=True)
class Profile:
    phone: str
    person: Person | None
    credential_id: str | None
    credential_status: str | None
    members: list[MemberView]


def profile(uow: UnitOfWork, *, user_id: int) -> Profile:
    """The user, their roster person (once activated), their credential and bound members."""
    s = uow.session
    with s.begin():
        user = s.get(User, user_id)
        assert user is not None  # a valid access token names an existing user
        person = s.get(Person, user.person_id) if user.person_id else None
        credential = None
        if person is not None:
            credential = s.scalar(
                select(Credential)
                .where(Credential.person_id == person.id, Credential.user_id == user_id)
                # the active one when there is one, else the latest
                .order_by((Credential.status == "active").desc(), Credential.activated_at.desc())
                .limit(1)
            )
        members = member_views(s, user_id=user_id)
    return Profile(
        phone=user.phone,
        person=person,
        credential_id=credential.id if credential else None,
        credential_status=credential.status if credential else None,
        members=members,
    )
