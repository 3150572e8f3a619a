"""JSON text and string fields as HIS clients send them; shared by the envelope and 1162.

Pure. JSON numbers are parsed as Decimal so that money stays exact (server/his/money.py);
"null", "" and JSON null in a string field mean "not given" (docs/his-interface.md).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from server.his.errors import HisInputError


def text_or_none(value: object) -> str | None:
    """A string field as clients send it: "null", "" and null are None; numbers are text."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, str):
        stripped = value.strip()
        return None if stripped == "" or stripped.lower() == "null" else stripped
    raise HisInputError("", "字段应为字符串")


def json_object(text: str, where: str) -> dict[str, Any]:
    try:
        loaded = json.loads(text, parse_float=Decimal, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise HisInputError(where, "不是合法的JSON") from None
    if not isinstance(loaded, dict):
        raise HisInputError(where, "应为JSON对象")
    return loaded


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
