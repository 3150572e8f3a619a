"""A clerk checks a roster file whole before importing it: every bad row named, nothing written."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.actors import Clerk, PersonSpec, error_code


def test_a_clean_file_checks_clean_and_writes_nothing(client: FlaskClient, clerk: Clerk) -> None:
    person = PersonSpec("陈晨", "13900000041")
    r = clerk.post("/insured/check", {"persons": [person.row()]})
    assert r.status_code == 200
    assert r.get_json() == {"count": 1, "invalid_count": 0, "problems": []}
    # Nothing was imported: fixing the phone of the checked person is NOT_FOUND.
    assert error_code(clerk.fix_phone(person.id_number, "13900000042")) == "NOT_FOUND"


def test_each_bad_row_is_named_with_its_field_and_reason(client: FlaskClient, clerk: Clerk) -> None:
    good = PersonSpec("陈一", "13900000043").row()
    bad_id = {**PersonSpec("陈二", "13900000044").row(), "id_number": "110101199003070000"}
    bad_type = {**PersonSpec("陈三", None).row(), "insurance_type": "gold", "person_type": "x"}
    r = clerk.post("/insured/check", {"persons": [good, bad_id, bad_type]})
    assert r.status_code == 200
    body = r.get_json()
    assert body["count"] == 3
    assert body["invalid_count"] == 2
    assert [(p["index"], p["field"]) for p in body["problems"]] == [
        (1, "id_number"),
        (2, "insurance_type"),
        (2, "person_type"),
    ]
    assert body["problems"][0]["reason"] == "wrong check digit"


def test_only_a_clerk_may_check(client: FlaskClient) -> None:
    r = client.post("/api/v1/admin/insured/check", json={"persons": []})
    assert r.status_code == 401
