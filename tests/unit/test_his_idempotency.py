"""A re-sent msgid: the same request gets the first answer again, another request is refused."""

import json

import pytest

from server.his.envelope import Envelope, parse_request
from server.his.idempotency import Recorded, Replay, decide, fingerprint, is_recordable, replay_key

ORG = "H11010800001"
MSGID = ORG + "202601150930120001"


def env(**changes):
    payload = {
        "infno": "2207",
        "msgid": MSGID,
        "fixmedins_code": ORG,
        "mdtrtarea_admvs": "110108",
        "insuplc_admdvs": "110108",
        "inf_time": "2026-01-15 09:30:12",
        "sign_no": "SN1",
        "opter": "0153",
        "cainfo": "null",
        "input": {"data": {"medfee_sumamt": 1260.92, "mdtrt_id": "M1"}},
    }
    payload.update(changes)
    return parse_request(json.dumps(payload).encode(), "text/plain", None)


def test_a_faithful_resend_has_the_same_fingerprint():
    assert fingerprint(env()) == fingerprint(env())


def test_volatile_fields_do_not_change_the_fingerprint():
    resent = env(inf_time="2026-01-15 09:31:00", sign_no="SN2", cainfo="abc", opter="0154")
    assert fingerprint(resent) == fingerprint(env())


def test_input_as_a_string_is_the_same_request_as_input_as_an_object():
    as_string = env(input=json.dumps({"data": {"medfee_sumamt": 1260.92, "mdtrt_id": "M1"}}))
    assert fingerprint(as_string) == fingerprint(env())


def test_numbers_compare_by_value_but_text_is_not_a_number():
    trailing_zero = env(input='{"data": {"medfee_sumamt": 1260.920, "mdtrt_id": "M1"}}')
    assert fingerprint(trailing_zero) == fingerprint(env())
    as_text = env(input={"data": {"medfee_sumamt": "1260.92", "mdtrt_id": "M1"}})
    assert fingerprint(as_text) != fingerprint(env())


def test_another_amount_another_transaction_or_another_area_is_another_request():
    base = fingerprint(env())
    assert fingerprint(env(input={"data": {"medfee_sumamt": 1260.93, "mdtrt_id": "M1"}})) != base
    assert fingerprint(env(infno="2206")) != base
    assert fingerprint(env(insuplc_admdvs="310101")) != base


def test_decide_new_replay_or_conflict():
    first = env()
    assert decide(None, first) is Replay.NEW
    recorded = Recorded(fingerprint=fingerprint(first), answer=b'{"infcode":0}')
    assert decide(recorded, env(inf_time="later")) is Replay.REPLAY
    changed = env(input={"data": {"medfee_sumamt": 1, "mdtrt_id": "M1"}})
    assert decide(recorded, changed) is Replay.CONFLICT


def test_the_log_is_keyed_by_institution_and_msgid():
    assert replay_key(env()) == (ORG, MSGID)


def test_transient_refusals_are_not_recorded():
    assert is_recordable(None)
    assert is_recordable("QR_EXPIRED")
    assert not is_recordable("SERVICE_UNAVAILABLE")
    assert not is_recordable("INTERNAL_ERROR")


def test_fee_lists_compare_by_value_line_by_line():
    line = {"feedetl_sn": "F1", "cnt": 2, "pric": "12.5"}
    as_int = env(infno="2204", input={"feedetail": [line]})
    as_decimal = env(
        infno="2204", input='{"feedetail": [{"feedetl_sn": "F1", "cnt": 2.0, "pric": "12.5"}]}'
    )
    assert fingerprint(as_int) == fingerprint(as_decimal)
    reordered = env(infno="2204", input={"feedetail": [line, {**line, "feedetl_sn": "F2"}]})
    swapped = env(infno="2204", input={"feedetail": [{**line, "feedetl_sn": "F2"}, line]})
    assert fingerprint(reordered) != fingerprint(swapped)  # order of lines is part of the request


def test_an_input_that_json_cannot_hold_is_a_bug():
    with pytest.raises(TypeError):
        fingerprint(Envelope(infno="2207", msgid=MSGID, fixmedins_code=ORG, input={"x": object()}))
