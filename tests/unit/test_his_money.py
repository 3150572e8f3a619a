"""Decimal yuan on the wire, integer fen inside: every edge case has a documented answer."""

from decimal import Decimal

import pytest

from server.his.errors import HisInputError
from server.his.money import (
    dumps_answer,
    fen_to_yuan,
    line_fen,
    parse_count,
    parse_price,
    yuan_to_fen,
)


@pytest.mark.parametrize(
    ("wire", "fen"),
    [
        ("12.3", 1230),
        (Decimal("12.3"), 1230),
        ("1260.92", 126092),
        (Decimal("882.64"), 88264),
        ("", 0),
        ("   ", 0),
        (None, 0),
        (0, 0),
        ("0", 0),
        ("-0", 0),
        ("1e2", 10000),
        (Decimal("1E+2"), 10000),
        ("1.5E1", 1500),
        ("12.300", 1230),  # trailing zeros are not decimals of value
        ("012.30", 1230),
        (" 12.30 ", 1230),
        (100, 10000),
        (12.3, 1230),  # a Python float, via its shortest repr
        ("99999999999999.99", 9999999999999999),  # the largest (16,2) amount
        (".5", 50),
    ],
)
def test_amounts_convert_to_exact_fen(wire, fen):
    assert yuan_to_fen(wire, "medfee_sumamt") == fen


@pytest.mark.parametrize(
    ("wire", "reason"),
    [
        ("1.005", "最多2位小数"),  # refused, never rounded
        (Decimal("1.005"), "最多2位小数"),
        (1.005, "最多2位小数"),
        ("1e-3", "最多2位小数"),
        ("1e-999999999", "最多2位小数"),
        ("-0.01", "不能为负数"),
        (Decimal("-0.01"), "不能为负数"),
        ("100000000000000", "超出范围"),  # 10^14 yuan does not fit (16,2)
        (Decimal(10) ** 14, "超出范围"),
        ("1e999999999", "超出范围"),
        ("NaN", "不是数值"),
        ("Infinity", "不是数值"),
        (Decimal("NaN"), "NaN"),
        (float("inf"), "NaN"),
        (True, "布尔"),
        ("1,000", "不是数值"),
        ("¥12", "不是数值"),
        ("12.3.4", "不是数值"),
        ([1], "应为数值"),
        ({"v": 1}, "应为数值"),
        ("9" * 100, "不是数值"),
    ],
)
def test_bad_amounts_are_refused_with_invalid_amount(wire, reason):
    with pytest.raises(HisInputError) as caught:
        yuan_to_fen(wire, "medfee_sumamt")
    assert caught.value.code == "INVALID_AMOUNT"
    assert caught.value.field == "medfee_sumamt"
    assert reason in caught.value.reason_zh


def test_a_refund_line_may_be_negative_when_allowed():
    assert yuan_to_fen("-0.01", "det_item_fee_sumamt", allow_negative=True) == -1


@pytest.mark.parametrize(
    ("fen", "text"),
    [(126092, "1260.92"), (0, "0.00"), (1, "0.01"), (100, "1.00"), (-1, "-0.01")],
)
def test_fen_become_two_decimal_yuan(fen, text):
    assert str(fen_to_yuan(fen)) == text
    assert dumps_answer({"a": fen_to_yuan(fen)}) == ('{"a":' + text + "}").encode()


@pytest.mark.parametrize("bad", [1.5, "1", True, None])
def test_fen_to_yuan_takes_only_int_fen(bad):
    with pytest.raises(ValueError):
        fen_to_yuan(bad)


def test_round_trip_is_exact_for_every_fen_near_the_edges():
    for fen in [*range(0, 1001), 9999999999999999, 10**10 - 1]:
        assert yuan_to_fen(str(fen_to_yuan(fen)), "x") == fen


def test_answers_write_money_as_numbers_with_two_decimals_and_chinese_as_itself():
    answer = {
        "infcode": 0,
        "err_msg": None,
        "output": {"setlinfo": {"medfee_sumamt": fen_to_yuan(126092), "psn_name": "李明"}},
        "list": [True, False, 1],
    }
    assert (
        dumps_answer(answer)
        == (
            '{"infcode":0,"err_msg":null,"output":{"setlinfo":{"medfee_sumamt":1260.92,'
            '"psn_name":"李明"}},"list":[true,false,1]}'
        ).encode()
    )


@pytest.mark.parametrize("bad", [{1: "x"}, {"x": object()}, {"x": Decimal("NaN")}, {"x": b"1"}])
def test_an_answer_holding_something_unwritable_is_a_bug(bad):
    with pytest.raises((TypeError, ValueError)):
        dumps_answer(bad)


@pytest.mark.parametrize(
    ("wire", "value"),
    [("12.345678", "12.345678"), (Decimal("0.5"), "0.500000"), ("", "0.000000"), (3, "3.000000")],
)
def test_prices_keep_six_decimals(wire, value):
    assert parse_price(wire) == Decimal(value)


@pytest.mark.parametrize("wire", ["1.0000001", "-1", "10000000000"])
def test_bad_prices_are_refused(wire):
    with pytest.raises(HisInputError) as caught:
        parse_price(wire)
    assert caught.value.field == "pric"


def test_counts_keep_four_decimals_and_may_be_negative_only_when_allowed():
    assert parse_count("2.5") == Decimal("2.5")
    assert parse_count("-1", allow_negative=True) == Decimal(-1)
    with pytest.raises(HisInputError):
        parse_count("-1")
    with pytest.raises(HisInputError):
        parse_count("1.00001")


def test_a_line_total_is_price_times_count_rounded_half_up_to_the_fen():
    assert line_fen(Decimal("0.333333"), Decimal(3)) == 100
    assert line_fen(Decimal("12.5"), Decimal("2")) == 2500
    assert line_fen(Decimal("0.005"), Decimal(1)) == 1
