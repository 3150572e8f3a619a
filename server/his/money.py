"""Decimal yuan on the wire, integer fen inside: exact parsing and two-decimal answers.

The interface carries money as decimal yuan, type (16,2): at most 14 integer digits and two
decimals. Inside the project money is an int of fen (STYLE.md). Prices (16,6) and counts (16,4)
are not money in fen: they stay Decimals. docs/his-interface.md, "Money".

The answers to the edge cases (tests/unit/test_his_money.py):

- JSON number or numeric string: both accepted; `12.3` and `"12.3"` are 1230 fen.
- `""`, `None` (JSON null) and a string of spaces: 0 fen (clients send "" for an unused amount).
- More than two decimals: refused, never rounded (`1.005` is refused). Trailing zeros are not
  decimals of value: `"12.300"` is 1230 fen, because the amount is still a whole number of fen.
- Exponent forms: accepted when exact (`1e2` is 10000 fen, `1.5E1` is 1500 fen); `1e-3` is
  refused like `0.001`. They are valid JSON numbers and Java's BigDecimal writes them.
- Negative: refused (`-0.01`), unless the caller allows it (a refund line); `-0` is 0.
- NaN, Infinity, booleans, lists, objects, `"1,000"`, `"¥12"`: refused.
- Size: an amount of 10^14 yuan or more does not fit (16,2) and is refused; the largest is
  99999999999999.99. Business rules refuse far smaller bills (settlement: under 10^10 fen).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from server.his.errors import HisInputError

# A JSON number, with leading zeros tolerated ("012.30" comes from fixed-width HIS fields).
_NUMERIC = re.compile(r"-?\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|-?\.\d+(?:[eE][+-]?\d+)?")
# Longer text is not an amount; this also bounds the work on hostile input.
_MAX_TEXT = 64

MONEY_INTEGER_DIGITS = 14  # (16,2)
PRICE_INTEGER_DIGITS = 10  # (16,6)
COUNT_INTEGER_DIGITS = 12  # (16,4)


def _to_decimal(value: object, field: str) -> Decimal:
    """The exact Decimal a wire value stands for; None and blank text are 0."""
    if value is None:
        return Decimal(0)
    if isinstance(value, bool):  # bool is an int in Python; true is not an amount
        raise HisInputError(field, "应为数值，不能是布尔值")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        # The envelope parses JSON numbers as Decimal, so a float only comes from Python callers;
        # its shortest repr is the text a JSON writer would have sent.
        number = Decimal(repr(value))
    elif isinstance(value, str):
        text = value.strip()
        if text == "":
            return Decimal(0)
        if len(text) > _MAX_TEXT or not _NUMERIC.fullmatch(text):
            raise HisInputError(field, f"不是数值：{value[:20]!r}")
        number = Decimal(text)
    else:
        raise HisInputError(field, "应为数值或数值字符串")
    if not number.is_finite():
        raise HisInputError(field, "不能是NaN或无穷大")
    return number


def _scaled(number: Decimal, places: int, field: str, what: str) -> int:
    """number × 10^places as an exact int; refuses a non-zero digit beyond `places` decimals."""
    sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)  # finite, checked by the caller
    magnitude = int("".join(map(str, digits)) or "0")
    shift = exponent + places
    if shift >= 0:
        scaled = magnitude * int(10**shift)
    else:
        # Checked without building 10**huge: a magnitude with fewer digits than the shift is
        # not divisible by 10**-shift unless it is 0.
        if magnitude != 0 and -shift >= len(digits):
            raise HisInputError(field, f"{what}最多{places}位小数")
        scaled, rest = divmod(magnitude, int(10**-shift)) if magnitude else (0, 0)
        if rest:
            raise HisInputError(field, f"{what}最多{places}位小数")
    return -scaled if sign else scaled


def _parse(
    value: object, field: str, *, places: int, integer_digits: int, allow_negative: bool, what: str
) -> int:
    number = _to_decimal(value, field)
    if number.copy_abs() >= Decimal(10) ** integer_digits:  # copy_abs is exact, abs may trap
        raise HisInputError(field, f"{what}超出范围（整数部分最多{integer_digits}位）")
    scaled = _scaled(number, places, field, what)
    if scaled < 0 and not allow_negative:
        raise HisInputError(field, f"{what}不能为负数")
    return scaled


def yuan_to_fen(value: object, field: str, *, allow_negative: bool = False) -> int:
    """Decimal yuan (16,2) from the wire as integer fen, exactly.

    Raises HisInputError with code INVALID_AMOUNT (the module docstring lists the cases).
    """
    try:
        return _parse(
            value,
            field,
            places=2,
            integer_digits=MONEY_INTEGER_DIGITS,
            allow_negative=allow_negative,
            what="金额",
        )
    except HisInputError as exc:
        raise HisInputError(exc.field, exc.reason_zh, code="INVALID_AMOUNT") from None


def fen_to_yuan(fen: int) -> Decimal:
    """Integer fen as yuan with exactly two decimals: 126092 -> Decimal("1260.92")."""
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise ValueError("fen must be an int")
    return Decimal(fen).scaleb(-2)


def parse_price(value: object, field: str = "pric") -> Decimal:
    """A unit price (16,6): at most six decimals, not negative. Raises HisInputError."""
    micro = _parse(
        value,
        field,
        places=6,
        integer_digits=PRICE_INTEGER_DIGITS,
        allow_negative=False,
        what="单价",
    )
    return Decimal(micro).scaleb(-6)


def parse_count(value: object, field: str = "cnt", *, allow_negative: bool = False) -> Decimal:
    """A quantity (16,4): at most four decimals; negative only for a returned line."""
    units = _parse(
        value,
        field,
        places=4,
        integer_digits=COUNT_INTEGER_DIGITS,
        allow_negative=allow_negative,
        what="数量",
    )
    return Decimal(units).scaleb(-4)


def line_fen(price: Decimal, count: Decimal) -> int:
    """price × count in fen, rounded half up: what a line's det_item_fee_sumamt should be near."""
    return int((price * count * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


# --- answers ------------------------------------------------------------------------------------
def dumps_answer(obj: Any) -> bytes:
    """The answer as UTF-8 JSON, Decimals written as numbers with their own decimals.

    The stdlib encoder writes a Decimal only through float (losing "12.30"), so answers are
    rendered here: str/int/bool/None/Decimal/Mapping/Sequence, keys in insertion order, Chinese
    as itself. fen_to_yuan's Decimals come out as `1260.92` and `0.00`.
    """
    parts: list[str] = []
    _render(obj, parts)
    return "".join(parts).encode("utf-8")


def _render(obj: Any, out: list[str]) -> None:
    if obj is None:
        out.append("null")
    elif obj is True:
        out.append("true")
    elif obj is False:
        out.append("false")
    elif isinstance(obj, Decimal):
        if not obj.is_finite():
            raise ValueError("a non-finite Decimal cannot be written as JSON")
        out.append(format(obj, "f"))
    elif isinstance(obj, int):
        out.append(str(obj))
    elif isinstance(obj, str):
        out.append(json.dumps(obj, ensure_ascii=False))
    elif isinstance(obj, Mapping):
        out.append("{")
        for i, (key, item) in enumerate(obj.items()):
            if not isinstance(key, str):
                raise TypeError("answer keys must be strings")
            if i:
                out.append(",")
            out.append(json.dumps(key, ensure_ascii=False))
            out.append(":")
            _render(item, out)
        out.append("}")
    elif isinstance(obj, Sequence) and not isinstance(obj, bytes | bytearray):
        out.append("[")
        for i, item in enumerate(obj):
            if i:
                out.append(",")
            _render(item, out)
        out.append("]")
    else:
        raise TypeError(f"cannot write {type(obj).__name__} in an answer")


__all__ = [
    "dumps_answer",
    "fen_to_yuan",
    "line_fen",
    "parse_count",
    "parse_price",
    "yuan_to_fen",
]
