"""JWTs for the three roles (flask-jwt-extended), and their revocation.

Access tokens live at most 15 minutes. A user's tokens carry `fam`, the sign-in they belong to;
logging out or replaying a used refresh token marks that family revoked in the short-lived store,
and every token of it is refused with TOKEN_REVOKED from then on. A revoked terminal's tokens are
refused the same way (server/institutions/terminals.py), except on the views that declare, with
`checks_own_terminal_revocation`, that they read the terminal's row themselves (issue 14: a scan
makes one store call, a password-free settlement none).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, ParamSpec, TypeVar

import jwt
from flask import Flask, Response, current_app, has_request_context, jsonify, request
from flask_jwt_extended import (
    JWTManager,
    create_access_token,
    create_refresh_token,
    decode_token,
    get_jwt,
    view_decorators,
)
from flask_jwt_extended.config import config as jwt_config
from sqlalchemy.exc import SQLAlchemyError

from server.auth.service import family_key
from server.errors import AppError, TokenRevokedError, UnauthorizedError
from server.institutions.terminals import is_marked_revoked

P = ParamSpec("P")
R = TypeVar("R")

# The mark `checks_own_terminal_revocation` leaves on a view (kept by functools.wraps).
_OWN_TERMINAL_CHECK = "__checks_own_terminal_revocation__"


def checks_own_terminal_revocation(view: Callable[P, R]) -> Callable[P, R]:
    """Declare that a terminal view refuses a revoked terminal itself, from the terminal's own
    row (`terminals.revoked_at`, the durable truth) read in the view's statement, with the
    TOKEN_REVOKED the token check would answer; the token check then skips the store's mark for
    it. Goes under `@role_required("terminal")`.

    A view may refuse the request before its statement runs (a malformed body or code): such a
    refusal is answered as before, TOKEN_REVOKED when the store marks the terminal revoked. A
    failure of the database or the store (5xx: nothing was done) is answered as it is: asking the
    store, whose terminal marks live in the database, would only wait on the same outage and hold
    a thread that /healthz and the other requests need (`make faults`, PostgreSQL frozen).
    """

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return view(*args, **kwargs)
        except TokenRevokedError:
            raise
        except Exception as exc:
            if _is_outage(exc):
                raise
            store = current_app.extensions["wiring"].store
            if is_marked_revoked(store, str(get_jwt().get("sub"))):
                raise TokenRevokedError() from exc
            raise

    setattr(wrapper, _OWN_TERMINAL_CHECK, True)
    return wrapper


def _is_outage(exc: Exception) -> bool:
    """The database or the store failed (answered 503 or OUTCOME_UNKNOWN), not the request."""
    return isinstance(exc, SQLAlchemyError) or (isinstance(exc, AppError) and exc.status >= 500)


def _view_checks_own_terminal_revocation() -> bool:
    if not has_request_context():
        return False
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, _OWN_TERMINAL_CHECK, False))


class CheckedTokenJWTManager(JWTManager):
    """A JWTManager that checks each token's signature once per process.

    flask-jwt-extended decodes a token twice per request (once unverified to pick the key, then
    verified), and PyJWT checks every character; for a terminal that presents the same token on
    every call that was a large share of a request. A token is an immutable string signed with
    this app's key, so the verified claims are remembered by the exact token text. The time
    claims (exp, nbf, iat, with the configured leeway) are checked again on every use; a
    remembered token that fails them takes the full path, which raises exactly what it always
    did. Revocation, the token type and the role are checked after decoding, on every request.

    After decoding, flask-jwt-extended reads the token's header once more with PyJWT's unverified
    parser (every character of the token checked again: a tenth of a scan's own work); a
    remembered token's header is remembered with it (`remembered_header`, put in that place by
    `init_jwt`).
    """

    MAX_REMEMBERED = 4096

    def __init__(self, app: Flask) -> None:
        self._checked: dict[str, dict[str, Any]] = {}
        self._headers: dict[str, dict[str, Any]] = {}
        super().__init__(app)

    def remembered_header(self, encoded_token: str) -> dict[str, Any]:
        """The header of a token checked here (PyJWT's unverified read for any other)."""
        header = self._headers.get(encoded_token)
        if header is None:
            read: dict[str, Any] = jwt.get_unverified_header(encoded_token)
            return read
        return dict(header)

    def _decode_jwt_from_config(
        self, encoded_token: str, csrf_value: Any = None, allow_expired: bool = False
    ) -> dict[str, Any]:
        plain = csrf_value is None and not allow_expired
        if plain:
            known = self._checked.get(encoded_token)
            if known is not None:
                if _times_hold(known, leeway=jwt_config.leeway):
                    return dict(known)
                self._checked.pop(encoded_token, None)
        decoded: dict[str, Any] = super()._decode_jwt_from_config(
            encoded_token, csrf_value, allow_expired
        )
        if "exp" not in decoded:  # a token that never expires is no token of ours (issue 10: 8)
            raise jwt.MissingRequiredClaimError("exp")
        if plain:
            if len(self._checked) >= self.MAX_REMEMBERED:
                self._checked.clear()  # simple and thread-safe; refilled by the next requests
                self._headers.clear()
            self._headers[encoded_token] = jwt.get_unverified_header(encoded_token)
            self._checked[encoded_token] = dict(decoded)
        return decoded


def _remembered_header(encoded_token: str) -> dict[str, Any]:
    manager = current_app.extensions.get("flask-jwt-extended")
    if isinstance(manager, CheckedTokenJWTManager):
        return manager.remembered_header(encoded_token)
    header: dict[str, Any] = jwt.get_unverified_header(encoded_token)
    return header


def _times_hold(claims: dict[str, Any], *, leeway: float) -> bool:
    """PyJWT's time checks (exp, nbf, iat with leeway), answered as a bool."""
    now = datetime.now(tz=UTC).timestamp()
    exp, nbf, iat = claims.get("exp"), claims.get("nbf"), claims.get("iat")
    if exp is not None and exp <= now - leeway:
        return False
    if nbf is not None and nbf > now + leeway:
        return False
    return not (iat is not None and iat > now + leeway)


def init_jwt(app: Flask) -> None:
    settings = app.extensions["wiring"].settings
    app.config.update(
        JWT_SECRET_KEY=settings.jwt_secret_key,
        JWT_ACCESS_TOKEN_EXPIRES=timedelta(seconds=settings.access_token_seconds),
        JWT_REFRESH_TOKEN_EXPIRES=timedelta(seconds=settings.refresh_token_seconds),
        JWT_TOKEN_LOCATION=["headers"],
        JWT_ALGORITHM="HS256",
    )
    jwt = CheckedTokenJWTManager(app)
    # flask-jwt-extended's own header read, per request (see CheckedTokenJWTManager); a version
    # without it only loses the saving.
    if hasattr(view_decorators, "get_unverified_jwt_headers"):
        setattr(view_decorators, "get_unverified_jwt_headers", _remembered_header)  # noqa: B010

    def envelope(error: UnauthorizedError | TokenRevokedError) -> tuple[Response, int]:
        return jsonify(error.envelope()), error.status

    @jwt.unauthorized_loader
    def _missing(reason: str) -> tuple[Response, int]:
        return envelope(UnauthorizedError("Send an access token: Authorization: Bearer <token>"))

    @jwt.invalid_token_loader
    def _invalid(reason: str) -> tuple[Response, int]:
        return envelope(UnauthorizedError("The token is not valid"))

    @jwt.expired_token_loader
    def _expired(_header: dict[str, Any], _payload: dict[str, Any]) -> tuple[Response, int]:
        return envelope(UnauthorizedError("The token has expired"))

    @jwt.revoked_token_loader
    def _revoked(_header: dict[str, Any], _payload: dict[str, Any]) -> tuple[Response, int]:
        return envelope(TokenRevokedError())

    @jwt.needs_fresh_token_loader
    def _fresh(_header: dict[str, Any], _payload: dict[str, Any]) -> tuple[Response, int]:
        return envelope(UnauthorizedError("Sign in again"))

    @jwt.user_lookup_error_loader
    def _lookup(_header: dict[str, Any], _payload: dict[str, Any]) -> tuple[Response, int]:
        return envelope(UnauthorizedError())

    @jwt.token_in_blocklist_loader
    def _blocked(_header: dict[str, Any], payload: dict[str, Any]) -> bool:
        store = app.extensions["wiring"].store
        if payload.get("role") == "terminal":  # revoked at the agency desk
            if _view_checks_own_terminal_revocation():
                return False  # the view reads the terminal's row itself
            return is_marked_revoked(store, str(payload.get("sub")))  # fails closed when down
        family = payload.get("fam")
        if not family:
            return False
        return store.get(family_key(str(family))) is not None  # fails closed (503) when down


def user_tokens(user_id: int, family_id: str, refresh_jti: str) -> tuple[str, str]:
    claims = {"role": "user", "fam": family_id}
    access = create_access_token(identity=str(user_id), additional_claims=claims)
    refresh = create_refresh_token(
        identity=str(user_id), additional_claims={**claims, "jti": refresh_jti}
    )
    return access, refresh


def new_jti() -> str:
    return str(uuid.uuid4())


def access_token(role: str, identity: str, **claims: Any) -> str:
    token: str = create_access_token(identity=identity, additional_claims={"role": role, **claims})
    return token


def decoded(token: str) -> dict[str, Any]:
    return dict(decode_token(token))
