"""Family proxy accounts (亲情账户): binding, listing and unbinding relatives. Issue 6."""

from __future__ import annotations

from tests.actors import PersonSpec, Phone, error_code, face
from tests.households import app_user, relative


def test_a_user_binds_a_parent_with_the_parents_own_face(client, clerk):
    _, daughter = app_user(client, clerk, "李娜")
    mother = relative(clerk, "王秀英", birth="19550612")

    r = daughter.bind_member(mother, "parent")

    assert r.status_code == 201, r.get_json()
    member_id = r.get_json()["member_id"]
    [member] = daughter.family_members()
    assert member["member_id"] == member_id
    assert member["relation"] == "parent"
    assert member["name_masked"] == "王**"
    assert member["id_number_masked"] == mother.id_number[:3] + "*" * 11 + mother.id_number[-4:]
    assert mother.id_number not in r.get_data(as_text=True)
    assert daughter.get("/me").get_json()["family_members"] == [member]


def test_the_member_need_not_have_a_phone_or_the_app(client, clerk):
    _, son = app_user(client, clerk, "张强")
    grandfather = relative(clerk, "张国华", birth="19400101")  # no phone on the roster

    assert son.bind_member(grandfather, "grandparent").status_code == 201


def test_someone_elses_face_is_no_consent(client, clerk):
    _, son = app_user(client, clerk, "张强")
    father = relative(clerk, "张建国", birth="19600101")

    r = son.bind_member(father, "parent", face_image=face("张强"))

    assert r.status_code == 422
    assert error_code(r) == "FACE_MISMATCH"
    assert son.family_members() == []


def test_a_sixth_member_is_refused(client, clerk):
    _, user = app_user(client, clerk, "陈静")
    relations = ["spouse", "parent", "parent", "child", "grandparent"]
    for i, relation in enumerate(relations):
        member = relative(clerk, f"陈亲{i}")
        assert user.bind_member(member, relation).status_code == 201

    sixth = relative(clerk, "陈小妹")
    r = user.bind_member(sixth, "sibling")

    assert r.status_code == 409
    assert error_code(r) == "FAMILY_LIMIT_REACHED"
    assert len(user.family_members()) == 5


def test_unbinding_frees_a_place_for_another_member(client, clerk):
    _, user = app_user(client, clerk, "陈静")
    member_ids = []
    for i in range(5):
        r = user.bind_member(relative(clerk, f"陈亲{i}"), "child")
        member_ids.append(r.get_json()["member_id"])

    assert user.unbind_member(member_ids[0]).status_code == 200

    assert user.bind_member(relative(clerk, "陈小妹"), "sibling").status_code == 201
    assert len(user.family_members()) == 5


def test_binding_oneself_is_refused(client, clerk):
    me, phone = app_user(client, clerk, "刘洋")

    r = phone.bind_member(me, "sibling")

    assert r.status_code == 422
    assert error_code(r) == "RELATION_NOT_ALLOWED"
    assert r.get_json()["error"]["details"]["reason"] == "self"


def test_binding_a_member_twice_is_refused_and_names_the_binding(client, clerk):
    _, user = app_user(client, clerk, "刘洋")
    wife = relative(clerk, "赵敏")
    first = user.bind_member(wife, "spouse").get_json()["member_id"]

    r = user.bind_member(wife, "spouse")

    assert r.status_code == 409
    assert error_code(r) == "ALREADY_BOUND"
    assert r.get_json()["error"]["details"]["member_id"] == first
    assert len(user.family_members()) == 1


def test_a_relation_outside_the_list_is_refused(client, clerk):
    _, user = app_user(client, clerk, "刘洋")
    friend = relative(clerk, "孙悟")

    r = user.bind_member(friend, "friend")

    assert r.status_code == 422
    assert error_code(r) == "RELATION_NOT_ALLOWED"
    assert "sibling" in r.get_json()["error"]["details"]["allowed"]


def test_a_member_must_match_the_roster_by_id_number_and_name(client, clerk):
    _, user = app_user(client, clerk, "刘洋")
    mother = relative(clerk, "周芳")
    wrong_name = PersonSpec("周方", None, id_number=mother.id_number)
    stranger = PersonSpec("周芳", None)  # never enrolled

    for person in (wrong_name, stranger):
        r = user.bind_member(person, "parent", face_image=face("周芳"))
        assert r.status_code == 404
        assert error_code(r) == "INSURED_NUMBER_NOT_FOUND"
    assert user.family_members() == []


def test_one_person_may_be_bound_by_several_relatives(client, clerk):
    _, son = app_user(client, clerk, "黄磊")
    _, daughter = app_user(client, clerk, "黄蕾")
    mother = relative(clerk, "黄母", birth="19520101")

    assert son.bind_member(mother, "parent").status_code == 201
    assert daughter.bind_member(mother, "parent").status_code == 201

    assert len(son.family_members()) == 1
    assert len(daughter.family_members()) == 1


def test_binding_needs_an_activated_e_credential(client, clerk):
    person = relative(clerk, "吴昊", with_phone=True)
    phone = Phone(client, str(person.phone)).sign_in()  # signed in, never activated
    mother = relative(clerk, "吴母")

    r = phone.bind_member(mother, "parent")

    assert r.status_code == 409
    assert error_code(r) == "NOT_ACTIVATED"


def test_a_user_cannot_unbind_another_users_member(client, clerk):
    _, son = app_user(client, clerk, "黄磊")
    _, stranger = app_user(client, clerk, "郑凯")
    member_id = son.bind_member(relative(clerk, "黄母"), "parent").get_json()["member_id"]

    r = stranger.unbind_member(member_id)

    assert r.status_code == 404
    assert error_code(r) == "NOT_FOUND"
    assert len(son.family_members()) == 1


def test_unbinding_twice_is_not_found(client, clerk):
    _, son = app_user(client, clerk, "黄磊")
    member_id = son.bind_member(relative(clerk, "黄母"), "parent").get_json()["member_id"]

    assert son.unbind_member(member_id).status_code == 200
    r = son.unbind_member(member_id)

    assert r.status_code == 404
    assert son.family_members() == []


def test_a_bad_binding_body_is_a_validation_error(client, clerk):
    _, user = app_user(client, clerk, "刘洋")
    mother = relative(clerk, "周芳")
    good = {
        "id_number": mother.id_number,
        "name": mother.name,
        "relation": "parent",
        "face_image": face(mother.name),
    }
    bad_bodies = [
        {**good, "relation": 3},
        {**good, "face_image": "not base64 !!"},
        {**good, "id_number": "123"},
        {**good, "extra": True},
        {k: v for k, v in good.items() if k != "face_image"},
    ]
    for body in bad_bodies:
        r = user.post("/family/members", body)
        assert r.status_code == 400, body
        assert error_code(r) == "VALIDATION_ERROR"
    r = user.client.post(
        "/api/v1/family/members", data="[", headers={"Authorization": f"Bearer {user.access}"}
    )
    assert r.status_code == 400
    assert user.family_members() == []


def test_family_calls_are_for_the_user_role(client, clerk):
    r = clerk.client.get(
        "/api/v1/family/members", headers={"Authorization": f"Bearer {clerk.token}"}
    )
    assert r.status_code == 403
    assert client.get("/api/v1/family/members").status_code == 401
