"""The QR signing keys and a person's e-credential, at the counter.

DOMAIN.md: "The e-credential".
"""

from __future__ import annotations

from server.agency.common import Ok, actor, bp
from server.credentials import lifecycle, publication
from server.http import Answer, documented, role_required
from server.web.context import uow


class KeyRotated(Answer):
    kid: str


@bp.post("/keys/rotate")
@role_required("admin")
@documented(answer=KeyRotated, status=201, summary="A new QR signing key, signing from now on")
def rotate_keys() -> tuple[dict[str, object], int]:
    kid = publication.rotate_keys(uow(), actor=actor())
    return KeyRotated(kid=kid).model_dump(), 201


@bp.post("/insured/<id_number>/credential/revoke")
@role_required("admin")
@documented(answer=Ok, summary="Revoke a person's e-credential at the counter")
def revoke_credential(id_number: str) -> dict[str, object]:
    lifecycle.revoke_at_counter(uow(), id_number=id_number, actor=actor())
    return Ok().model_dump()
