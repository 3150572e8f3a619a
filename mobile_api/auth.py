"""Sign-in by SMS code; refresh-token rotation; logout. CONTRACT.md: Phone app."""

from __future__ import annotations

from typing import Annotated

from flask import Blueprint
from flask_jwt_extended import get_jwt
from pydantic import Field

from server.auth import service
from server.auth.tokens import mark_family_revoked, new_jti, refresh_expiry, user_tokens
from server.db import session
from server.errors import RequestValidationError
from server.http import Answer, Schema, documented, parse, refresh_required, role_required
from server.roster.rules import is_valid_phone
from server.wiring import wiring

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
    w = wiring()
    service.send_login_code(
        store=w.store,
        sms=w.sms,
        clock=w.clock,
        pepper=w.settings.password_pepper,
        phone=form.phone,
    )
    return {"ok": True}, 202


@bp.post("/login")
@documented(body=LoginRequest, answer=TokenPair, summary="Sign in with the SMS code")
def login() -> dict[str, object]:
    form = parse(LoginRequest)
    w = wiring()
    service.verify_login_code(
        store=w.store, pepper=w.settings.password_pepper, phone=form.phone, code=form.code
    )
    now = w.clock.now()
    user = service.user_for_phone(session(), form.phone, now=now)
    jti = new_jti()
    family = service.start_family(
        session(),
        user_id=user.id,
        jti=jti,
        expires_at=refresh_expiry(now, w.settings.refresh_token_seconds),
    )
    access, refresh = user_tokens(user.id, family, jti)
    return {"access_token": access, "refresh_token": refresh}


@bp.post("/refresh")
@refresh_required
@documented(answer=TokenPair, summary="Swap a refresh token for a new pair")
def refresh() -> dict[str, object]:
    w = wiring()
    token = get_jwt()
    jti = new_jti()
    try:
        user_id, family = service.rotate(
            session(),
            jti=str(token["jti"]),
            new_jti=jti,
            now=w.clock.now(),
            lifetime_seconds=w.settings.refresh_token_seconds,
        )
    except Exception:
        if token.get("fam"):
            # A replayed or dead refresh token: its whole sign-in stops working.
            mark_family_revoked(w.store, str(token["fam"]), w.settings.refresh_token_seconds)
        raise
    access, refresh_token = user_tokens(user_id, family, jti)
    return {"access_token": access, "refresh_token": refresh_token}


@bp.post("/logout")
@role_required("user")
@documented(answer=Ok, summary="End this sign-in: its access and refresh tokens stop working")
def logout() -> dict[str, object]:
    w = wiring()
    family = str(get_jwt()["fam"])
    service.revoke_family(session(), family_id=family, now=w.clock.now())
    mark_family_revoked(w.store, family, w.settings.refresh_token_seconds)
    return {"ok": True}
