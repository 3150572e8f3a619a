"""A family member's code shown by relatives (亲情账户) at the hospital. Issue 6."""

from __future__ import annotations

from tests.actors import Phone, Terminal, error_code
from tests.households import app_user, relative


def show_code(phone: Phone, member_id: str) -> str:
    r = phone.get(f"/credential/qr?member={member_id}")
    assert r.status_code == 200, r.get_json()
    return str(r.get_json()["qr_text"])


def scan(terminal: Terminal, qr_text: str):
    return terminal.post("/scan", {"qr_text": qr_text})


def test_a_members_code_is_presented_by_two_different_relatives(client, clerk):
    grandmother = relative(clerk, "陈桂英", birth="19420315")  # no phone, no app
    _, son = app_user(client, clerk, "李强", birth="19680101")
    _, granddaughter = app_user(client, clerk, "王丽丽", birth="19950101")
    by_son = son.bind_member(grandmother, "parent").get_json()["member_id"]
    by_granddaughter = granddaughter.bind_member(grandmother, "grandparent").get_json()["member_id"]
    hospital = clerk.hospital_with_terminal("H600").sign_in()

    first = scan(hospital, show_code(son, by_son))
    second = scan(hospital, show_code(granddaughter, by_granddaughter))

    assert first.status_code == 200, first.get_json()
    assert second.status_code == 200, second.get_json()
    for r in (first, second):
        patient = r.get_json()["person"]
        assert patient["name_masked"] == "陈**"
        assert patient["id_number_masked"] == (
            grandmother.id_number[:3] + "*" * 11 + grandmother.id_number[-4:]
        )
    assert first.get_json()["presented_by"] == {"name_masked": "李*", "relation": "child"}
    assert second.get_json()["presented_by"] == {"name_masked": "王**", "relation": "grandchild"}


def test_one_relative_unbinding_leaves_the_others_codes_working(client, clerk):
    grandmother = relative(clerk, "陈桂英", birth="19420315")
    _, son = app_user(client, clerk, "李强", birth="19680101")
    _, granddaughter = app_user(client, clerk, "王丽丽", birth="19950101")
    by_son = son.bind_member(grandmother, "parent").get_json()["member_id"]
    by_granddaughter = granddaughter.bind_member(grandmother, "grandparent").get_json()["member_id"]
    hospital = clerk.hospital_with_terminal("H600").sign_in()
    sons_code = show_code(son, by_son)

    assert son.unbind_member(by_son).status_code == 200

    assert error_code(scan(hospital, sons_code)) == "CREDENTIAL_REVOKED"
    assert error_code(son.get(f"/credential/qr?member={by_son}")) == "NOT_FOUND"
    r = scan(hospital, show_code(granddaughter, by_granddaughter))
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["presented_by"]["name_masked"] == "王**"
