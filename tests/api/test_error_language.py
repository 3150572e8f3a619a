"""Error messages are Chinese by default and English for Accept-Language: en; codes never change."""

from server.messages import CATALOGUE
from tests.actors import bearer, error_code


def test_the_same_refusal_in_chinese_and_in_english_has_the_same_code(client):
    chinese = client.get("/api/v1/account")
    english = client.get("/api/v1/account", headers={"Accept-Language": "en"})
    assert chinese.status_code == english.status_code == 401
    assert error_code(chinese) == error_code(english) == "UNAUTHORIZED"
    zh, en = chinese.get_json()["error"]["message"], english.get_json()["error"]["message"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh)
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in en) and "access token" in en


def test_a_domain_refusal_is_worded_from_the_catalogue(client, clerk):
    r = clerk.post("/terminals", {"institution_code": "NOPE"})
    assert r.status_code == 404 and error_code(r) == "NOT_FOUND"
    # Chinese first, then the raise site's own detail (which institution was missing)
    assert r.get_json()["error"]["message"] == (
        f"{CATALOGUE['NOT_FOUND']['zh']}（No institution with this code）"
    )
    r = client.post(
        "/api/v1/admin/terminals",
        json={"institution_code": "NOPE"},
        headers={**bearer(clerk.token), "Accept-Language": "en-GB,en;q=0.9"},
    )
    assert error_code(r) == "NOT_FOUND" and r.get_json()["error"]["message"] == (
        "No institution with this code"
    )


def test_validation_details_do_not_change_with_the_language(client, clerk):
    bad = {"code": "X1", "name": "x", "kind": "castle"}
    zh = clerk.post("/institutions", bad)
    en = client.post(
        "/api/v1/admin/institutions",
        json=bad,
        headers={**bearer(clerk.token), "Accept-Language": "en"},
    )
    assert error_code(zh) == error_code(en) == "VALIDATION_ERROR"
    assert zh.get_json()["error"]["details"] == en.get_json()["error"]["details"]
    assert zh.get_json()["error"]["message"] == "请求内容不正确"
    assert en.get_json()["error"]["message"] == "The request is not valid"
