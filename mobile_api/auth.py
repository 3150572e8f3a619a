"""Sign-in by SMS code; refresh-token rotation; logout. CONTRACT.md: Phone app.

DOMAIN.md: "Who uses it".
"""

from __future__ import annotations

from typing import Annotated

from flask import Blueprint
from flask_jwt_extended import get_jwt
from pydantic import Field

from server.auth import service
from server.auth.tokens import new_jti, user_tokens
from server.errors import RequestValidationError
from server.http import Answer, Schema, documented, parse, refresh_required, role_required
from server.roster.rules import is_valid_phone
from server.web.context import uow

bp = Blueprint("auth", __name__, url_prefix="/api/v1/auth")

Phone = Annotated[str, Field(min_length=11, max_length=11, examples=["13800138000"])]


class SmsCodeRequest(Schema):
    phone: Phone


class LoginRequest(Schema):
    phone: Phone
    code: Annotated[str, Field(min_length=6, max_length=6, pattern=r"^\d{6}$")]


class TokenPair(Answer):
    access_token: str
    refresh_token: str


class Ok(Answer):
    ok: bool = True


@bp.post("/sms-code")
@documented(body=SmsCodeRequest, answer=Ok, status=202, summary="Text a login code")
def sms_code() -> tuple[dict[str, object], int]:
    form = parse(SmsCodeRequest)
    if not is_valid_phone(form.phone):
        raise RequestValidationError("phone must be an 11-digit mainland mobile number")
    service.send_login_code(uow(), phone=form.phone)
    return Ok().model_dump(), 202


@bp.post("/login")
@documented(body=LoginRequest, answer=TokenPair, summary="Sign in with the SMS code")
def login() -> dict[str, object]:
    form = parse(LoginRequest)
    jti = new_jti()
    signed_in = service.sign_in(uow(), phone=form.phone, code=form.code, jti=jti)
    access, refresh = user_tokens(signed_in.user_id, signed_in.family_id, jti)
    return TokenPair(access_token=access, refresh_token=refresh).model_dump()


@bp.post("/refresh")
@refresh_required
@documented(answer=TokenPair, summary="Swap a refresh token for a new pair")
def refresh() -> dict[str, object]:
    token = get_jwt()
    jti = new_jti()
    family = str(token["fam"]) if token.get("fam") else None
    signed_in = service.refresh(uow(), jti=str(token["jti"]), family_id=family, new_jti=jti)
    access, refresh_token = user_tokens(signed_in.user_id, signed_in.family_id, jti)
    return TokenPair(access_token=access, refresh_token=refresh_token).model_dump()


@bp.post("/logout")
@role_required("user")
@documented(answer=Ok, summary="End this sign-in: its access and refresh tokens stop working")
def logout() -> dict[str, object]:
    service.log_out(uow(), family_id=str(get_jwt()["fam"]))
    return Ok().model_dump()
