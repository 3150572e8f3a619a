from tests.actors import PersonSpec, Phone


def test_activation_end_to_end(client, clerk):
    person = PersonSpec("李明", "13900000001")
    clerk.enrol(person)
    phone = Phone(client, person.phone).sign_in()
    r = phone.activate(person)
    assert r.status_code == 201, r.get_json()
    me = phone.get("/me").get_json()
    assert me["person"]["name_masked"] == "李*"
