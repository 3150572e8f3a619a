"""The phone's e-credential calls: codes, images, offline kits, revocation; and the public keys
document. CONTRACT.md: Phone app and Additions; QR.md."""

from __future__ import annotations

from typing import Annotated, Any

from flask import Blueprint, Response
from pydantic import Field

from server.clock import iso
from server.credentials import render
from server.credentials import service as credentials
from server.credentials.codec import b64url_decode
from server.errors import RequestValidationError
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
    kit_id: str
    format: str
    kid: str
    role: str
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


def _code() -> credentials.IssuedCode:
    query = parse_query(MemberQuery)
    return credentials.issue_code(uow(), user_id=current_user_id(), member_id=query.member)


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


def _image(body: bytes, mimetype: str, code: credentials.IssuedCode) -> Response:
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
    kit = credentials.request_offline_kit(
        uow(),
        user_id=current_user_id(),
        device_public_key=_device_key(body.device_public_key),
        member_id=query.member,
    )
    return kit, 201


def _device_key(text: str | None) -> bytes | None:
    if text is None:
        return None
    try:
        raw = b64url_decode(text)
    except ValueError:
        raise RequestValidationError("device_public_key must be base64url") from None
    if len(raw) != 32:
        raise RequestValidationError("device_public_key must be a 32-byte Ed25519 key")
    return raw


@bp.post("/revoke")
@role_required("user")
@documented(answer=Ok, summary="Revoke my e-credential: every code and kit stops working")
def revoke() -> dict[str, Any]:
    credentials.revoke_own(uow(), user_id=current_user_id())
    return {"ok": True}


@well_known.get("/ecredential-keys.json")
@documented(answer=KeysDocument, summary="The public keys that verify e-credential codes")
def keys_document() -> Response:
    document = credentials.keys_document(uow())
    response = Response(
        KeysDocument.model_validate(document).model_dump_json(), mimetype="application/json"
    )
    response.headers["Cache-Control"] = f"public, max-age={KEYS_MAX_AGE_SECONDS}"
    return response
