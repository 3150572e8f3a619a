"""Signing in by SMS code; refresh-token rotation; logout."""

import pytest

from tests.actors import Phone, bearer, error_code


def test_right_code_signs_in_and_wrong_code_does_not(client):
    phone = Phone(client, "13900000011")
    assert phone.ask_code().status_code == 202
    code = phone.latest_code()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    r = phone.login(wrong)
    assert r.status_code == 401 and error_code(r) == "SMS_CODE_INVALID"
    assert phone.login(code).status_code == 200


def test_code_is_single_use(client):
    phone = Phone(client, "13900000012")
    phone.ask_code()
    code = phone.latest_code()
    assert phone.login(code).status_code == 200
    assert error_code(phone.login(code)) == "SMS_CODE_INVALID"


def test_code_expires_after_five_minutes(client, clock):
    phone = Phone(client, "13900000013")
    phone.ask_code()
    clock.advance(301)
    assert error_code(phone.login(phone.latest_code())) == "SMS_CODE_INVALID"


def test_five_wrong_tries_void_the_code(client):
    phone = Phone(client, "13900000014")
    phone.ask_code()
    code = phone.latest_code()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        assert error_code(phone.login(wrong)) == "SMS_CODE_INVALID"
    assert error_code(phone.login(code)) == "SMS_CODE_INVALID"


def test_one_code_per_minute_with_retry_after(client, clock):
    phone = Phone(client, "13900000015")
    assert phone.ask_code().status_code == 202
    clock.advance(20)
    r = phone.ask_code()
    assert r.status_code == 429 and error_code(r) == "RATE_LIMITED"
    assert r.get_json()["error"]["details"]["retry_after"] == 40
    assert r.headers["Retry-After"] == "40"
    clock.advance(40)
    assert phone.ask_code().status_code == 202


def test_ten_codes_a_day_then_wait_for_beijing_midnight(client, clock):
    phone = Phone(client, "13900000016")
    for _ in range(10):
        assert phone.ask_code().status_code == 202
        clock.advance(61)
    r = phone.ask_code()
    assert error_code(r) == "RATE_LIMITED"
    # 10:00 + 10 x 61 s in Beijing: the day ends at midnight, about 13.8 hours later
    assert 13 * 3600 < r.get_json()["error"]["details"]["retry_after"] <= 14 * 3600
    clock.advance(r.get_json()["error"]["details"]["retry_after"])
    assert phone.ask_code().status_code == 202


def test_malformed_phone_is_a_validation_error(client):
    r = client.post("/api/v1/auth/sms-code", json={"phone": "12345678901"})
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR"


def test_refresh_rotates_and_the_old_token_stops_working(client):
    phone = Phone(client, "13900000017").sign_in()
    old = phone.refresh
    r = client.post("/api/v1/auth/refresh", headers=bearer(old))
    assert r.status_code == 200
    new = r.get_json()
    assert new["refresh_token"] != old
    assert client.get("/api/v1/me", headers=bearer(new["access_token"])).status_code == 200
    replay = client.post("/api/v1/auth/refresh", headers=bearer(old))
    assert replay.status_code == 401 and error_code(replay) == "TOKEN_REVOKED"


def test_replayed_refresh_token_revokes_the_whole_sign_in(client):
    phone = Phone(client, "13900000018").sign_in()
    stolen = phone.refresh
    fresh = client.post("/api/v1/auth/refresh", headers=bearer(stolen)).get_json()
    client.post("/api/v1/auth/refresh", headers=bearer(stolen))  # the thief replays it
    assert (
        error_code(client.post("/api/v1/auth/refresh", headers=bearer(fresh["refresh_token"])))
        == "TOKEN_REVOKED"
    )
    assert (
        error_code(client.get("/api/v1/me", headers=bearer(fresh["access_token"])))
        == "TOKEN_REVOKED"
    )


def test_logout_ends_access_and_refresh_tokens_of_that_sign_in_only(client, clock):
    tablet = Phone(client, "13900000019").sign_in()
    clock.advance(61)
    handset = Phone(client, "13900000019").sign_in()
    assert tablet.post("/auth/logout").status_code == 200
    assert error_code(tablet.get("/me")) == "TOKEN_REVOKED"
    r = client.post("/api/v1/auth/refresh", headers=bearer(tablet.refresh))
    assert error_code(r) == "TOKEN_REVOKED"
    assert handset.get("/me").status_code == 200


def test_access_token_cannot_refresh_and_refresh_token_cannot_call_the_api(client):
    phone = Phone(client, "13900000020").sign_in()
    assert client.post("/api/v1/auth/refresh", headers=bearer(phone.access)).status_code == 401
    assert client.get("/api/v1/me", headers=bearer(phone.refresh)).status_code == 401


def test_access_tokens_live_fifteen_minutes_at_most(client):
    from flask_jwt_extended import decode_token

    phone = Phone(client, "13900000021").sign_in()
    with client.application.app_context():
        claims = decode_token(phone.access)
    assert claims["exp"] - claims["iat"] <= 15 * 60


@pytest.mark.parametrize("path", ["/api/v1/me", "/api/v1/admin/institutions"])
def test_no_token_is_unauthorized(client, path):
    r = client.get(path) if path.endswith("me") else client.post(path, json={})
    assert r.status_code == 401 and error_code(r) == "UNAUTHORIZED"
