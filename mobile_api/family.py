"""Family proxy accounts (亲情账户): bind, list, unbind, and a member's yearly expenses.

CONTRACT.md: Phone app, /api/v1/family. DOMAIN.md: "Family proxy accounts".
"""

from __future__ import annotations

from typing import Annotated, Any

from flask import Blueprint
from pydantic import Field

from server.db import session
from server.family import service
from server.family.rules import RELATIONS
from server.http import Answer, Schema, current_user_id, documented, parse, role_required
from server.wiring import wiring

bp = Blueprint("family", __name__, url_prefix="/api/v1/family")


class BindRequest(Schema):
    id_number: Annotated[str, Field(min_length=18, max_length=18)]
    name: Annotated[str, Field(min_length=1, max_length=64)]
    relation: Annotated[
        str,
        Field(
            min_length=1,
            max_length=16,
            description=f"what the member is to you: {', '.join(RELATIONS)}",
            examples=["parent"],
        ),
    ]
    face_image: Annotated[
        str, Field(min_length=1, description="base64 of the member's own live photo (consent)")
    ]


class Bound(Answer):
    member_id: str


class Member(Answer):
    member_id: str
    name_masked: str
    id_number_masked: str
    relation: str
    bound_at: str


class MemberList(Answer):
    members: list[Member]


class Unbound(Answer):
    member_id: str
    status: str = "unbound"


@bp.post("/members")
@role_required("user")
@documented(body=BindRequest, answer=Bound, status=201, summary="Bind a family member")
def bind() -> tuple[dict[str, Any], int]:
    body = parse(BindRequest)
    w = wiring()
    member_id = service.bind_member(
        session(),
        user_id=current_user_id(),
        form=service.BindingForm(
            id_number=body.id_number,
            name=body.name,
            relation=body.relation,
            face_image=body.face_image,
        ),
        face=w.face,
        clock=w.clock,
    )
    return {"member_id": member_id}, 201


@bp.get("/members")
@role_required("user")
@documented(answer=MemberList, summary="The family members you have bound, masked")
def members() -> dict[str, Any]:
    views = service.list_members(session(), user_id=current_user_id())
    return {"members": [view.as_dict() for view in views]}


@bp.delete("/members/<member_id>")
@role_required("user")
@documented(answer=Unbound, summary="Unbind a family member: their codes stop at once")
def unbind(member_id: str) -> dict[str, Any]:
    service.unbind_member(
        session(), user_id=current_user_id(), member_id=member_id, clock=wiring().clock
    )
    return {"member_id": member_id, "status": "unbound"}
