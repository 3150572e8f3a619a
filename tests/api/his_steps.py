"""An HIS as an actor: it holds the institution's gateway key and calls callService.

`his.call("2207", {...})` signs the `_api_*` headers with the test clock, numbers the msgid as
real clients do (institution + time + sequence) and returns the parsed answer; `raw=True`
returns the response itself.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from server.clock import BEIJING, FrozenClock
from server.his.signature import sign_headers
from tests.actors import Clerk

CALL = "/fsi/api/rsfComIfsService/callService"
DECODE = "/localcfc/api/hsecfc/localQrCodeQuery"
_sequence = itertools.count(1)


def loads(body: bytes) -> Any:
    return json.loads(body, parse_float=Decimal)


@dataclass
class His:
    client: FlaskClient
    clock: FrozenClock
    code: str
    access_key: str
    secret: str
    area: str = "110108"
    sign_no: str | None = None
    sent: list[str] = field(default_factory=list)

    @classmethod
    def of_new_hospital(
        cls, client: FlaskClient, clock: FrozenClock, clerk: Clerk, code: str
    ) -> His:
        r = clerk.post("/institutions", {"code": code, "name": f"医院{code}", "kind": "hospital"})
        assert r.status_code == 201, r.get_json()
        r = clerk.post(f"/institutions/{code}/his-keys")
        assert r.status_code == 201, r.get_json()
        body = r.get_json()
        return cls(client, clock, code, body["access_key"], body["secret"])

    def new_msgid(self) -> str:
        stamp = self.clock.now().astimezone(BEIJING).strftime("%Y%m%d%H%M%S")
        return f"{self.code}{stamp}{next(_sequence) % 10000:04d}"

    def headers(self, api_name: str = "api-powersi-test-pri", **override: str) -> dict[str, str]:
        signed = sign_headers(
            access_key=self.access_key, secret=self.secret, api_name=api_name, now=self.clock.now()
        )
        return {**signed, **override}

    def envelope(self, infno: str, input_: Any, msgid: str | None = None) -> dict[str, Any]:
        msgid = msgid or self.new_msgid()
        self.sent.append(msgid)
        return {
            "infno": infno,
            "msgid": msgid,
            "mdtrtarea_admvs": self.area,
            "insuplc_admdvs": self.area,
            "recer_sys_code": "MDY32",
            "dev_no": "null",
            "cainfo": "null",
            "signtype": "SM2",
            "infver": "V1.0",
            "opter_type": "1",
            "opter": "0153",
            "opter_name": "收费员",
            "inf_time": self.clock.now().astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
            "fixmedins_code": self.code,
            "fixmedins_name": "示例医院",
            "sign_no": self.sign_no or "null",
            "input": input_,
        }

    def post(
        self,
        body: bytes | str | dict[str, Any],
        *,
        path: str = CALL,
        content_type: str | None = "application/json",
        headers: dict[str, str] | None = None,
    ) -> TestResponse:
        data = body if isinstance(body, bytes | str) else json.dumps(body, ensure_ascii=False)
        sent_headers = headers if headers is not None else self.headers()
        return self.client.post(
            path,
            data=data.encode() if isinstance(data, str) else data,
            headers={**sent_headers, **({"Content-Type": content_type} if content_type else {})},
        )

    def call(self, infno: str, input_: Any, *, msgid: str | None = None) -> dict[str, Any]:
        r = self.post(self.envelope(infno, input_, msgid))
        assert r.status_code == 200, r.get_data(as_text=True)
        answer: dict[str, Any] = loads(r.get_data())
        return answer

    def ok(self, infno: str, input_: Any, *, msgid: str | None = None) -> dict[str, Any]:
        answer = self.call(infno, input_, msgid=msgid)
        assert answer["infcode"] == 0, answer["err_msg"]
        output: dict[str, Any] = answer["output"]
        return output

    def sign_in(self) -> str:
        out = self.ok(
            "9001", {"signIn": {"opter_no": "0153", "mac": "00-16-3E-00-00-01", "ip": "10.0.0.8"}}
        )
        self.sign_no = str(out["signinoutb"]["sign_no"])
        return self.sign_no

    def decode(self, qr_text: str) -> str:
        out = self.ok("1162", ec_query(self.code, qr_text))
        assert out["code"] == 0, out
        return str(out["data"]["ecToken"])


def ec_query(org_id: str, qr_text: str) -> dict[str, Any]:
    return {
        "data": {
            "orgId": org_id,
            "businessType": "01101",
            "operatorId": "0153",
            "operatorName": "收费员",
            "officeId": "32760",
            "officeName": "内科",
            "deviceType": "",
            "ecQrCode": qr_text,
        },
        "orgId": org_id,
        "transType": "ec.query",
    }


def err_code(answer: dict[str, Any]) -> str:
    assert answer["infcode"] == -1, answer
    return str(answer["err_msg"]).split("]")[0].lstrip("[")
