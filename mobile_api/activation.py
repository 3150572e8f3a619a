"""Activation and the signed-in person (GET /api/v1/me). CONTRACT.md: Phone app.

DOMAIN.md: "Activation = real-name verification", "Family proxy accounts (亲情账户)".
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from flask import Blueprint
from pydantic import Field

from mobile_api.credential import OfflineKitAnswer, kit_answer
from mobile_api.family import Member, member_answer
from server import decoding
from server.accounts.profile import profile
from server.activation.service import ActivationForm, activate
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
from server.privacy import mask_id_number, mask_name, mask_phone
from server.web.context import uow

bp = Blueprint("activation", __name__, url_prefix="/api/v1")


class ActivationRequest(Schema):
    region: Annotated[str, Field(min_length=6, max_length=6, examples=["110000"])]
    id_number: IdNumber
    name: PersonName
    payment_password: Annotated[str, Field(pattern=r"^\d{6}$")]
    face_image: Annotated[str, Field(min_length=1, description="base64 of the live photo")]
    consent: bool
    device_public_key: Annotated[
        str | None, Field(description="base64url Ed25519 public key of the phone (optional)")
    ] = None


class ActivationAnswer(Answer):
    credential_id: str
    status: Literal["active"]
    offline_kit: OfflineKitAnswer


class MaskedPerson(Answer):
    name_masked: str
    id_number_masked: str
    region: str
    insurance_type: str


class CredentialState(Answer):
    credential_id: str
    status: str


class MeAnswer(Answer):
    phone_masked: str
    person: MaskedPerson | None
    credential: CredentialState | None
    family_members: list[Member]


@bp.post("/activation")
@role_required("user")
@documented(
    body=ActivationRequest,
    answer=ActivationAnswer,
    status=201,
    summary="Real-name activation of the e-credential",
)
def activation() -> tuple[dict[str, Any], int]:
    body = parse(ActivationRequest)
    done = activate(
        uow(),
        user_id=current_user_id(),
        form=ActivationForm(
            region=body.region,
            id_number=body.id_number,
            name=body.name,
            payment_password=body.payment_password,
            face_image=decoding.image(body.face_image, "face_image"),
            consent=body.consent,
            device_public_key=decoding.device_public_key(body.device_public_key),
        ),
    )
    return {
        "credential_id": done.credential_id,
        "status": done.status,
        "offline_kit": kit_answer(done.offline_kit),
    }, 201


@bp.get("/me")
@role_required("user")
@documented(answer=MeAnswer, summary="The signed-in person, masked")
def me() -> dict[str, Any]:
    found = profile(uow(), user_id=current_user_id())
    person = found.person
    return MeAnswer(
        phone_masked=mask_phone(found.phone),
        person=None
        if person is None
        else MaskedPerson(
            name_masked=mask_name(person.name),
            id_number_masked=mask_id_number(person.id_number),
            region=person.region,
            insurance_type=person.insurance_type,
        ),
        credential=None
        if found.credential_id is None or found.credential_status is None
        else CredentialState(credential_id=found.credential_id, status=found.credential_status),
        family_members=[member_answer(m) for m in found.members],
    ).model_dump()
