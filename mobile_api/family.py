"""Family proxy accounts (亲情账户): bind, list, unbind, and a member's yearly expenses.

CONTRACT.md: Phone app, /api/v1/family. DOMAIN.md: "Family proxy accounts".
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from flask import Blueprint
from pydantic import Field

from server.clock import beijing_date, iso
from server.family import overview, service
from server.family.queries import MemberView
from server.family.rules import RELATIONS, YearTotals
from server.family.rules import Visit as VisitRow
from server.http import (
    Answer,
    IdNumber,
    PersonName,
    Schema,
    current_user_id,
    documented,
    parse,
    parse_query,
    role_required,
)
from server.web.context import uow, wiring

bp = Blueprint("family", __name__, url_prefix="/api/v1/family")


class BindRequest(Schema):
    id_number: IdNumber
    name: PersonName
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


class ExpensesQuery(Schema):
    year: Annotated[
        int | None,
        Field(ge=1990, le=2100, description="Beijing calendar year; this year if absent"),
    ] = None


class Visit(Answer):
    date: str
    institution: str
    scene: str | None = Field(description="null for a manual claim (手工报销)")
    kind: Literal["settlement", "manual_claim"]
    total_fen: int
    fund_fen: int
    personal_account_fen: int = Field(description="own account and family accounts together")
    mutual_aid_fen: int = Field(description="of personal_account_fen, paid by family accounts")
    cash_fen: int


class ExpensesAnswer(Answer):
    member_id: str
    year: int
    total_fen: int
    fund_fen: int
    personal_account_fen: int
    mutual_aid_fen: int
    cash_fen: int
    visits: list[Visit]


class Unbound(Answer):
    member_id: str
    status: str = "unbound"


@bp.post("/members")
@role_required("user")
@documented(body=BindRequest, answer=Bound, status=201, summary="Bind a family member")
def bind() -> tuple[dict[str, Any], int]:
    body = parse(BindRequest)
    member_id = service.bind_member(
        uow(),
        user_id=current_user_id(),
        form=service.BindingForm(
            id_number=body.id_number,
            name=body.name,
            relation=body.relation,
            face_image=body.face_image,
        ),
    )
    return {"member_id": member_id}, 201


@bp.get("/members")
@role_required("user")
@documented(answer=MemberList, summary="The family members you have bound, masked")
def members() -> dict[str, Any]:
    views = service.list_members(uow(), user_id=current_user_id())
    return MemberList(members=[member_answer(view) for view in views]).model_dump()


def member_answer(view: MemberView) -> Member:
    """A bound member as the phone shows them (also in GET /api/v1/me)."""
    return Member(
        member_id=view.member_id,
        name_masked=view.name_masked,
        id_number_masked=view.id_number_masked,
        relation=view.relation,
        bound_at=iso(view.bound_at),
    )


@bp.delete("/members/<member_id>")
@role_required("user")
@documented(answer=Unbound, summary="Unbind a family member: their codes stop at once")
def unbind(member_id: str) -> dict[str, Any]:
    service.unbind_member(uow(), user_id=current_user_id(), member_id=member_id)
    return {"member_id": member_id, "status": "unbound"}


@bp.get("/members/<member_id>/expenses")
@role_required("user")
@documented(
    query=ExpensesQuery,
    answer=ExpensesAnswer,
    summary="A bound member's medical expenses in a year: fund, personal account, cash, visits",
)
def expenses(member_id: str) -> dict[str, Any]:
    query = parse_query(ExpensesQuery)
    year = query.year or beijing_date(wiring().clock.now()).year
    found = service.member_expenses(
        uow(), user_id=current_user_id(), member_id=member_id, year=year
    )
    return ExpensesAnswer(
        member_id=found.member_id,
        year=found.year,
        **expense_totals(found.totals),
        visits=visit_answers(found.visits),
    ).model_dump()


def expense_totals(t: YearTotals) -> dict[str, int]:
    """A year's totals as both expenses answers carry them (a member's and the user's own)."""
    return {
        "total_fen": t.total_fen,
        "fund_fen": t.fund_fen,
        "personal_account_fen": t.personal_account_fen,
        "mutual_aid_fen": t.mutual_aid_fen,
        "cash_fen": t.cash_fen,
    }


def visit_answers(visits: list[VisitRow]) -> list[Visit]:
    """Visits as the phone shows them (a member's expenses and the user's own)."""
    return [
        Visit(
            date=v.on.isoformat(),
            institution=v.institution,
            scene=v.scene,
            kind=v.kind,
            total_fen=v.total_fen,
            fund_fen=v.fund_fen,
            personal_account_fen=v.personal_account_fen,
            mutual_aid_fen=v.mutual_aid_fen,
            cash_fen=v.cash_fen,
        )
        for v in visits
    ]


class MemberAccountAnswer(Answer):
    member_id: str
    name_masked: str
    relation: str
    balance_fen: int = Field(description="the relative's personal account (个人账户)")


@bp.get("/members/<member_id>/account")
@role_required("user")
@documented(answer=MemberAccountAnswer, summary="A bound member's personal-account balance")
def member_account(member_id: str) -> dict[str, Any]:
    found = overview.member_account(uow(), user_id=current_user_id(), member_id=member_id)
    return MemberAccountAnswer(
        member_id=found.member_id,
        name_masked=found.name_masked,
        relation=found.relation,
        balance_fen=found.balance_fen,
    ).model_dump()
