"""The published keys: one document, cached briefly, rotated with overlap (QR.md point 8)."""

from __future__ import annotations

import pytest

from mobile_api.offline import OfflineGenerator
from server.credentials import ec1
from tests.actors import PersonSpec, Phone, error_code
from tests.conftest import _empty_shared_state


@pytest.fixture
def phone(client, clerk):
    person = PersonSpec("孙九", "13900000301")
    clerk.enrol(person)
    phone = Phone(client, person.phone).sign_in()
    r = phone.activate(person)
    assert r.status_code == 201
    phone.kit = r.get_json()["offline_kit"]
    return phone


def keys(client) -> list[dict[str, str]]:
    r = client.get("/.well-known/ecredential-keys.json")
    assert r.status_code == 200
    return list(r.get_json()["keys"])


def test_the_keys_document_is_public_cached_and_names_the_signing_key(client, phone):
    r = client.get("/.well-known/ecredential-keys.json")
    assert r.headers["Cache-Control"] == "public, max-age=300"
    (jwk,) = r.get_json()["keys"]
    assert set(jwk) == {"kty", "crv", "x", "kid", "alg", "use"}
    assert (jwk["kty"], jwk["crv"], jwk["alg"], jwk["use"]) == ("OKP", "Ed25519", "EdDSA", "sig")
    assert (
        jwk["kid"]
        == phone.kit["kid"]
        == ec1.parse_code(phone.get("/credential/qr").get_json()["qr_text"]).kid
    )


def test_a_rotated_key_signs_at_once_and_the_old_one_stays_until_its_kits_expire(
    client, clerk, phone, clock
):
    old_kid = phone.kit["kid"]
    old_phone = OfflineGenerator.from_kit(phone.kit, received_at=clock.now())
    r = clerk.post("/keys/rotate")
    assert r.status_code == 201
    new_kid = r.get_json()["kid"]
    assert new_kid != old_kid
    assert [k["kid"] for k in keys(client)] == [old_kid, new_kid]

    terminal = clerk.hospital_with_terminal("H300").sign_in()
    fresh = phone.get("/credential/qr").get_json()["qr_text"]
    assert ec1.parse_code(fresh).kid == new_kid
    assert terminal.post("/scan", {"qr_text": fresh}).status_code == 200
    # A kit the old key signed keeps working during the overlap...
    clock.advance(3 * 24 * 3600 - 120)
    code = old_phone.next_code(clock.now()).qr_text
    assert terminal.post("/scan", {"qr_text": code}).status_code == 200
    # ...and once its last kit has expired, the old key is gone from the document and from trust.
    late = old_phone.next_code(clock.now()).qr_text
    clock.advance(120 + ec1.SKEW_SECONDS)
    assert [k["kid"] for k in keys(client)] == [new_kid]
    assert error_code(terminal.post("/scan", {"qr_text": late})) == "QR_SIGNATURE_INVALID"


def test_only_a_clerk_rotates_keys(phone):
    assert phone.client.post("/api/v1/admin/keys/rotate").status_code == 401
    r = phone.client.post(
        "/api/v1/admin/keys/rotate", headers={"Authorization": f"Bearer {phone.access}"}
    )
    assert (r.status_code, error_code(r)) == (403, "FORBIDDEN")


def test_rotation_persists_in_the_key_file_for_every_worker(make_app, tmp_path):
    from server.credentials.keys import FileKeySource, create_key_file
    from tests.actors import Clerk

    path = tmp_path / "signing-keys.pem"
    first = create_key_file(path)
    app = make_app(
        SIGNING_KEY_FILE=str(path), ADMIN_USERNAME=Clerk.ADMIN[0], ADMIN_PASSWORD=Clerk.ADMIN[1]
    )
    _empty_shared_state(app)
    clerk = Clerk.signed_in(app.test_client())
    new_kid = clerk.post("/keys/rotate").get_json()["kid"]
    other_worker = FileKeySource(path)
    assert [k.kid for k in other_worker.ring().keys] == [first, new_kid]
    assert "PRIVATE KEY" not in str(
        app.test_client().get("/.well-known/ecredential-keys.json").data
    )


def test_keys_from_the_environment_are_rotated_by_deploying(make_app):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from server.credentials.keys import dump_pem
    from tests.actors import Clerk

    app = make_app(
        SIGNING_KEYS=dump_pem(Ed25519PrivateKey.generate()),
        ADMIN_USERNAME=Clerk.ADMIN[0],
        ADMIN_PASSWORD=Clerk.ADMIN[1],
    )
    _empty_shared_state(app)
    clerk = Clerk.signed_in(app.test_client())
    r = clerk.client.post(
        "/api/v1/admin/keys/rotate",
        headers={"Authorization": f"Bearer {clerk.token}", "Accept-Language": "en"},
    )
    assert (r.status_code, error_code(r)) == (403, "FORBIDDEN")
    assert "SIGNING_KEYS" in r.get_json()["error"]["message"]


def test_without_keys_outside_testing_the_app_does_not_start(monkeypatch):
    from server import create_app
    from server.config import ConfigError

    for name in ("SIGNING_KEY_FILE", "SIGNING_KEYS"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError, match="SIGNING_KEY"):
        create_app(
            {
                "TESTING": False,
                "JWT_SECRET_KEY": "x" * 32,
                "PASSWORD_PEPPER": "y" * 32,
                "DATABASE_URL": "sqlite+pysqlite:///:memory:",
                # production mode names a real sender and verifier (tests/api/test_modes.py)
                "SMS_BACKEND": "tests.fakes:RecordingSmsSender",
                "FACE_VERIFIER": "tests.fakes:RefusingFaceVerifier",
            }
        )


def test_the_document_lists_the_active_key_even_with_no_kits(client):
    assert len(keys(client)) == 1
