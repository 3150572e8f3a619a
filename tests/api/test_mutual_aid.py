"""Family mutual aid (家庭共济): filings, withdrawal, and the beneficiary's order. Issue 6."""

from __future__ import annotations

from datetime import datetime

import pytest

from server.clock import BEIJING
from tests.actors import PersonSpec, Phone, error_code
from tests.households import app_user, relative


def test_a_holder_files_a_spouse_who_sees_the_account_masked(client, clerk):
    _, holder = app_user(client, clerk, "张伟")
    wife, wife_phone = app_user(client, clerk, "王芳")

    r = holder.file_beneficiary(wife, "spouse")

    assert r.status_code == 201, r.get_json()
    filed = r.get_json()
    assert filed["relation"] == "spouse"
    assert filed["effective_at"] == "2026-11-24T10:00:00+08:00"  # at once by default
    [listed] = holder.beneficiaries()
    assert listed["beneficiary_id"] == filed["beneficiary_id"]
    assert listed["name_masked"] == "王*"
    assert wife.id_number not in str(listed)
    assert wife_phone.sources() == [
        {
            "source_id": filed["beneficiary_id"],
            "holder_masked": "张*",
            "relation": "spouse",
            "effective_at": "2026-11-24T10:00:00+08:00",
        }
    ]


def test_a_filed_parent_sees_the_account_as_their_childs(client, clerk):
    _, son = app_user(client, clerk, "张伟")
    mother, mother_phone = app_user(client, clerk, "李秀兰", birth="19550101")

    assert son.file_beneficiary(mother, "parent").status_code == 201

    [source] = mother_phone.sources()
    assert source["relation"] == "child"
    assert son.beneficiaries()[0]["relation"] == "parent"


@pytest.mark.parametrize("relation", ["grandparent", "grandchild", "sibling", "friend"])
def test_only_spouse_parents_and_children_may_be_filed(client, clerk, relation):
    _, holder = app_user(client, clerk, "张伟")
    other = relative(clerk, "张某")

    r = holder.file_beneficiary(other, relation)

    assert r.status_code == 422
    assert error_code(r) == "RELATION_NOT_ALLOWED"
    assert holder.beneficiaries() == []


def test_a_holder_cannot_file_themselves(client, clerk):
    me, holder = app_user(client, clerk, "张伟")

    r = holder.file_beneficiary(me, "child")

    assert error_code(r) == "RELATION_NOT_ALLOWED"
    assert r.get_json()["error"]["details"]["reason"] == "self"


def test_a_holder_files_one_spouse_at_a_time(client, clerk):
    _, holder = app_user(client, clerk, "张伟")
    first = relative(clerk, "王芳")
    second = relative(clerk, "李梅")
    beneficiary_id = holder.file_beneficiary(first, "spouse").get_json()["beneficiary_id"]

    r = holder.file_beneficiary(second, "spouse")
    assert error_code(r) == "RELATION_NOT_ALLOWED"
    assert r.get_json()["error"]["details"]["reason"] == "second_spouse"

    assert holder.withdraw_beneficiary(beneficiary_id).status_code == 200
    assert holder.file_beneficiary(second, "spouse").status_code == 201


def test_filing_the_same_beneficiary_twice_is_refused(client, clerk):
    _, holder = app_user(client, clerk, "张伟")
    child = relative(clerk, "张小明", birth="20150101")
    assert holder.file_beneficiary(child, "child").status_code == 201

    r = holder.file_beneficiary(child, "child")

    assert r.status_code == 409
    assert error_code(r) == "ALREADY_FILED"
    assert len(holder.beneficiaries()) == 1


def test_a_beneficiary_must_match_the_roster(client, clerk):
    _, holder = app_user(client, clerk, "张伟")
    child = relative(clerk, "张小明", birth="20150101")

    r = holder.file_beneficiary(PersonSpec("张晓明", None, id_number=child.id_number), "child")

    assert r.status_code == 404
    assert error_code(r) == "INSURED_NUMBER_NOT_FOUND"


def test_filing_needs_an_activated_holder(client, clerk):
    person = relative(clerk, "吴昊", with_phone=True)
    phone = Phone(client, str(person.phone)).sign_in()

    r = phone.file_beneficiary(relative(clerk, "吴母"), "parent")

    assert error_code(r) == "NOT_ACTIVATED"


def test_a_withdrawn_filing_leaves_the_beneficiarys_sources(client, clerk):
    _, holder = app_user(client, clerk, "张伟")
    wife, wife_phone = app_user(client, clerk, "王芳")
    beneficiary_id = holder.file_beneficiary(wife, "spouse").get_json()["beneficiary_id"]

    r = holder.withdraw_beneficiary(beneficiary_id)

    assert r.status_code == 200
    assert holder.beneficiaries() == []
    assert wife_phone.sources() == []
    assert error_code(holder.withdraw_beneficiary(beneficiary_id)) == "NOT_FOUND"


def test_only_the_holder_may_withdraw_a_filing(client, clerk):
    _, holder = app_user(client, clerk, "张伟")
    wife, wife_phone = app_user(client, clerk, "王芳")
    beneficiary_id = holder.file_beneficiary(wife, "spouse").get_json()["beneficiary_id"]

    r = wife_phone.withdraw_beneficiary(beneficiary_id)

    assert r.status_code == 404
    assert len(wife_phone.sources()) == 1


def test_a_new_filing_joins_the_end_of_the_beneficiarys_order(client, clerk):
    wife, wife_phone = app_user(client, clerk, "王芳")
    _, husband = app_user(client, clerk, "张伟")
    _, grandmother = app_user(client, clerk, "王母", birth="19500101")
    _, grandfather = app_user(client, clerk, "王父", birth="19480101")
    husband.file_beneficiary(wife, "spouse")
    grandmother.file_beneficiary(wife, "child")
    ids = [s["source_id"] for s in wife_phone.sources()]
    assert wife_phone.reorder_sources([ids[1], ids[0]]).status_code == 200

    grandfather.file_beneficiary(wife, "child")

    assert [s["holder_masked"] for s in wife_phone.sources()] == ["王*", "张*", "王*"]
    assert [s["relation"] for s in wife_phone.sources()] == ["parent", "spouse", "parent"]
    assert wife_phone.sources()[0]["source_id"] == ids[1]


def test_the_beneficiary_reorders_with_exactly_the_current_set(client, clerk):
    wife, wife_phone = app_user(client, clerk, "王芳")
    _, husband = app_user(client, clerk, "张伟")
    _, grandmother = app_user(client, clerk, "王母", birth="19500101")
    husband.file_beneficiary(wife, "spouse")
    grandmother.file_beneficiary(wife, "child")
    first, second = (s["source_id"] for s in wife_phone.sources())

    for wrong in ([first], [first, first, second], [first, second, "nope"], [second, "nope"], []):
        r = wife_phone.reorder_sources(wrong)
        assert r.status_code == 400, wrong
        assert error_code(r) == "VALIDATION_ERROR"
    assert [s["source_id"] for s in wife_phone.sources()] == [first, second]

    r = wife_phone.reorder_sources([second, first])

    assert r.status_code == 200
    assert [s["source_id"] for s in r.get_json()["sources"]] == [second, first]
    assert [s["source_id"] for s in wife_phone.sources()] == [second, first]


def test_a_bad_order_body_is_a_validation_error(client, clerk):
    _, phone = app_user(client, clerk, "王芳")
    for body in ({}, {"source_ids": "a"}, {"source_ids": [1]}, {"source_ids": [], "x": 1}):
        r = phone.put("/mutual-aid/sources/order", body)
        assert r.status_code == 400, body
        assert error_code(r) == "VALIDATION_ERROR"


@pytest.mark.parametrize("app_config", [{"MUTUAL_AID_DELAY_DAYS": 3}])
def test_a_filing_can_start_days_later_at_beijing_midnight(client, clerk, clock):
    wife, wife_phone = app_user(client, clerk, "王芳")
    _, holder = app_user(client, clerk, "张伟")
    clock.set(datetime(2026, 11, 24, 23, 30, tzinfo=BEIJING))

    r = holder.file_beneficiary(wife, "spouse")

    assert r.get_json()["effective_at"] == "2026-11-27T00:00:00+08:00"
    assert wife_phone.sources()[0]["effective_at"] == "2026-11-27T00:00:00+08:00"
