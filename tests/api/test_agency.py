"""The agency's roster, institutions and terminals, as a clerk uses them."""

from tests.actors import PersonSpec, Phone, bearer, error_code, id_number


def counts(r):
    """What an import answer says it did (its job_id aside)."""
    return {k: r.get_json()[k] for k in ("created", "updated", "unchanged")}


def test_import_creates_then_updates_and_texts_initial_passwords(client, clerk):
    a, b = PersonSpec("甲", "13900000201"), PersonSpec("乙", None)
    r = clerk.import_persons(a, b)
    assert r.status_code == 201 and counts(r) == {"created": 2, "updated": 0, "unchanged": 0}
    password = Phone(client, a.phone).initial_password()
    assert len(password) == 6 and password.isdigit()
    a.region = "310000"
    r = clerk.import_persons(a)
    assert counts(r) == {"created": 0, "updated": 1, "unchanged": 0}
    # re-importing does not send a second initial password
    assert len(Phone(client, a.phone).outbox("payment_password")) == 1


def test_each_bad_row_is_named_and_nothing_of_the_call_is_written(client, clerk):
    good = PersonSpec("好", "13900000202")
    bad_check = PersonSpec("坏一", "13900000203")
    bad_check.id_number = bad_check.id_number[:17] + (
        "0" if bad_check.id_number[17] != "0" else "1"
    )
    bad_phone = PersonSpec("坏二", "1390000")
    bad_region = PersonSpec("坏三", "13900000204", region="999999")
    r = clerk.import_persons(good, bad_check, bad_phone, bad_region)
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR"
    rows = {
        row["index"]: " ".join(row["problems"]) for row in r.get_json()["error"]["details"]["rows"]
    }
    assert set(rows) == {1, 2, 3}
    assert "check digit" in rows[1] and "phone" in rows[2] and "region" in rows[3]
    assert bad_check.id_number not in r.get_data(as_text=True)
    # nothing was written: the good row imports as new afterwards, and nobody got a password
    assert Phone(client, good.phone).outbox("payment_password") == []
    assert counts(clerk.import_persons(good)) == {"created": 1, "updated": 0, "unchanged": 0}


def test_reimporting_identical_rows_reports_them_unchanged(client, clerk):
    a, b = PersonSpec("丙", "13900000207"), PersonSpec("丁", None)
    clerk.import_persons(a, b)
    r = clerk.import_persons(a, b)
    assert r.status_code == 201 and counts(r) == {"created": 0, "updated": 0, "unchanged": 2}
    # an empty phone keeps the stored one, so it is no change either
    a_without_phone = PersonSpec("丙", None, id_number=a.id_number)
    assert clerk.import_persons(a_without_phone).get_json()["unchanged"] == 1
    b.phone = "13900000208"
    assert counts(clerk.import_persons(b)) == {"created": 0, "updated": 1, "unchanged": 0}


def test_a_name_with_a_bidi_override_or_a_newline_is_refused_with_its_row(client, clerk):
    good = PersonSpec("好", None)
    spoof = PersonSpec("\u202e英秀王", None)
    broken = PersonSpec("王\n五", None)
    r = clerk.import_persons(good, spoof, broken)
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR"
    rows = {row["index"]: row["problems"] for row in r.get_json()["error"]["details"]["rows"]}
    assert set(rows) == {1, 2}
    assert rows[1][0].startswith("name: ") and "U+202E" in rows[1][0]
    assert "U+000A" in rows[2][0]


def test_more_than_ten_thousand_rows_are_refused(client, clerk):
    row = PersonSpec("多", None).row()
    r = clerk.post("/insured", {"persons": [row] * 10_001})
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR"


def test_fixing_the_phone_of_an_unknown_person_is_not_found(client, clerk):
    r = clerk.fix_phone(id_number(), "13900000205")
    assert r.status_code == 404 and error_code(r) == "NOT_FOUND"


def test_wrong_admin_password_is_unauthorized(client):
    r = client.post("/api/v1/admin/login", json={"username": "clerk", "password": "nope"})
    assert r.status_code == 401 and error_code(r) == "UNAUTHORIZED"


def test_a_phone_user_cannot_call_the_agency(client, clerk):
    phone = Phone(client, "13900000206").sign_in()
    r = client.post(
        "/api/v1/admin/institutions",
        json={"code": "X", "name": "X", "kind": "hospital"},
        headers=bearer(phone.access),
    )
    assert r.status_code == 403 and error_code(r) == "FORBIDDEN"


def test_terminal_signs_in_with_its_secret_once_shown(client, clerk):
    terminal = clerk.hospital_with_terminal("H-A")
    assert terminal.sign_in().access
    r = client.post(
        "/api/v1/terminal/token",
        json={"terminal_id": terminal.terminal_id, "secret": terminal.secret + "x"},
    )
    assert r.status_code == 401 and error_code(r) == "UNAUTHORIZED"


def test_institution_kind_and_duplicate_code_are_checked(client, clerk):
    r = clerk.post("/institutions", {"code": "P1", "name": "Pharmacy", "kind": "clinic"})
    assert error_code(r) == "VALIDATION_ERROR"
    assert (
        clerk.post(
            "/institutions", {"code": "P1", "name": "Pharmacy", "kind": "pharmacy"}
        ).status_code
        == 201
    )
    again = clerk.post("/institutions", {"code": "P1", "name": "Again", "kind": "pharmacy"})
    assert again.status_code == 409 and error_code(again) == "ALREADY_EXISTS"
    assert error_code(clerk.post("/terminals", {"institution_code": "nope"})) == "NOT_FOUND"
