"""1162 and POST /localcfc/api/hsecfc/localQrCodeQuery: the e-credential decode request and answers.

Pure. server/his/envelope.py re-exports these names, so `from server.his.envelope import ...`
keeps working.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from server.his.codes import err_msg
from server.his.errors import HisInputError
from server.his.wire_text import json_object, text_or_none


@dataclass(frozen=True)
class EcQuery:
    """An e-credential decode request (`transType: "ec.query"`)."""

    org_id: str
    business_type: str | None
    operator_id: str | None
    operator_name: str | None
    office_id: str | None
    office_name: str | None
    device_type: str | None
    qr_text: str | None


def parse_ec_query(payload: Mapping[str, Any]) -> EcQuery:
    """Read `{data: {orgId, businessType, ..., ecQrCode}, orgId, transType: "ec.query"}`.

    Used for POST /localcfc/api/hsecfc/localQrCodeQuery (the body) and for 1162 (the envelope's
    input, same shape). The scanned EC1 text is `ecQrCode`. Raises HisInputError.
    """
    trans_type = text_or_none(payload.get("transType"))
    if trans_type is not None and trans_type != "ec.query":
        raise HisInputError("transType", f"不支持的交易类型 {trans_type[:20]}，应为 ec.query")
    data = payload.get("data")
    if isinstance(data, str):
        data = json_object(data, "data") if data.strip() else {}
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise HisInputError("data", "应为JSON对象")

    def pick(name: str) -> str | None:
        try:
            return text_or_none(data.get(name))
        except HisInputError:
            raise HisInputError(name, "应为字符串") from None

    org_id = pick("orgId") or text_or_none(payload.get("orgId"))
    if org_id is None:
        raise HisInputError("orgId", "缺少定点医药机构编号")
    return EcQuery(
        org_id=org_id,
        business_type=pick("businessType"),
        operator_id=pick("operatorId"),
        operator_name=pick("operatorName"),
        office_id=pick("officeId"),
        office_name=pick("officeName"),
        device_type=pick("deviceType"),
        qr_text=pick("ecQrCode"),
    )


def ec_query_answer_ok(
    *,
    user_name_masked: str,
    id_no_masked: str,
    ec_token: str,
    insu_org: str | None,
    ec_index_no: str,
    id_type: str = "01",
) -> dict[str, Any]:
    """`{code: 0, message: "交易成功", data: {...}}`; ecToken is the scan token (mdtrt_cert_no)."""
    return {
        "code": 0,
        "message": "交易成功",
        "data": {
            "userName": user_name_masked,
            "idNo": id_no_masked,
            "idType": id_type,
            "ecToken": ec_token,
            "insuOrg": insu_org,
            "ecIndexNo": ec_index_no,
            "chnlId": None,
            "ecQrCode": None,
        },
    }


def ec_query_answer_error(code: str, message_zh: str | None) -> dict[str, Any]:
    """`{code: -1, message: "[QR_EXPIRED] ...", data: null}`; HTTP 200 like callService."""
    return {"code": -1, "message": err_msg(code, message_zh), "data": None}
