"""Reads of family proxy bindings, used by the QR code and /me. TODO(issue 6): the bindings."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from server.errors import NotFoundError


@dataclass(frozen=True)
class ProxyMember:
    member_id: str
    person_id: int
    relation: str


def proxy_member(session: Session, *, user_id: int, member_id: str) -> ProxyMember:
    """The member a user has bound under `member_id`; NotFoundError otherwise."""
    raise NotFoundError("No such family member")


def members_of(session: Session, *, user_id: int) -> list[dict[str, object]]:
    """The user's bound members, masked, for GET /api/v1/me."""
    return []
