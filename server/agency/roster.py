"""The roster at the counter: import, phone fix, payment-password reset.

DOMAIN.md: "Activation = real-name verification", "Payment password".
"""

from __future__ import annotations

from typing import Annotated, Literal

from flask import request
from pydantic import Field

from server.agency.common import IdNumber, Ok, actor, bp
from server.http import Answer, Schema, documented, parse, role_required
from server.roster import importing
from server.roster import service as roster
from server.web.context import uow


class RosterPerson(Schema):
    id_number: IdNumber
    name: Annotated[str, Field(max_length=64)]
    phone: str | None
    region: str
    insurance_type: str
    face_template: Annotated[str, Field(description="base64 of the enrolled reference photo")]
    person_type: Annotated[
        Literal["in_service", "retired"] | None,
        Field(description="在职 / 退休; omitted: retired for a retiree, else in service"),
    ] = None


class RosterImport(Schema):
    persons: Annotated[list[RosterPerson], Field(min_length=1, max_length=roster.MAX_ROWS)]


class RosterImported(Answer):
    created: int
    updated: int
    job_id: str | None = Field(
        description="the initial-password SMS job (GET /api/v1/admin/jobs/<job_id>); "
        "null when nobody is due one"
    )
    unchanged: Annotated[int, Field(description="rows identical to the stored person")]


class PasswordResetBody(Schema):
    deliver: Annotated[
        Literal["sms", "screen"] | None,
        Field(description="sms (default): by SMS; screen: answered once, for the desk to show"),
    ] = None
    phone: Annotated[
        str | None,
        Field(
            min_length=11,
            max_length=11,
            description="send the SMS here for this reset only (a relative's phone); the text "
            "names the masked holder",
        ),
    ] = None


class PasswordResetAnswer(Answer):
    ok: bool = True
    password: Annotated[
        str | None, Field(description="only for deliver=screen: show it once, never store it")
    ] = None


class PhoneFix(Schema):
    phone: Annotated[str, Field(min_length=11, max_length=11)]


@bp.post("/insured")
@role_required("admin")
@documented(
    body=RosterImport,
    answer=RosterImported,
    status=201,
    summary="Import up to 10,000 roster rows, all or nothing",
)
def import_insured() -> tuple[dict[str, object], int]:
    form = parse(RosterImport)
    rows = [roster.RosterRow(**p.model_dump()) for p in form.persons]
    result = importing.import_roster(uow(), rows, actor=actor())
    answer = RosterImported(
        created=result.created,
        updated=result.updated,
        unchanged=result.unchanged,
        job_id=result.job_id,
    )
    return answer.model_dump(), 201


@bp.patch("/insured/<id_number>")
@role_required("admin")
@documented(body=PhoneFix, answer=Ok, summary="Fix a person's phone number")
def fix_phone(id_number: str) -> dict[str, object]:
    form = parse(PhoneFix)
    roster.fix_phone(uow(), id_number, form.phone, actor=actor())
    return Ok().model_dump()


@bp.post("/insured/<id_number>/password-reset")
@role_required("admin")
@documented(
    body=PasswordResetBody,
    answer=PasswordResetAnswer,
    summary="A new initial payment password (SMS, another phone, or on screen once); lifts a lock",
)
def password_reset(id_number: str) -> dict[str, object]:
    form = parse(PasswordResetBody) if request.get_data() else PasswordResetBody()
    reset = roster.reset_password(
        uow(), id_number, actor=actor(), deliver=form.deliver, phone=form.phone
    )
    if reset.password is None:
        return Ok().model_dump()
    return PasswordResetAnswer(password=reset.password).model_dump()
