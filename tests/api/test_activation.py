"""Real-name activation, as an insured person meets it. DOMAIN.md: Activation; Payment password."""

from datetime import datetime, timedelta

from tests.actors import PersonSpec, Phone, error_code, face


def _wrong(password: str) -> str:
    return f"{(int(password) + 1) % 1_000_000:06d}"


def test_activation_answers_the_credential_and_me_shows_the_person_masked(client, clerk):
    person = PersonSpec("张三丰", "13900000101")
    clerk.enrol(person)
    phone = Phone(client, person.phone).sign_in()
    r = phone.activate(person)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["status"] == "active" and body["credential_id"]
    assert "offline_kit" in body
    me = phone.get("/me").get_json()
    assert me["person"]["name_masked"] == "张**"
    assert (
        me["person"]["id_number_masked"] == person.id_number[:3] + "*" * 11 + person.id_number[-4:]
    )
    assert me["credential"] == {"credential_id": body["credential_id"], "status": "active"}
    assert person.id_number not in r.get_data(as_text=True)


def test_person_without_phone_on_roster_is_told_to_have_it_fixed_then_can_activate(client, clerk):
    person = PersonSpec("王五", None)
    clerk.enrol(person)
    phone = Phone(client, "13900000102").sign_in()
    assert phone.outbox("payment_password") == []  # no phone, no initial password yet
    r = phone.activate(person, password="135790")
    assert r.status_code == 404 and error_code(r) == "INSURED_NUMBER_NOT_FOUND"
    assert "手机号" in r.get_json()["error"]["message"]

    assert clerk.fix_phone(person.id_number, phone.number).status_code == 200
    assert len(phone.outbox("payment_password")) == 1  # the initial password goes out now
    assert phone.activate(person).status_code == 201


def test_someone_elses_phone_cannot_activate_a_person(client, clerk):
    person = PersonSpec("赵六", "13900000103")
    clerk.enrol(person)
    owner = Phone(client, person.phone)
    intruder = Phone(client, "13900000104").sign_in()
    r = intruder.activate(person, password=owner.initial_password())
    assert error_code(r) == "INSURED_NUMBER_NOT_FOUND"


def test_wrong_name_or_region_is_not_a_roster_match(client, clerk):
    person = PersonSpec("钱七", "13900000105")
    clerk.enrol(person)
    phone = Phone(client, person.phone).sign_in()
    assert error_code(phone.activate(person, name="钱八")) == "INSURED_NUMBER_NOT_FOUND"
    assert error_code(phone.activate(person, region="310000")) == "INSURED_NUMBER_NOT_FOUND"


def test_face_mismatch_refuses_activation(client, clerk):
    person = PersonSpec("孙八", "13900000106")
    clerk.enrol(person)
    phone = Phone(client, person.phone).sign_in()
    r = phone.activate(person, face_image=face("somebody else"))
    assert r.status_code == 422 and error_code(r) == "FACE_MISMATCH"
    assert phone.get("/me").get_json()["credential"] is None


def test_consent_is_required(client, clerk):
    person = PersonSpec("周九", "13900000107")
    clerk.enrol(person)
    phone = Phone(client, person.phone).sign_in()
    assert error_code(phone.activate(person, consent=False)) == "CONSENT_REQUIRED"


def test_wrong_password_counts_down_and_the_fifth_locks_for_24_hours(client, clerk, clock):
    person = PersonSpec("吴十", "13900000108")
    clerk.enrol(person)
    phone = Phone(client, person.phone).sign_in()
    right = phone.initial_password()
    lefts = []
    for _ in range(4):
        r = phone.activate(person, password=_wrong(right))
        assert error_code(r) == "PAYMENT_PASSWORD_INVALID"
        lefts.append(r.get_json()["error"]["details"]["attempts_left"])
    assert lefts == [4, 3, 2, 1]
    fifth = phone.activate(person, password=_wrong(right))
    assert error_code(fifth) == "PASSWORD_LOCKED"
    locked_until = fifth.get_json()["error"]["details"]["locked_until"]
    assert datetime.fromisoformat(locked_until) == clock.now() + timedelta(hours=24)
    # Locked: even the right password is refused for 24 hours.
    assert error_code(phone.activate(person, password=right)) == "PASSWORD_LOCKED"
    clock.advance(24 * 3600 - 60)
    assert error_code(phone.activate(person, password=right)) == "PASSWORD_LOCKED"
    clock.advance(61)
    assert phone.activate(person, password=right).status_code == 201


def test_wrong_entries_of_yesterday_do_not_count_today(client, clerk, clock):
    person = PersonSpec("郑一", "13900000109")
    clerk.enrol(person)
    phone = Phone(client, person.phone).sign_in()
    right = phone.initial_password()
    for _ in range(4):
        phone.activate(person, password=_wrong(right))
    clock.advance(14 * 3600 + 1)  # 10:00 -> past midnight in Beijing
    r = phone.activate(person, password=_wrong(right))
    assert r.get_json()["error"]["details"]["attempts_left"] == 4


def test_counter_reset_lifts_the_lock_and_sends_a_new_password(client, clerk):
    person = PersonSpec("冯二", "13900000110")
    clerk.enrol(person)
    phone = Phone(client, person.phone).sign_in()
    old = phone.initial_password()
    for _ in range(5):
        phone.activate(person, password=_wrong(old))
    assert error_code(phone.activate(person, password=old)) == "PASSWORD_LOCKED"
    assert clerk.reset_password(person.id_number).status_code == 200
    new = phone.initial_password()
    assert len(phone.outbox("payment_password")) == 2
    assert phone.activate(person, password=new).status_code == 201


def test_activating_twice_is_refused(client, clerk):
    person = PersonSpec("陈三", "13900000111")
    clerk.enrol(person)
    phone = Phone(client, person.phone).sign_in()
    assert phone.activate(person).status_code == 201
    assert error_code(phone.activate(person)) == "ALREADY_ACTIVATED"


def test_bad_bodies_are_validation_errors_not_server_errors(client, clerk):
    person = PersonSpec("褚四", "13900000112")
    clerk.enrol(person)
    phone = Phone(client, person.phone).sign_in()
    good = {
        "region": person.region,
        "id_number": person.id_number,
        "name": person.name,
        "payment_password": "123456",
        "face_image": face(person.name),
        "consent": True,
    }
    cases = [
        {**good, "unexpected": 1},
        {k: v for k, v in good.items() if k != "name"},
        {**good, "consent": "yes"},
        {**good, "payment_password": 123456},
        {**good, "payment_password": "12345"},
        {**good, "face_image": "not base64!!"},
    ]
    for body in cases:
        r = phone.post("/activation", body)
        assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR", body
    r = client.post(
        "/api/v1/activation",
        data="{not json",
        headers={"Authorization": f"Bearer {phone.access}", "Content-Type": "application/json"},
    )
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR"


def test_a_terminal_or_admin_token_cannot_activate(client, clerk):
    r = client.post(
        "/api/v1/activation", json={}, headers={"Authorization": f"Bearer {clerk.token}"}
    )
    assert r.status_code == 403 and error_code(r) == "FORBIDDEN"


def test_after_revoking_and_activating_again_me_shows_the_new_active_credential(client, clerk):
    person = PersonSpec("卫五", "13900000113")
    clerk.enrol(person)
    phone = Phone(client, person.phone).sign_in()
    first = phone.activate(person).get_json()["credential_id"]
    assert phone.post("/credential/revoke").status_code == 200
    assert phone.get("/me").get_json()["credential"] == {
        "credential_id": first,
        "status": "revoked",
    }
    second = phone.activate(person)
    assert second.status_code == 201
    # same instant on the frozen clock: the active credential must still win
    assert phone.get("/me").get_json()["credential"] == {
        "credential_id": second.get_json()["credential_id"],
        "status": "active",
    }


def test_roster_lookups_are_limited_so_the_roster_cannot_be_searched(client, clerk, clock):
    person = PersonSpec("严六", "13900000114")
    clerk.enrol(person)
    prober = Phone(client, "13900000115").sign_in()
    for _ in range(20):
        guess = PersonSpec("某人", None)
        assert error_code(prober.activate(guess, password="135790")) == "INSURED_NUMBER_NOT_FOUND"
    r = prober.activate(PersonSpec("某人", None), password="135790")
    assert r.status_code == 429 and error_code(r) == "RATE_LIMITED"
    # family binding draws on the same daily allowance
    r = prober.post(
        "/family/members",
        {
            "id_number": person.id_number,
            "name": person.name,
            "relation": "sibling",
            "face_image": face(person.name),
        },
    )
    assert error_code(r) == "RATE_LIMITED"
    # the next Beijing day the allowance is back
    clock.advance(r.get_json()["error"]["details"]["retry_after"])
    r = prober.activate(PersonSpec("某人", None), password="135790")
    assert error_code(r) == "INSURED_NUMBER_NOT_FOUND"
