"""The phone's e-credential calls: codes, images, offline kits, revocation; and the public keys
document. CONTRACT.md: Phone app and Additions; QR.md.

DOMAIN.md: "The e-credential", "Family proxy accounts (亲情账户)".
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from flask import Blueprint, Response
from pydantic import Field

from server import decoding
from server.clock import iso
from server.credentials import kits, lifecycle, publication, render
from server.credentials.codec import b64url
from server.credentials.keys import keys_document as published_document
from server.http import (
    Answer,
    Schema,
    current_user_id,
    documented,
    parse,
    parse_query,
    role_required,
)
from server.web.context import uow

bp = Blueprint("credential", __name__, url_prefix="/api/v1/credential")
well_known = Blueprint("well_known", __name__, url_prefix="/.well-known")

# Verifiers may cache the keys this long; a new key signs at once, so a verifier that meets an
# unknown kid fetches the document again before refusing (docs/qr-format.md, "Keys").
KEYS_MAX_AGE_SECONDS = 300


class MemberQuery(Schema):
    member: Annotated[
        str | None,
        Field(min_length=1, max_length=64, description="a bound family member: a proxy code"),
    ] = None


class CodeAnswer(Answer):
    qr_text: str
    expires_at: str
    refresh_after_seconds: int


class OfflineKitRequest(Schema):
    device_public_key: Annotated[
        str | None,
        Field(description="base64url of the phone's Ed25519 public key; omitted: server-made"),
    ] = None


class OfflineKitAnswer(Answer):
    """What a phone needs to make codes offline (binary fields base64url, instants ISO 8601)."""

    kit_id: str
    format: Literal["EC1"]
    kid: str
    role: Literal["self", "proxy"]
    device_attestation: str
    device_public_key: str
    device_private_key: str | None = None
    issued_at: str
    expires_at: str
    server_time: str
    step_seconds: int
    code_lifetime_seconds: int


class Ok(Answer):
    ok: bool = True


class Jwk(Answer):
    kty: str
    crv: str
    x: str
    kid: str
    alg: str
    use: str


class KeysDocument(Answer):
    keys: list[Jwk]


def _code() -> kits.IssuedCode:
    query = parse_query(MemberQuery)
    return kits.issue_code(uow(), user_id=current_user_id(), member_id=query.member)


@bp.get("/qr")
@role_required("user")
@documented(query=MemberQuery, answer=CodeAnswer, summary="A fresh e-credential code")
def qr() -> dict[str, Any]:
    code = _code()
    return {
        "qr_text": code.qr_text,
        "expires_at": iso(code.expires_at),
        "refresh_after_seconds": code.refresh_after_seconds,
    }


def _image(body: bytes, mimetype: str, code: kits.IssuedCode) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Expires-At"] = iso(code.expires_at)
    response.headers["X-Refresh-After-Seconds"] = str(code.refresh_after_seconds)
    return response


@bp.get("/qr.png")
@role_required("user")
@documented(query=MemberQuery, summary="The same code as a PNG", content_type="image/png")
def qr_png() -> Response:
    code = _code()
    return _image(render.png(code.qr_text), "image/png", code)


@bp.get("/qr.svg")
@role_required("user")
@documented(query=MemberQuery, summary="The same code as an SVG", content_type="image/svg+xml")
def qr_svg() -> Response:
    code = _code()
    return _image(render.svg(code.qr_text), "image/svg+xml", code)


@bp.post("/offline-kit")
@role_required("user")
@documented(
    body=OfflineKitRequest,
    query=MemberQuery,
    answer=OfflineKitAnswer,
    status=201,
    summary="What a phone needs to make codes with no network",
)
def offline_kit() -> tuple[dict[str, Any], int]:
    body = parse(OfflineKitRequest)
    query = parse_query(MemberQuery)
    kit = kits.request_offline_kit(
        uow(),
        user_id=current_user_id(),
        device_public_key=decoding.device_public_key(body.device_public_key),
        member_id=query.member,
    )
    return kit_answer(kit), 201


def kit_answer(kit: kits.IssuedKit) -> dict[str, Any]:
    """The offline kit as the phone gets it; no `device_private_key` unless the server made it."""
    return OfflineKitAnswer(
        kit_id=kit.kit_id,
        format=kit.format,
        kid=kit.kid,
        role=kit.role,
        device_attestation=b64url(kit.device_attestation),
        device_public_key=b64url(kit.device_public_key),
        device_private_key=None
        if kit.device_private_key is None
        else b64url(kit.device_private_key),
        issued_at=iso(kit.issued_at),
        expires_at=iso(kit.expires_at),
        server_time=iso(kit.server_time),
        step_seconds=kit.step_seconds,
        code_lifetime_seconds=kit.code_lifetime_seconds,
    ).model_dump(exclude_none=True)


@bp.post("/revoke")
@role_required("user")
@documented(answer=Ok, summary="Revoke my e-credential: every code and kit stops working")
def revoke() -> dict[str, Any]:
    lifecycle.revoke_own(uow(), user_id=current_user_id())
    return {"ok": True}


@well_known.get("/ecredential-keys.json")
@documented(answer=KeysDocument, summary="The public keys that verify e-credential codes")
def keys_document() -> Response:
    document = KeysDocument.model_validate(published_document(publication.published_now(uow())))
    response = Response(document.model_dump_json(), mimetype="application/json")
    response.headers["Cache-Control"] = f"public, max-age={KEYS_MAX_AGE_SECONDS}"
    return response
