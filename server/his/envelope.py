"""The callService envelope: parse what real clients send, and shape the answers.

What is tolerated (docs/his-interface.md, "What clients send"):

- Content-Type `application/json`, `text/plain` with or without a charset, or none; the body is
  UTF-8 unless a charset says otherwise (a UTF-8 byte-order mark is skipped).
- `input` as a JSON object, as a string holding one, or absent/null/"" (an empty input).
- `"null"`, `""` and JSON null in every string field of the envelope mean "not given";
  numbers in string fields (`"opter_type": 1`) are read as their text.
- `infno` in the path (`.../callService/2207`) and in the body must agree; either alone is enough.
- msgid: 30 letters and digits, either fixmedins_code(12) + yyyyMMddHHmmss + sequence(4), or
  30 hex characters (msgid_form tells which).
- `enc_type`/`enctype`: absent, empty, "null" or "plain" only; an encrypted body is refused with
  a clear message rather than misread.

JSON numbers are parsed as Decimal so that money stays exact (server/his/money.py); the JSON and
string-field readers are in server/his/wire_text.py. The 1162/localQrCodeQuery request and answers
are in server/his/ec_query.py, re-exported here.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from server.clock import BEIJING
from server.his.codes import err_msg
from server.his.ec_query import EcQuery, ec_query_answer_error, ec_query_answer_ok, parse_ec_query
from server.his.errors import HisInputError
from server.his.wire_text import json_object, text_or_none

__all__ = [
    "BEIJING_FORMAT",
    "MAX_BODY_BYTES",
    "MSGID_LENGTH",
    "EcQuery",
    "Envelope",
    "MsgidForm",
    "answer_error",
    "answer_input_error",
    "answer_ok",
    "ec_query_answer_error",
    "ec_query_answer_ok",
    "format_time",
    "load_json_object",
    "msgid_form",
    "new_refmsgid",
    "parse_ec_query",
    "parse_request",
    "text_or_none",
]

BEIJING_FORMAT = "%Y%m%d%H%M%S"
MSGID_LENGTH = 30
_INFNO = re.compile(r"\d{4}")
_MSGID = re.compile(r"[0-9A-Za-z]{30}")
_HEX = re.compile(r"[0-9A-Fa-f]{30}")
_PLAIN_ENC = frozenset({"", "plain", "none", "null"})
_ACCEPTED_TYPES = frozenset({"application/json", "text/plain", "text/json", ""})
# Envelope fields that are plain strings on the wire (issue 12's list, plus the spec's extras).
_STRING_FIELDS = (
    "mdtrtarea_admvs",
    "insuplc_admdvs",
    "recer_sys_code",
    "dev_no",
    "dev_safe_info",
    "cainfo",
    "signtype",
    "infver",
    "opter_type",
    "opter",
    "opter_name",
    "inf_time",
    "fixmedins_name",
    "sign_no",
)
MAX_BODY_BYTES = 4 * 1024 * 1024  # 40000-character inputs in the spec; fee lists run larger

MsgidForm = Literal["institution_time_sequence", "hex", "other"]


@dataclass(frozen=True)
class Envelope:
    """A parsed callService request; absent, empty and "null" fields are None."""

    infno: str
    msgid: str
    fixmedins_code: str
    input: Mapping[str, Any]
    mdtrtarea_admvs: str | None = None
    insuplc_admdvs: str | None = None
    recer_sys_code: str | None = None
    dev_no: str | None = None
    dev_safe_info: str | None = None
    cainfo: str | None = None
    signtype: str | None = None
    infver: str | None = None
    opter_type: str | None = None
    opter: str | None = None
    opter_name: str | None = None
    inf_time: str | None = None
    fixmedins_name: str | None = None
    sign_no: str | None = None
    enc_type: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def msgid_form(self) -> MsgidForm:
        return msgid_form(self.msgid, self.fixmedins_code)


def msgid_form(msgid: str, fixmedins_code: str) -> MsgidForm:
    """Which of the two forms clients use a msgid has (both are accepted)."""
    if (
        len(fixmedins_code) == 12
        and msgid.startswith(fixmedins_code)
        and msgid[12:26].isdigit()
        and msgid[26:].isdigit()
    ):
        return "institution_time_sequence"
    if _HEX.fullmatch(msgid):
        return "hex"
    return "other"


def _charset(content_type: str | None) -> tuple[str, str]:
    """(media type, charset) of a Content-Type; the charset defaults to UTF-8."""
    if not content_type:
        return "", "utf-8"
    media, *params = (part.strip() for part in content_type.split(";"))
    charset = "utf-8"
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip('"').lower()
    return media.lower(), charset


def load_json_object(body: bytes, content_type: str | None) -> dict[str, Any]:
    """The body as a JSON object, numbers as Decimal. Raises HisInputError."""
    media, charset = _charset(content_type)
    if media not in _ACCEPTED_TYPES:
        raise HisInputError(
            "Content-Type", f"不支持的类型 {media}，请用 application/json 或 text/plain"
        )
    if len(body) > MAX_BODY_BYTES:
        raise HisInputError("", "报文过大", code="PAYLOAD_TOO_LARGE")
    try:
        text = body.decode("utf-8-sig" if charset in {"utf-8", "utf8"} else charset)
    except LookupError:
        raise HisInputError("Content-Type", f"不支持的字符集 {charset}") from None
    except UnicodeDecodeError:
        raise HisInputError("", f"报文不是合法的 {charset} 文本") from None
    return json_object(text, "")


def _input_of(raw: object) -> dict[str, Any]:
    if raw is None:
        return {}
    if isinstance(raw, str):
        stripped = raw.strip()
        if stripped == "" or stripped.lower() == "null":
            return {}
        return json_object(stripped, "input")
    if isinstance(raw, dict):
        return raw
    raise HisInputError("input", "应为JSON对象或其JSON字符串")


def parse_request(body: bytes, content_type: str | None, path_infno: str | None) -> Envelope:
    """Parse a callService request as real clients send it. Raises HisInputError."""
    raw = load_json_object(body, content_type)
    body_infno = text_or_none(raw.get("infno"))
    if path_infno is not None and not _INFNO.fullmatch(path_infno):
        raise HisInputError("infno", f"路径中的交易编号 {path_infno[:8]!r} 应为4位数字")
    if body_infno is not None and not _INFNO.fullmatch(body_infno):
        raise HisInputError("infno", "交易编号应为4位数字")
    if path_infno and body_infno and path_infno != body_infno:
        raise HisInputError(
            "infno", f"路径中的交易编号 {path_infno} 与报文中的 {body_infno} 不一致"
        )
    infno = body_infno or path_infno
    if infno is None:
        raise HisInputError("infno", "缺少交易编号")

    fixmedins_code = _text_field(raw, "fixmedins_code")
    if fixmedins_code is None:
        raise HisInputError("fixmedins_code", "缺少定点医药机构编号")
    msgid = _text_field(raw, "msgid")
    if msgid is None:
        raise HisInputError("msgid", "缺少发送方报文ID")
    if not _MSGID.fullmatch(msgid):
        raise HisInputError("msgid", f"发送方报文ID应为{MSGID_LENGTH}位字母或数字")

    enc_type = _text_field(raw, "enc_type") or _text_field(raw, "enctype")
    if enc_type is not None and enc_type.lower() not in _PLAIN_ENC:
        raise HisInputError("enc_type", f"不支持加密报文（{enc_type}），请发送明文")

    strings = {name: _text_field(raw, name) for name in _STRING_FIELDS}
    known = {"infno", "msgid", "fixmedins_code", "input", "enc_type", "enctype", *_STRING_FIELDS}
    return Envelope(
        infno=infno,
        msgid=msgid,
        fixmedins_code=fixmedins_code,
        input=_input_of(raw.get("input")),
        enc_type=enc_type,
        extra={k: v for k, v in raw.items() if k not in known},
        **strings,
    )


def _text_field(raw: Mapping[str, Any], name: str) -> str | None:
    try:
        return text_or_none(raw.get(name))
    except HisInputError:
        raise HisInputError(name, "应为字符串") from None


# --- answers ------------------------------------------------------------------------------------
def format_time(at: datetime) -> str:
    """yyyyMMddHHmmssSSS in Beijing time: refmsg_time and respond_time (17 characters)."""
    local = at.astimezone(BEIJING)
    return local.strftime(BEIJING_FORMAT) + f"{local.microsecond // 1000:03d}"


def new_refmsgid(admdvs: str | None, at: datetime, serial: int | None = None) -> str:
    """Our message id: area code (6) + yyyyMMddHHmmss (14) + serial (10), the spec's shape."""
    area = (admdvs or "")[:6].rjust(6, "0")
    number = secrets.randbelow(10**10) if serial is None else serial % 10**10
    return area + at.astimezone(BEIJING).strftime(BEIJING_FORMAT) + f"{number:010d}"


def answer_ok(
    env: Envelope,
    output: Mapping[str, Any],
    now: datetime,
    *,
    received_at: datetime | None = None,
    refmsgid: str | None = None,
    warn_msg: str | None = None,
) -> dict[str, Any]:
    """The out-envelope of a success: infcode 0 and the transaction's output."""
    return {
        "infcode": 0,
        "inf_refmsgid": refmsgid or new_refmsgid(env.mdtrtarea_admvs, now),
        "refmsg_time": format_time(received_at or now),
        "respond_time": format_time(now),
        "err_msg": None,
        "warn_msg": warn_msg,
        "output": dict(output),
    }


def answer_error(
    env: Envelope | None,
    code: str,
    message_zh: str | None,
    now: datetime,
    *,
    received_at: datetime | None = None,
    refmsgid: str | None = None,
) -> dict[str, Any]:
    """The out-envelope of a refusal: HTTP 200, infcode -1, err_msg naming our error code.

    `env` is None when the request could not be parsed. `output` is an empty object rather than
    null: clients read `output.setlinfo` without a null check.
    """
    admdvs = env.mdtrtarea_admvs if env else None
    return {
        "infcode": -1,
        "inf_refmsgid": refmsgid or new_refmsgid(admdvs, now),
        "refmsg_time": format_time(received_at or now),
        "respond_time": format_time(now),
        "err_msg": err_msg(code, message_zh),
        "warn_msg": None,
        "output": {},
    }


def answer_input_error(exc: HisInputError, env: Envelope | None, now: datetime) -> dict[str, Any]:
    """The refusal of a request whose field `exc.field` could not be accepted."""
    return answer_error(env, exc.code, exc.message_zh, now)
