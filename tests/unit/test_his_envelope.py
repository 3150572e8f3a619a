"""The callService envelope as real clients send it, and the answers we shape."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from server.his.envelope import (
    Envelope,
    answer_error,
    answer_input_error,
    answer_ok,
    ec_query_answer_error,
    ec_query_answer_ok,
    format_time,
    new_refmsgid,
    parse_ec_query,
    parse_request,
    text_or_none,
)
from server.his.errors import HisInputError

ORG = "H11010800001"
MSGID = ORG + "20260115093012" + "0001"
HEX_MSGID = "0123456789abcdef0123456789ABCD"
NOW = datetime(2026, 1, 15, 1, 30, 12, 345000, tzinfo=UTC)  # 09:30:12.345 in Beijing


def body(**changes):
    envelope = {
        "infno": "2207",
        "msgid": MSGID,
        "mdtrtarea_admvs": "110108",
        "insuplc_admdvs": "110108",
        "recer_sys_code": "MDY32",
        "dev_no": "null",
        "dev_safe_info": "null",
        "cainfo": "null",
        "signtype": "SM2",
        "infver": "V1.0",
        "opter_type": "1",
        "opter": "0153",
        "opter_name": "收费员",
        "inf_time": "2026-01-15 09:30:12",
        "fixmedins_code": ORG,
        "fixmedins_name": "示例医院",
        "sign_no": "SN0001",
        "input": {"data": {"medfee_sumamt": 1260.92, "psn_no": "P1"}},
    }
    envelope.update(changes)
    return {k: v for k, v in envelope.items() if v is not ...}


def raw(payload) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json;charset=UTF-8",
        "text/plain; charset=utf-8",
        "text/plain",  # no charset: the body is UTF-8
        "TEXT/PLAIN;CHARSET=UTF-8",
        None,
    ],
)
def test_every_content_type_real_clients_send_is_read_as_utf8(content_type):
    env = parse_request(raw(body()), content_type, None)
    assert env.opter_name == "收费员"
    assert env.input["data"]["medfee_sumamt"] == Decimal("1260.92")  # exact, never a float


def test_a_utf8_byte_order_mark_is_skipped():
    assert parse_request(b"\xef\xbb\xbf" + raw(body()), "text/plain", None).infno == "2207"


def test_a_declared_gbk_body_is_decoded_as_gbk():
    data = json.dumps(body(), ensure_ascii=False).encode("gbk")
    assert parse_request(data, "text/plain; charset=GBK", None).opter_name == "收费员"


@pytest.mark.parametrize(
    ("content_type", "field"),
    [
        ("application/x-www-form-urlencoded", "Content-Type"),
        ("text/plain; charset=klingon", "Content-Type"),
    ],
)
def test_unreadable_content_types_are_refused(content_type, field):
    with pytest.raises(HisInputError) as caught:
        parse_request(raw(body()), content_type, None)
    assert caught.value.field == field


def test_input_may_be_an_object_or_a_json_encoded_string():
    as_object = parse_request(raw(body()), "application/json", None)
    as_string = parse_request(
        raw(body(input=json.dumps({"data": {"medfee_sumamt": 1260.92, "psn_no": "P1"}}))),
        "text/plain",
        None,
    )
    assert as_object.input == as_string.input


@pytest.mark.parametrize("empty", [None, "", "null", ...])
def test_an_absent_or_empty_input_is_an_empty_object(empty):
    assert parse_request(raw(body(input=empty)), None, None).input == {}


@pytest.mark.parametrize("bad", ["[1, 2]", "{not json", 12, [1]])
def test_an_input_that_is_not_an_object_is_refused(bad):
    with pytest.raises(HisInputError) as caught:
        parse_request(raw(body(input=bad)), None, None)
    assert caught.value.field == "input"


def test_null_strings_and_nulls_are_none():
    env = parse_request(
        raw(body(mdtrtarea_admvs=None, insuplc_admdvs="NULL", sign_no=..., cainfo="")),
        None,
        None,
    )
    assert env.dev_no is None and env.dev_safe_info is None and env.cainfo is None
    assert env.mdtrtarea_admvs is None and env.insuplc_admdvs is None
    assert env.sign_no is None  # missing although 9001 was called: the integrator decides


def test_numbers_in_string_fields_are_read_as_text():
    env = parse_request(raw(body(opter_type=1, opter=153)), None, None)
    assert env.opter_type == "1" and env.opter == "153"


def test_an_object_in_a_string_field_is_refused_naming_the_field():
    with pytest.raises(HisInputError) as caught:
        parse_request(raw(body(opter={"a": 1})), None, None)
    assert caught.value.field == "opter"


def test_infno_may_come_from_the_path_alone():
    assert parse_request(raw(body(infno=...)), None, "2207").infno == "2207"


def test_infno_in_path_and_body_must_agree():
    assert parse_request(raw(body()), None, "2207").infno == "2207"
    with pytest.raises(HisInputError) as caught:
        parse_request(raw(body()), None, "2206")
    assert "不一致" in caught.value.reason_zh


@pytest.mark.parametrize(("infno", "path"), [(..., None), ("22070", None), ("2207", "x207")])
def test_a_missing_or_malformed_infno_is_refused(infno, path):
    with pytest.raises(HisInputError) as caught:
        parse_request(raw(body(infno=infno)), None, path)
    assert caught.value.field == "infno"


def test_both_msgid_forms_are_accepted():
    assert parse_request(raw(body()), None, None).msgid_form == "institution_time_sequence"
    assert parse_request(raw(body(msgid=HEX_MSGID)), None, None).msgid_form == "hex"
    other = "X" * 30
    assert parse_request(raw(body(msgid=other)), None, None).msgid_form == "other"


@pytest.mark.parametrize(
    "bad", [..., "null", "short", MSGID + "1", "H1101080000120260115093012-001"]
)
def test_a_missing_or_malformed_msgid_is_refused(bad):
    with pytest.raises(HisInputError) as caught:
        parse_request(raw(body(msgid=bad)), None, None)
    assert caught.value.field == "msgid"


def test_fixmedins_code_is_required():
    with pytest.raises(HisInputError) as caught:
        parse_request(raw(body(fixmedins_code="null")), None, None)
    assert caught.value.field == "fixmedins_code"


@pytest.mark.parametrize(
    ("name", "value"), [("enc_type", "plain"), ("enctype", ""), ("enctype", "null")]
)
def test_a_plain_enc_type_under_either_name_is_accepted(name, value):
    assert parse_request(raw(body(**{name: value})), None, None).infno == "2207"


@pytest.mark.parametrize("name", ["enc_type", "enctype"])
def test_an_encrypted_body_is_refused_clearly(name):
    with pytest.raises(HisInputError) as caught:
        parse_request(raw(body(**{name: "SM4"})), None, None)
    assert "不支持加密报文" in caught.value.reason_zh


@pytest.mark.parametrize(
    "data", [b"", b"not json", b"[1,2]", b"\xff\xfe", b'{"a": NaN}', b"[" * 100000]
)
def test_a_body_that_is_not_a_json_object_is_refused(data):
    with pytest.raises(HisInputError):
        parse_request(data, "text/plain", None)


def test_unknown_envelope_fields_are_kept_aside():
    env = parse_request(raw(body(fixmedins_soft_fcty="某软件公司")), None, None)
    assert env.extra == {"fixmedins_soft_fcty": "某软件公司"}


def test_text_or_none_refuses_containers():
    with pytest.raises(HisInputError):
        text_or_none([1])
    assert text_or_none(True) == "1"


# --- answers -------------------------------------------------------------------------------------
def env() -> Envelope:
    return parse_request(raw(body()), None, None)


def test_times_are_seventeen_digits_of_beijing_time():
    assert format_time(NOW) == "20260115093012345"


def test_our_message_id_is_area_time_and_serial():
    refmsgid = new_refmsgid("110108", NOW, serial=42)
    assert refmsgid == "110108" + "20260115093012" + "0000000042"
    assert len(new_refmsgid(None, NOW)) == 30


def test_a_success_has_infcode_0_and_the_output():
    answer = answer_ok(env(), {"setlinfo": {"setl_id": "S1"}}, NOW, refmsgid="R" * 30)
    assert answer == {
        "infcode": 0,
        "inf_refmsgid": "R" * 30,
        "refmsg_time": "20260115093012345",
        "respond_time": "20260115093012345",
        "err_msg": None,
        "warn_msg": None,
        "output": {"setlinfo": {"setl_id": "S1"}},
    }


def test_a_refusal_has_infcode_minus_1_and_names_our_code():
    received = datetime(2026, 1, 15, 1, 30, 11, 0, tzinfo=UTC)
    answer = answer_error(env(), "QR_EXPIRED", None, NOW, received_at=received)
    assert answer["infcode"] == -1
    assert answer["err_msg"] == "[QR_EXPIRED] 医保电子凭证已过期，请参保人刷新二维码"
    assert answer["output"] == {}
    assert answer["refmsg_time"] == "20260115093011000"
    assert answer["inf_refmsgid"].startswith("110108")


def test_a_refusal_before_the_envelope_was_read_still_answers():
    try:
        parse_request(b"{", None, None)
    except HisInputError as exc:
        answer = answer_input_error(exc, None, NOW)
    assert answer["infcode"] == -1
    assert answer["err_msg"].startswith("[VALIDATION_ERROR] 请求数据不合法：")
    assert answer["inf_refmsgid"].startswith("000000")


def test_a_money_refusal_names_invalid_amount_and_the_field():
    exc = HisInputError("medfee_sumamt", "金额最多2位小数", code="INVALID_AMOUNT")
    answer = answer_input_error(exc, env(), NOW)
    assert answer["err_msg"] == "[INVALID_AMOUNT] 金额不合法：medfee_sumamt：金额最多2位小数"


# --- 1162 / localQrCodeQuery ----------------------------------------------------------------------
EC_QUERY = {
    "data": {
        "orgId": ORG,
        "businessType": "01101",
        "operatorId": "test001",
        "operatorName": "收费员",
        "officeId": "32760",
        "officeName": "消化内科",
        "deviceType": "",
        "ecQrCode": "EC1:ABC",
    },
    "orgId": ORG,
    "transType": "ec.query",
}


def test_an_ec_query_is_read_from_its_data_node():
    query = parse_ec_query(EC_QUERY)
    assert query.org_id == ORG
    assert query.business_type == "01101"
    assert query.qr_text == "EC1:ABC"
    assert query.device_type is None


def test_an_ec_query_data_node_may_be_a_json_string_and_org_id_may_be_outside():
    payload = {"data": json.dumps({"ecQrCode": "EC1:X"}), "orgId": ORG}
    assert parse_ec_query(payload).org_id == ORG


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({**EC_QUERY, "transType": "ec.pay"}, "transType"),
        ({"data": {"ecQrCode": "EC1:X"}}, "orgId"),
        ({"data": [1], "orgId": ORG}, "data"),
        ({"data": {"orgId": ORG, "operatorId": {"a": 1}}}, "operatorId"),
    ],
)
def test_bad_ec_queries_are_refused(payload, field):
    with pytest.raises(HisInputError) as caught:
        parse_ec_query(payload)
    assert caught.value.field == field


def test_an_ec_query_without_a_data_node_still_needs_an_org():
    assert parse_ec_query({"orgId": ORG}).qr_text is None


def test_ec_query_answers_have_the_decoders_shape():
    ok = ec_query_answer_ok(
        user_name_masked="*明",
        id_no_masked="110108********5011",
        ec_token="tok",
        insu_org="110108",
        ec_index_no="IDX",
    )
    assert ok["code"] == 0 and ok["message"] == "交易成功"
    assert set(ok["data"]) >= {"userName", "idNo", "idType", "ecToken", "insuOrg", "ecIndexNo"}
    error = ec_query_answer_error("QR_ALREADY_USED", None)
    assert error == {
        "code": -1,
        "message": "[QR_ALREADY_USED] 医保电子凭证二维码已使用，请参保人刷新二维码",
        "data": None,
    }


def test_a_body_over_the_limit_is_refused_as_too_large():
    from server.his.envelope import MAX_BODY_BYTES

    with pytest.raises(HisInputError) as caught:
        parse_request(b" " * (MAX_BODY_BYTES + 1), "text/plain", None)
    assert caught.value.code == "PAYLOAD_TOO_LARGE"


def test_a_content_type_with_other_parameters_keeps_utf8():
    assert parse_request(raw(body()), "text/plain; boundary=x; charset=", None).infno == "2207"
