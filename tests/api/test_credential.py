"""The e-credential code as people meet it: the phone shows it, the hospital scans it once.

QR.md; CONTRACT.md: Phone app, Scanner, Additions.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta

import pytest

from mobile_api.offline import OfflineGenerator
from server.credentials import ec1
from server.credentials.keys import public_raw
from server.credentials.kits import server_held_device_key as _server_held_device_key
from server.ports.store import RedisStore
from tests.actors import PersonSpec, Phone, Terminal, error_code
from tests.households import app_user, relative
from tests.qr_reading import read_qr


@pytest.fixture
def person(clerk):
    person = PersonSpec("李四光", "13900000201")
    clerk.enrol(person)
    return person


@pytest.fixture
def phone(client, person):
    phone = Phone(client, person.phone).sign_in()
    r = phone.activate(person)
    assert r.status_code == 201, r.get_json()
    phone.kit = r.get_json()["offline_kit"]
    return phone


@pytest.fixture
def terminal(clerk) -> Terminal:
    return clerk.hospital_with_terminal("H100").sign_in()


@pytest.fixture
def pharmacy(clerk) -> Terminal:
    return clerk.hospital_with_terminal("P200").sign_in()


def qr(phone: Phone, **query: str) -> str:
    r = phone.get(
        "/credential/qr" + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
    )
    assert r.status_code == 200, r.get_json()
    return str(r.get_json()["qr_text"])


def scan(terminal: Terminal, text: object):
    return terminal.post("/scan", {"qr_text": text})


def test_the_activation_kit_makes_codes_offline_that_the_hospital_accepts(
    phone, terminal, clock, person
):
    offline = OfflineGenerator.from_kit(phone.kit, received_at=clock.now())
    clock.advance(3600)
    r = scan(terminal, offline.next_code(clock.now()).qr_text)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["person"] == {
        "name_masked": "李**",
        "id_number_masked": person.id_number[:3] + "*" * 11 + person.id_number[-4:],
        "insurance_type": "employee",
        "region": "110000",
    }
    assert body["presented_by"] is None
    assert body["scan_token"]
    expires = datetime.fromisoformat(body["expires_at"])
    assert expires - clock.now() == timedelta(minutes=10)


def test_the_server_made_code_is_accepted_once_from_any_terminal(phone, terminal, pharmacy, clock):
    r = phone.get("/credential/qr")
    body = r.get_json()
    assert set(body) == {"qr_text", "expires_at", "refresh_after_seconds"}
    assert body["qr_text"].startswith("EC1:") and len(body["qr_text"]) <= 420
    assert 1 <= body["refresh_after_seconds"] <= 30
    assert datetime.fromisoformat(body["expires_at"]) - clock.now() <= timedelta(seconds=60)
    assert scan(terminal, body["qr_text"]).status_code == 200
    again = scan(pharmacy, body["qr_text"])
    assert again.status_code == 409 and error_code(again) == "QR_ALREADY_USED"


def test_each_refresh_is_a_new_code_and_each_scans(phone, terminal, clock):
    first = qr(phone)
    clock.advance(30)
    second = qr(phone)
    assert first != second
    assert scan(terminal, second).status_code == 200
    # The older code of the same device comes too late: its counter did not grow.
    assert error_code(scan(terminal, first)) == "QR_ALREADY_USED"


def test_the_code_holds_no_personal_data(phone, person):
    text = qr(phone)
    parsed = ec1.parse_code(text)
    blob = parsed.attestation_bytes + parsed.presentation.encode()
    for secret in (person.id_number, person.name, person.phone):
        assert secret.encode() not in blob


@pytest.mark.parametrize(
    ("text", "status", "code"),
    [
        ("hello", 422, "QR_MALFORMED"),
        ("EC1:" + "0" * 700, 422, "QR_MALFORMED"),
        ("EC2:ABC", 422, "QR_UNSUPPORTED_VERSION"),
        ("", 422, "QR_MALFORMED"),
        (12345, 400, "VALIDATION_ERROR"),
        (None, 400, "VALIDATION_ERROR"),
        ("x" * 5000, 400, "VALIDATION_ERROR"),
    ],
)
def test_what_is_not_a_code_gets_a_4xx_naming_why(terminal, text, status, code):
    r = scan(terminal, text)
    assert (r.status_code, error_code(r)) == (status, code)


def test_a_mangled_code_is_refused(phone, terminal):
    text = qr(phone)
    assert error_code(scan(terminal, text + " ")) == "QR_MALFORMED"
    assert error_code(scan(terminal, text.lower())) == "QR_MALFORMED"
    last = "1" if text[-1] != "1" else "2"
    assert error_code(scan(terminal, text[:-1] + last)) in {"QR_SIGNATURE_INVALID", "QR_MALFORMED"}
    assert scan(terminal, text).status_code == 200  # the refusals used nothing up


def test_a_code_scanned_90_seconds_after_its_step_began_has_expired(phone, terminal, clock):
    text = qr(phone)
    issued_at = ec1.parse_code(text).presentation_claims.issued_at
    clock.set(datetime.fromtimestamp(issued_at + 90, clock.now().tzinfo))
    r = scan(terminal, text)
    assert (r.status_code, error_code(r)) == (422, "QR_EXPIRED")


def test_a_code_from_a_phone_clock_two_minutes_fast_is_not_valid_yet(phone, terminal, clock):
    offline = OfflineGenerator.from_kit(phone.kit, received_at=clock.now())
    r = scan(terminal, offline.next_code(clock.now() + timedelta(minutes=2)).qr_text)
    assert error_code(r) == "QR_NOT_YET_VALID"


def test_a_code_from_an_expired_kit_says_kit_expired(phone, terminal, clock):
    offline = OfflineGenerator.from_kit(phone.kit, received_at=clock.now())
    kit_end = datetime.fromisoformat(phone.kit["expires_at"])
    text = offline.next_code(kit_end - timedelta(seconds=10)).qr_text
    clock.set(kit_end + timedelta(seconds=40))
    assert error_code(scan(terminal, text)) == "KIT_EXPIRED"


def test_a_genuine_code_with_no_credential_behind_it_is_not_activated(app, terminal, clock):
    signer = app.extensions["wiring"].keys.ring().active
    device = _server_held_device_key(signer, os.urandom(16))
    now = int(clock.now().timestamp())
    attestation = ec1.sign_attestation(
        signer.private_key,
        signer.kid_raw,
        ec1.AttestationClaims(
            handle=os.urandom(16),
            issued_at=now,
            expires_at=now + 3600,
            device_public_key=public_raw(device),
        ),
    )
    code = ec1.present(
        attestation,
        device,
        ec1.PresentationClaims(
            code_id=os.urandom(16), issued_at=now, expires_at=now + 60, counter=1
        ),
    )
    assert error_code(scan(terminal, code)) == "NOT_ACTIVATED"


def test_revoked_by_the_user_every_code_and_kit_answers_revoked_until_activated_again(
    phone, person, terminal, clock
):
    offline = OfflineGenerator.from_kit(phone.kit, received_at=clock.now())
    server_code = qr(phone)
    assert phone.post("/credential/revoke").status_code == 200
    for text in (server_code, offline.next_code(clock.now()).qr_text):
        r = scan(terminal, text)
        assert (r.status_code, error_code(r)) == (403, "CREDENTIAL_REVOKED")
    assert error_code(phone.get("/credential/qr")) == "CREDENTIAL_REVOKED"
    assert error_code(phone.post("/credential/offline-kit", {})) == "CREDENTIAL_REVOKED"

    again = phone.activate(person)
    assert again.status_code == 201, again.get_json()
    assert scan(terminal, qr(phone)).status_code == 200
    assert error_code(scan(terminal, offline.next_code(clock.now()).qr_text)) == (
        "CREDENTIAL_REVOKED"
    )


def test_reactivation_issues_a_new_credential(phone, person, clock):
    first = phone.get("/me").get_json()["credential"]["credential_id"]
    phone.post("/credential/revoke")
    clock.advance(60)
    second = phone.activate(person).get_json()["credential_id"]
    assert second != first
    assert phone.get("/me").get_json()["credential"] == {
        "credential_id": second,
        "status": "active",
    }


def test_a_clerk_revokes_at_the_counter(phone, person, clerk, terminal):
    text = qr(phone)
    assert clerk.post(f"/insured/{person.id_number}/credential/revoke").status_code == 200
    assert error_code(scan(terminal, text)) == "CREDENTIAL_REVOKED"
    again = clerk.post(f"/insured/{person.id_number}/credential/revoke")
    assert error_code(again) == "NOT_ACTIVATED"
    assert error_code(clerk.post("/insured/110101199001011237/credential/revoke")) == "NOT_FOUND"


def test_without_activation_there_is_no_code(client, clerk):
    person = PersonSpec("周八", "13900000202")
    clerk.enrol(person)
    phone = Phone(client, person.phone).sign_in()
    r = phone.get("/credential/qr")
    assert (r.status_code, error_code(r)) == (409, "NOT_ACTIVATED")
    assert error_code(phone.post("/credential/revoke")) == "NOT_ACTIVATED"


def test_a_phone_key_kit_signs_with_the_phone_key_and_no_private_key_travels(
    phone, terminal, clock
):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from server.credentials.codec import b64url

    device = Ed25519PrivateKey.generate()
    r = phone.post("/credential/offline-kit", {"device_public_key": b64url(public_raw(device))})
    assert r.status_code == 201, r.get_json()
    kit = r.get_json()
    assert "device_private_key" not in kit or kit["device_private_key"] is None
    offline = OfflineGenerator.from_kit(kit, received_at=clock.now(), device_key=device)
    assert scan(terminal, offline.next_code(clock.now()).qr_text).status_code == 200


def test_a_server_made_kit_returns_its_private_half_once(phone, terminal, clock):
    r = phone.post("/credential/offline-kit", {})
    assert r.status_code == 201
    kit = r.get_json()
    assert kit["device_private_key"]
    assert datetime.fromisoformat(kit["expires_at"]) - clock.now() == timedelta(days=3)
    offline = OfflineGenerator.from_kit(kit, received_at=clock.now())
    assert scan(terminal, offline.next_code(clock.now()).qr_text).status_code == 200


@pytest.mark.parametrize(
    "body", [{"device_public_key": "not base64!"}, {"device_public_key": "AAAA"}, {"x": 1}, []]
)
def test_a_bad_offline_kit_request_is_a_validation_error(phone, body):
    r = phone.post("/credential/offline-kit", body)
    assert (r.status_code, error_code(r)) == (400, "VALIDATION_ERROR")


def test_roles_are_enforced(client, phone, terminal):
    assert error_code(terminal.get("/../credential/qr")) in {"FORBIDDEN", "NOT_FOUND"}
    r = client.get("/api/v1/credential/qr", headers={"Authorization": f"Bearer {terminal.access}"})
    assert r.status_code == 403
    assert client.post("/api/v1/terminal/scan", json={"qr_text": "x"}).status_code == 401
    r = phone.client.post(
        "/api/v1/terminal/scan",
        json={"qr_text": qr(phone)},
        headers={"Authorization": f"Bearer {phone.access}"},
    )
    assert r.status_code == 403


def test_the_png_reads_back_as_a_code_that_scans(phone, terminal):
    r = phone.get("/credential/qr.png")
    assert r.status_code == 200 and r.mimetype == "image/png"
    assert r.headers["Cache-Control"] == "no-store"
    text = read_qr(r.data)
    assert text.startswith("EC1:")
    assert scan(terminal, text).status_code == 200


def test_the_svg_is_an_svg_of_a_fresh_code(phone):
    r = phone.get("/credential/qr.svg")
    assert r.status_code == 200 and r.mimetype == "image/svg+xml"
    assert b"<svg" in r.data and b"<path" in r.data


def test_when_the_used_code_store_is_down_scanning_refuses(app, phone, terminal, clock):
    text = qr(phone)
    app.extensions["wiring"].store.close()  # replaced by a store that cannot answer
    app.extensions["wiring"].store = RedisStore("redis://127.0.0.1:1/0", clock)
    r = scan(terminal, text)
    assert (r.status_code, error_code(r)) == (503, "SERVICE_UNAVAILABLE")


def test_no_key_material_or_code_reaches_the_logs(phone, terminal, clock, caplog):
    caplog.set_level(logging.DEBUG)
    kit = phone.post("/credential/offline-kit", {}).get_json()
    text = qr(phone)
    scan(terminal, text)
    scan(terminal, text)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert kit["device_private_key"] not in logged
    assert text not in logged and text[4:40] not in logged


def test_an_unbound_family_member_has_no_code(phone):
    r = phone.get("/credential/qr?member=m-1")
    assert (r.status_code, error_code(r)) == (404, "NOT_FOUND")
    assert error_code(phone.get("/credential/qr?member=")) == "VALIDATION_ERROR"
    assert error_code(phone.get("/credential/qr?who=me")) == "VALIDATION_ERROR"


def test_a_proxy_code_names_who_presents_it_and_dies_with_the_binding(
    client, clerk, phone, terminal, clock
):
    grandma = relative(clerk, "王奶奶", birth="19400101")  # no phone, no app
    r = phone.bind_member(grandma, "grandparent")
    assert r.status_code == 201, r.get_json()
    member_id = r.get_json()["member_id"]

    text = qr(phone, member=member_id)
    assert ec1.parse_code(text).attestation_claims.is_proxy
    r = scan(terminal, text)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["person"]["name_masked"] == "王**"
    assert body["person"]["id_number_masked"].endswith(grandma.id_number[-4:])
    assert body["presented_by"] == {"name_masked": "李**", "relation": "grandchild"}

    offline = OfflineGenerator.from_kit(
        phone.post(f"/credential/offline-kit?member={member_id}", {}).get_json(),
        received_at=clock.now(),
    )
    fresh = qr(phone, member=member_id)
    assert phone.unbind_member(member_id).status_code in (200, 204)
    assert error_code(scan(terminal, fresh)) == "CREDENTIAL_REVOKED"
    assert error_code(scan(terminal, offline.next_code(clock.now()).qr_text)) == (
        "CREDENTIAL_REVOKED"
    )
    assert error_code(phone.get(f"/credential/qr?member={member_id}")) == "NOT_FOUND"


def test_someone_elses_member_has_no_code_for_me(client, clerk, phone):
    _, other = app_user(client, clerk, "郑十二")
    grandpa = relative(clerk, "郑爷爷", birth="19380101")
    member_id = other.bind_member(grandpa, "grandparent").get_json()["member_id"]
    assert error_code(phone.get(f"/credential/qr?member={member_id}")) == "NOT_FOUND"
