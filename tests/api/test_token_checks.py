"""A token's signature is checked once per process; its times and revocation on every request."""

from datetime import UTC, datetime, timedelta

import jwt.api_jwt
import pytest

import server.auth.tokens
from tests.actors import Phone, bearer, error_code


def _move_real_time(monkeypatch: pytest.MonkeyPatch, seconds: int) -> None:
    """Move the wall clock PyJWT and the remembered-token check read (JWTs use real time)."""

    class Later(datetime):
        @classmethod
        def now(cls, tz=None):  # type: ignore[no-untyped-def, override]
            return datetime.now(tz=tz or UTC) + timedelta(seconds=seconds)

    monkeypatch.setattr(jwt.api_jwt, "datetime", Later)
    monkeypatch.setattr(server.auth.tokens, "datetime", Later)


def test_a_remembered_token_is_refused_once_it_expires(client, monkeypatch):
    phone = Phone(client, "13900000031").sign_in()
    assert phone.get("/me").status_code == 200
    assert phone.get("/me").status_code == 200  # answered from the remembered claims
    _move_real_time(monkeypatch, 15 * 60 + 1)
    r = phone.get("/me")
    assert r.status_code == 401 and error_code(r) == "UNAUTHORIZED"


def test_a_remembered_token_not_yet_valid_is_refused(client, monkeypatch):
    phone = Phone(client, "13900000032").sign_in()
    assert phone.get("/me").status_code == 200
    _move_real_time(monkeypatch, -3600)  # before its iat/nbf
    assert phone.get("/me").status_code == 401


def test_a_remembered_token_is_still_revoked_by_logout(client):
    phone = Phone(client, "13900000033").sign_in()
    assert phone.get("/me").status_code == 200
    assert phone.post("/auth/logout").status_code == 200
    assert error_code(phone.get("/me")) == "TOKEN_REVOKED"


def test_a_changed_token_is_checked_in_full(client):
    phone = Phone(client, "13900000034").sign_in()
    assert phone.get("/me").status_code == 200
    head, body, signature = phone.access.split(".")
    forged = f"{head}.{body}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    r = client.get("/api/v1/me", headers=bearer(forged))
    assert r.status_code == 401 and error_code(r) == "UNAUTHORIZED"


def test_a_refresh_token_cannot_call_the_api_even_once_remembered(client):
    phone = Phone(client, "13900000035").sign_in()
    assert client.get("/api/v1/me", headers=bearer(phone.refresh)).status_code == 401
    assert client.get("/api/v1/me", headers=bearer(phone.refresh)).status_code == 401
