"""A revoked terminal cannot scan (issue 14): POST /scan reads the terminal's own row in its one
read, instead of the token check asking the store, and refuses a revoked terminal with the same
TOKEN_REVOKED; nothing is written or claimed, so the patient's code still works elsewhere."""

from __future__ import annotations

from sqlalchemy import func, select

from server.credentials.models import OfflineKit, ScanToken
from server.institutions.terminals import revoked_key
from server.terminal.routes import ScanAnswer
from tests.actors import PersonSpec, Phone, error_code


def _code(phone: Phone) -> str:
    r = phone.get("/credential/qr")
    assert r.status_code == 200, r.get_json()
    return str(r.get_json()["qr_text"])


def _written(app) -> tuple[int, list[int]]:
    """(scan tokens granted, every kit's last accepted counter)."""
    with app.extensions["wiring"].db.engine.connect() as conn:
        tokens = conn.scalar(select(func.count()).select_from(ScanToken))
        counters = list(conn.scalars(select(OfflineKit.last_counter).order_by(OfflineKit.id)))
    return int(tokens or 0), counters


def _activated(client, clerk, number: str) -> Phone:
    person = PersonSpec("周十四", number)
    clerk.enrol(person)
    phone = Phone(client, person.phone).sign_in()
    assert phone.activate(person).status_code == 201
    return phone


def test_a_revoked_terminal_cannot_scan_and_the_code_still_works_elsewhere(app, client, clerk):
    phone = _activated(client, clerk, "13900000801")
    gone = clerk.hospital_with_terminal("H801").sign_in()
    kept = clerk.hospital_with_terminal("H802").sign_in()
    assert clerk.post(f"/terminals/{gone.terminal_id}/revoke").status_code == 200
    text = _code(phone)  # (the phone's first code makes its server-held kit)
    before = _written(app)

    r = gone.post("/scan", {"qr_text": text})
    assert r.status_code == 401 and error_code(r) == "TOKEN_REVOKED"
    assert _written(app) == before  # no scan token, no counter grown

    # Not burnt in the store either: the same code is accepted once at a live counter.
    r = kept.post("/scan", {"qr_text": text})
    assert r.status_code == 200, r.get_json()
    ScanAnswer.model_validate(r.get_json())  # the documented answer
    assert _written(app)[0] == before[0] + 1


def test_the_scan_refuses_a_revoked_terminal_even_when_the_store_lost_its_mark(app, client, clerk):
    """The mark lives in the short-lived store (Redis may restart empty); the scan's own read
    of terminals.revoked_at is what refuses it."""
    phone = _activated(client, clerk, "13900000802")
    gone = clerk.hospital_with_terminal("H803").sign_in()
    assert clerk.post(f"/terminals/{gone.terminal_id}/revoke").status_code == 200
    app.extensions["wiring"].store.delete(revoked_key(gone.terminal_id))
    text = _code(phone)
    before = _written(app)

    r = gone.post("/scan", {"qr_text": text})
    assert r.status_code == 401 and error_code(r) == "TOKEN_REVOKED"
    assert _written(app) == before


def test_a_revoked_terminal_sending_nonsense_is_still_told_its_token_is_revoked(client, clerk):
    gone = clerk.hospital_with_terminal("H804").sign_in()
    assert clerk.post(f"/terminals/{gone.terminal_id}/revoke").status_code == 200
    for body in [{"qr_text": "EC1:not-a-code"}, {"qr_text": 7}, {"other": "field"}]:
        r = gone.post("/scan", body)
        assert r.status_code == 401 and error_code(r) == "TOKEN_REVOKED", (body, r.get_json())
    # A live terminal sending the same gets the code's and the body's own errors.
    live = clerk.hospital_with_terminal("H805").sign_in()
    assert error_code(live.post("/scan", {"qr_text": "EC1:not-a-code"})) == "QR_MALFORMED"
    assert error_code(live.post("/scan", {"qr_text": 7})) == "VALIDATION_ERROR"
