"""Each wire shape and each money edge of docs/his-interface.md gets its documented answer over
HTTP, never a 5xx (issue 12)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient

from server.clock import FrozenClock
from server.his.signature import sign_headers
from tests.actors import Clerk
from tests.api.his_steps import CALL, DECODE, His, ec_query, err_code, loads
from tests.api.money_steps import insured_with_money


@pytest.fixture
def his(client: FlaskClient, clerk: Clerk, clock: FrozenClock) -> His:
    return His.of_new_hospital(client, clock, clerk, "H11010800001")


def answer(r: Any) -> dict[str, Any]:
    assert r.status_code == 200, r.get_data(as_text=True)
    body: dict[str, Any] = loads(r.get_data())
    return body


def sign_in_input() -> dict[str, Any]:
    return {"signIn": {"opter_no": "0153", "mac": "null", "ip": ""}}


def test_infno_in_the_path_text_plain_without_charset_and_input_as_a_string(his: His) -> None:
    env = his.envelope("9001", json.dumps(sign_in_input()))
    del env["infno"]
    r = his.post(env, path=f"{CALL}/9001", content_type="text/plain")
    a = answer(r)
    assert a["infcode"] == 0 and a["err_msg"] is None
    assert len(a["inf_refmsgid"]) == 30 and len(a["refmsg_time"]) == 17
    assert a["output"]["signinoutb"]["sign_no"].startswith("SN")


def test_a_path_infno_that_disagrees_with_the_body_is_refused(his: His) -> None:
    a = answer(his.post(his.envelope("9001", sign_in_input()), path=f"{CALL}/1101"))
    assert err_code(a) == "VALIDATION_ERROR" and a["output"] == {}


@pytest.mark.parametrize("content_type", ["text/plain; charset=utf-8", None, "application/json"])
def test_null_strings_and_a_missing_sign_no_after_signing_in(
    his: His, content_type: str | None
) -> None:
    his.sign_in()
    env = his.envelope(
        "3201",
        {
            "data": {
                "insutype": "310",
                "clr_type": "11",
                "setl_optins": "null",
                "stmt_begndate": "2026-11-24",
                "stmt_enddate": "2026-11-24",
                "medfee_sumamt": "",
                "fund_pay_sumamt": None,
                "acct_pay": "0",
                "fixmedins_setl_cnt": "0",
            }
        },
    )
    del env["sign_no"]
    env["cainfo"] = env["dev_safe_info"] = "null"
    a = answer(his.post(env, content_type=content_type))
    assert a["infcode"] == 0, a["err_msg"]
    assert a["output"]["stmtinfo"]["stmt_rslt"] == "0"


def test_without_a_sign_in_today_a_transaction_is_unauthorized(his: His) -> None:
    a = his.call("3201", {"data": {}})
    assert err_code(a) == "UNAUTHORIZED"
    his.sign_in()
    his.sign_no = "SN00000000000000000000"
    assert err_code(his.call("2208", {"data": {"setl_id": "S1"}})) == "UNAUTHORIZED"


def test_a_resent_msgid_gets_the_first_answer_byte_for_byte_another_body_is_refused(
    his: His, clock: FrozenClock
) -> None:
    env = his.envelope("9001", sign_in_input())
    first = his.post(env).get_data()
    clock.advance(2)
    resent = {**env, "inf_time": "2026-11-24 10:00:02", "input": json.dumps(env["input"])}
    assert his.post(resent).get_data() == first
    other = {**env, "input": {"signIn": {"opter_no": "0154"}}}
    assert err_code(answer(his.post(other))) == "ORDER_NO_CONFLICT"


def test_an_unparseable_body_is_a_refusal_not_a_fault(his: His) -> None:
    for body in (b"{not json", b"[1,2]", b'{"infno":"9001"}'):
        a = answer(his.post(body))
        assert a["infcode"] == -1 and a["output"] == {}
    assert err_code(answer(his.post({**his.envelope("9001", {}), "enc_type": "SM4"})))


@pytest.mark.parametrize(
    ("medfee", "expected"),
    [  # raw JSON text of medfee_sumamt
        ('"12.3"', None),
        ("12.3", None),
        ("1e2", None),
        ('"1e2"', None),
        ("1.005", "INVALID_AMOUNT"),
        ('""', "INVALID_AMOUNT"),  # 0 fen: nothing to settle
        ("-0.01", "INVALID_AMOUNT"),
        ("100000000000000", "INVALID_AMOUNT"),
        ('"1,000"', "INVALID_AMOUNT"),
        ("NaN", "VALIDATION_ERROR"),  # not JSON: the body cannot be read
    ],
)
def test_money_edges_of_a_pre_settlement(
    his: His, client: FlaskClient, clerk: Clerk, medfee: str, expected: str | None
) -> None:
    patient = insured_with_money(client, clerk, "李明", "13900000001", 100000)
    qr = patient.phone.get("/credential/qr").get_json()["qr_text"]
    token = his.decode(qr)
    his.sign_in()
    psn = his.ok("1101", {"data": {"mdtrt_cert_type": "01", "mdtrt_cert_no": token}})
    bill = {
        "data": {
            "psn_no": psn["baseinfo"]["psn_no"],
            "mdtrt_cert_type": "01",
            "mdtrt_cert_no": token,
            "med_type": "11",
            "medfee_sumamt": "__M__",
            "acct_used_flag": "1",
            "insutype": "310",
        }
    }
    env = his.envelope("2206", bill)
    raw = json.dumps(env).replace('"__M__"', medfee)
    r = his.post(raw)
    a = answer(r)
    if expected is None:
        assert a["infcode"] == 0, a["err_msg"]
        s = a["output"]["setlinfo"]
        assert s["medfee_sumamt"] == s["acct_pay"] + s["psn_cash_pay"] + s["fund_pay_sumamt"]
        assert str(s["medfee_sumamt"]) in {"12.30", "100.00"}
    else:
        assert err_code(a) == expected


def test_gateway_refusals_are_401_with_a_plain_reason(
    his: His, client: FlaskClient, clerk: Clerk, clock: FrozenClock
) -> None:
    env = his.envelope("9001", sign_in_input())
    wrong = his.headers(_api_signature="AAAA")
    r = his.post(env, headers=wrong)
    assert (r.status_code, r.get_data(as_text=True)) == (401, "wrong _api_signature")
    stale = sign_headers(
        access_key=his.access_key,
        secret=his.secret,
        api_name="api_9001",
        now=clock.now().replace(year=2025),
    )
    r = his.post(env, headers=stale)
    assert r.status_code == 401 and "seconds from our clock" in r.get_data(as_text=True)
    r = his.post(env, headers={})
    assert r.status_code == 401 and r.get_data(as_text=True).startswith("missing gateway header")
    other = His.of_new_hospital(client, clock, clerk, "H11010800002")
    r = his.post(env, headers=other.headers())
    assert r.status_code == 401
    assert r.get_data(as_text=True) == (
        "this access key belongs to another institution than fixmedins_code"
    )
    r = his.post(env, headers=his.headers(api_name="api_1101"))
    assert (r.status_code, r.get_data(as_text=True)) == (
        401,
        "_api_name names transaction 1101, the body 9001",
    )
    assert his.post(env, headers=his.headers(api_name="api_9001")).status_code == 200


def test_rotating_the_key_keeps_the_previous_secret_working(his: His, clerk: Clerk) -> None:
    r = clerk.post(f"/institutions/{his.code}/his-keys")
    assert r.status_code == 201 and r.get_json()["access_key"] == his.access_key
    assert his.post(his.envelope("9001", sign_in_input())).status_code == 200
    his.secret = r.get_json()["secret"]
    assert his.post(his.envelope("9001", sign_in_input())).status_code == 200


def test_the_local_decoder_refuses_a_bad_code_and_grants_a_token(
    his: His, client: FlaskClient, clerk: Clerk
) -> None:
    bad = answer(his.post(ec_query(his.code, "EC1:garbage"), path=DECODE))
    assert bad["code"] == -1 and bad["message"].startswith("[QR_") and bad["data"] is None
    patient = insured_with_money(client, clerk, "李明", "13900000001", 0)
    qr = patient.phone.get("/credential/qr").get_json()["qr_text"]
    good = answer(his.post(ec_query(his.code, qr), path=DECODE, content_type="text/plain"))
    assert good["code"] == 0 and good["message"] == "交易成功"
    assert good["data"]["userName"] == "李*" and good["data"]["ecToken"]
    again = answer(his.post(ec_query(his.code, qr), path=DECODE))
    assert again["message"].startswith("[QR_ALREADY_USED]")
