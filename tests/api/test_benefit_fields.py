"""What the benefit rules need, as the clerk enters it: a person's type and an institution's level.

Both are optional, so a client that sends neither keeps working (issue 11).
"""

from sqlalchemy import select

from server.db.models import Institution, Person
from tests.actors import PersonSpec, error_code


def _stored(app, model, **where):
    with app.extensions["wiring"].db.sessions() as s:
        return s.scalar(select(model).filter_by(**where))


def test_a_person_type_is_implied_by_the_insurance_type_unless_given(app, clerk):
    employee = PersonSpec("在职", None)
    retiree = PersonSpec("退休", None, insurance_type="retiree")
    retired_employee = PersonSpec("退职", None)
    row = retired_employee.row() | {"person_type": "retired"}
    r = clerk.post("/insured", {"persons": [employee.row(), retiree.row(), row]})
    assert r.status_code == 201, r.get_json()
    assert _stored(app, Person, id_number=employee.id_number).person_type == "in_service"
    assert _stored(app, Person, id_number=retiree.id_number).person_type == "retired"
    assert _stored(app, Person, id_number=retired_employee.id_number).person_type == "retired"


def test_a_retiree_in_service_or_an_unknown_person_type_is_refused(clerk):
    retiree = PersonSpec("退休", None, insurance_type="retiree")
    r = clerk.post("/insured", {"persons": [retiree.row() | {"person_type": "in_service"}]})
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR"
    assert "person_type" in " ".join(r.get_json()["error"]["details"]["rows"][0]["problems"])
    r = clerk.post("/insured", {"persons": [retiree.row() | {"person_type": "student"}]})
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR"


def test_an_institution_level_defaults_to_3_for_a_hospital_and_none_for_a_pharmacy(app, clerk):
    r = clerk.post("/institutions", {"code": "H1", "name": "Hospital", "kind": "hospital"})
    assert r.status_code == 201 and r.get_json()["level"] == "3"
    r = clerk.post("/institutions", {"code": "P1", "name": "Pharmacy", "kind": "pharmacy"})
    assert r.status_code == 201 and r.get_json()["level"] is None
    body = {"code": "C1", "name": "Centre", "kind": "hospital", "level": "community"}
    r = clerk.post("/institutions", body)
    assert r.status_code == 201 and r.get_json()["level"] == "community"
    assert _stored(app, Institution, code="C1").level == "community"
    r = clerk.post("/institutions", {"code": "X1", "name": "X", "kind": "hospital", "level": "4"})
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR"
