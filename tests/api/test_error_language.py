"""Error messages are Chinese by default and English for Accept-Language: en; codes never change."""

from tests.actors import bearer, error_code


def test_the_same_refusal_in_chinese_and_in_english_has_the_same_code(client):
    chinese = client.get("/api/v1/account")
    english = client.get("/api/v1/account", headers={"Accept-Language": "en"})
    assert chinese.status_code == english.status_code == 401
    assert error_code(chinese) == error_code(english) == "UNAUTHORIZED"
    zh, en = chinese.get_json()["error"]["message"], english.get_json()["error"]["message"]
    assert zh == "请先登录：请求头须携带访问令牌（Authorization: Bearer <访问令牌>）"
    assert en == "Send an access token: Authorization: Bearer <token>"


def test_a_broken_token_is_refused_in_chinese_by_default(client):
    broken = {"Authorization": "Bearer not-a-jwt"}
    chinese = client.get("/api/v1/account", headers=broken)
    english = client.get("/api/v1/account", headers={**broken, "Accept-Language": "en"})
    assert error_code(chinese) == error_code(english) == "UNAUTHORIZED"
    assert chinese.get_json()["error"]["message"] == "登录凭据无效，请重新登录"
    assert english.get_json()["error"]["message"] == "The token is not valid"


def test_a_domain_refusals_own_detail_reads_in_chinese_and_stays_english_in_english(client, clerk):
    r = clerk.post("/terminals", {"institution_code": "NOPE"})
    assert r.status_code == 404 and error_code(r) == "NOT_FOUND"
    # the raise site's own detail (which institution was missing), in Chinese
    assert r.get_json()["error"]["message"] == "未找到该编码的定点医药机构"
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


def test_the_till_reads_its_refusals_in_chinese_and_english_callers_keep_the_english(client, clerk):
    till = clerk.hospital_with_terminal().sign_in()
    bill = {
        "order_no": "ZH-1",
        "scene": "outpatient",
        "medium": "card",
        "card_no": "C000000000",
        "total_fen": 100,
        "fund_fen": 200,
    }
    chinese = till.post("/settlements", bill)
    english = client.post(
        "/api/v1/terminal/settlements",
        json=bill,
        headers={**bearer(till.access), "Accept-Language": "en"},
    )
    assert error_code(chinese) == error_code(english) == "INVALID_AMOUNT"
    assert chinese.get_json()["error"]["details"] == english.get_json()["error"]["details"]
    assert chinese.get_json()["error"]["message"] == (
        "基金支付金额（fund_fen）不能超过总金额（total_fen）"
    )
    assert english.get_json()["error"]["message"] == "fund_fen cannot exceed total_fen"

    # a message made with an f-string: the role is named in Chinese
    r = client.get("/api/v1/terminal/settlements/by-order/ZH-1", headers=bearer(clerk.token))
    assert error_code(r) == "FORBIDDEN"
    assert r.get_json()["error"]["message"] == "此接口仅限定点医药机构终端调用"
