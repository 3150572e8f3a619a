"""The agency desk: a person looked up by ID number (masked), terminals listed and revoked."""

from tests.actors import PersonSpec, Phone, error_code, id_number


def test_a_person_is_looked_up_masked_with_activation_lock_cards_and_phone(client, clerk):
    person = PersonSpec("张三丰", "13900000701")
    clerk.enrol(person)
    r = clerk.client.get(
        f"/api/v1/admin/insured/{person.id_number}",
        headers={"Authorization": f"Bearer {clerk.token}"},
    )
    assert r.status_code == 200, r.get_json()
    found = r.get_json()
    assert found["id_number_masked"] == person.id_number[:3] + "*" * 11 + person.id_number[-4:]
    assert found["name_masked"] == "张**" and found["phone_masked"] == "139****0701"
    assert found["credential_status"] == "not_activated" and found["password_status"] == "set"
    assert found["password_locked_until"] is None and found["cards"] == []
    assert person.id_number not in r.get_data(as_text=True)

    phone = Phone(client, person.phone).sign_in()
    assert phone.activate(person).status_code == 201
    card = clerk.post("/cards", {"id_number": person.id_number}).get_json()["card_no"]
    found = clerk.client.get(
        f"/api/v1/admin/insured/{person.id_number}",
        headers={"Authorization": f"Bearer {clerk.token}"},
    ).get_json()
    assert found["credential_status"] == "active" and found["activated_at"]
    assert [(c["card_no"], c["status"]) for c in found["cards"]] == [(card, "active")]


def test_a_locked_password_shows_until_when(client, clerk):
    person = PersonSpec("李四", "13900000702")
    clerk.enrol(person)
    phone = Phone(client, person.phone).sign_in()
    assert phone.activate(person).status_code == 201
    for _ in range(5):
        phone.put("/account/password-free-limit", {"limit_fen": 100, "payment_password": "000000"})
    found = clerk.client.get(
        f"/api/v1/admin/insured/{person.id_number}",
        headers={"Authorization": f"Bearer {clerk.token}"},
    ).get_json()
    assert found["password_locked_until"] is not None


def test_an_unknown_person_is_not_found(clerk):
    r = clerk.client.get(
        f"/api/v1/admin/insured/{id_number()}", headers={"Authorization": f"Bearer {clerk.token}"}
    )
    assert r.status_code == 404 and error_code(r) == "NOT_FOUND"


def test_a_person_without_a_phone_has_no_password_yet(clerk):
    person = PersonSpec("王五", None)
    clerk.enrol(person)
    found = clerk.client.get(
        f"/api/v1/admin/insured/{person.id_number}",
        headers={"Authorization": f"Bearer {clerk.token}"},
    ).get_json()
    assert found["phone_masked"] is None and found["password_status"] == "none"


def _terminals(clerk, query=""):
    r = clerk.client.get(
        f"/api/v1/admin/terminals{query}", headers={"Authorization": f"Bearer {clerk.token}"}
    )
    assert r.status_code == 200, r.get_json()
    return r.get_json()["terminals"]


def test_terminals_are_listed_by_institution(clerk):
    first = clerk.hospital_with_terminal("H701")
    second = clerk.hospital_with_terminal("H702")
    listed = {t["terminal_id"]: t for t in _terminals(clerk)}
    assert {first.terminal_id, second.terminal_id} <= set(listed)
    assert listed[first.terminal_id]["institution_code"] == "H701"
    assert listed[first.terminal_id]["revoked_at"] is None
    only = _terminals(clerk, "?institution_code=H702")
    assert [t["terminal_id"] for t in only] == [second.terminal_id]


def test_a_revoked_terminal_can_neither_sign_in_nor_use_its_token(client, clerk):
    terminal = clerk.hospital_with_terminal("H703").sign_in()
    assert terminal.get("/reconciliation?date=2026-11-30").status_code == 200
    r = clerk.post(f"/terminals/{terminal.terminal_id}/revoke")
    assert r.status_code == 200 and r.get_json()["revoked_at"]
    # the token it already holds is refused
    r = terminal.get("/reconciliation?date=2026-11-30")
    assert r.status_code == 401 and error_code(r) == "TOKEN_REVOKED"
    # and its secret no longer signs in
    r = client.post(
        "/api/v1/terminal/token",
        json={"terminal_id": terminal.terminal_id, "secret": terminal.secret},
    )
    assert r.status_code == 401 and error_code(r) == "UNAUTHORIZED"
    listed = {t["terminal_id"]: t for t in _terminals(clerk, "?institution_code=H703")}
    assert listed[terminal.terminal_id]["revoked_at"] is not None
    # revoking again changes nothing
    again = clerk.post(f"/terminals/{terminal.terminal_id}/revoke")
    assert again.status_code == 200


def test_other_terminals_keep_working(clerk):
    kept = clerk.hospital_with_terminal("H704").sign_in()
    gone = clerk.hospital_with_terminal("H705")
    assert clerk.post(f"/terminals/{gone.terminal_id}/revoke").status_code == 200
    assert kept.get("/reconciliation?date=2026-11-30").status_code == 200


def test_revoking_an_unknown_terminal_is_not_found(clerk):
    r = clerk.post("/terminals/no-such-terminal/revoke")
    assert r.status_code == 404 and error_code(r) == "NOT_FOUND"
