"""Family mutual aid (家庭共济): a holder's beneficiaries, and a beneficiary's sources in order.

CONTRACT.md: Phone app, /api/v1/mutual-aid. DOMAIN.md: "Family mutual aid".
"""

from __future__ import annotations

from typing import Annotated, Any

from flask import Blueprint
from pydantic import Field

from server.clock import iso
from server.http import (
    Answer,
    IdNumber,
    PersonName,
    Schema,
    current_user_id,
    documented,
    parse,
    role_required,
)
from server.mutual_aid import service
from server.mutual_aid.queries import SourceView
from server.web.context import uow

bp = Blueprint("mutual_aid", __name__, url_prefix="/api/v1/mutual-aid")


class FileRequest(Schema):
    id_number: IdNumber
    name: PersonName
    relation: Annotated[
        str,
        Field(
            min_length=1,
            max_length=16,
            description="what the beneficiary is to you: spouse, parent or child",
            examples=["spouse"],
        ),
    ]


class Filed(Answer):
    beneficiary_id: str
    relation: str
    effective_at: str


class Beneficiary(Answer):
    beneficiary_id: str
    name_masked: str
    id_number_masked: str
    relation: str
    filed_at: str
    effective_at: str


class BeneficiaryList(Answer):
    beneficiaries: list[Beneficiary]


class Withdrawn(Answer):
    beneficiary_id: str
    status: str = "withdrawn"


class Source(Answer):
    source_id: str
    holder_masked: str
    relation: str
    effective_at: str


class SourceList(Answer):
    sources: list[Source]


class OrderRequest(Schema):
    source_ids: Annotated[list[Annotated[str, Field(max_length=36)]], Field(max_length=100)]


def _sources(views: list[SourceView]) -> dict[str, Any]:
    return {
        "sources": [
            {
                "source_id": v.source_id,
                "holder_masked": v.holder_masked,
                "relation": v.relation,
                "effective_at": iso(v.effective_at),
            }
            for v in views
        ]
    }


@bp.post("/beneficiaries")
@role_required("user")
@documented(body=FileRequest, answer=Filed, status=201, summary="File a mutual-aid beneficiary")
def file_beneficiary() -> tuple[dict[str, Any], int]:
    body = parse(FileRequest)
    filed = service.file_beneficiary(
        uow(),
        user_id=current_user_id(),
        form=service.FilingForm(id_number=body.id_number, name=body.name, relation=body.relation),
    )
    return {
        "beneficiary_id": filed.beneficiary_id,
        "relation": filed.relation,
        "effective_at": iso(filed.effective_at),
    }, 201


@bp.get("/beneficiaries")
@role_required("user")
@documented(answer=BeneficiaryList, summary="The beneficiaries you have filed, masked")
def beneficiaries() -> dict[str, Any]:
    views = service.list_beneficiaries(uow(), user_id=current_user_id())
    return {
        "beneficiaries": [
            {
                "beneficiary_id": v.beneficiary_id,
                "name_masked": v.name_masked,
                "id_number_masked": v.id_number_masked,
                "relation": v.relation,
                "filed_at": iso(v.filed_at),
                "effective_at": iso(v.effective_at),
            }
            for v in views
        ]
    }


@bp.delete("/beneficiaries/<beneficiary_id>")
@role_required("user")
@documented(answer=Withdrawn, summary="Withdraw a filing: it is not drawn on from now on")
def withdraw(beneficiary_id: str) -> dict[str, Any]:
    service.withdraw_filing(uow(), user_id=current_user_id(), beneficiary_id=beneficiary_id)
    return {"beneficiary_id": beneficiary_id, "status": "withdrawn"}


@bp.get("/sources")
@role_required("user")
@documented(answer=SourceList, summary="The accounts you may draw on, in your order")
def sources() -> dict[str, Any]:
    return _sources(service.list_sources(uow(), user_id=current_user_id()))


@bp.put("/sources/order")
@role_required("user")
@documented(body=OrderRequest, answer=SourceList, summary="Reorder your sources")
def reorder() -> dict[str, Any]:
    body = parse(OrderRequest)
    views = service.reorder_sources(uow(), user_id=current_user_id(), source_ids=body.source_ids)
    return _sources(views)
