"""The HIS interface's endpoints (issue 12): parse with server.his, call the service, answer.

HTTP 200 for every answer (refusals carry infcode -1), 401 with a plain reason when the gateway
headers do not check out. docs/his-interface.md, "Endpoints".
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from server.his.envelope import ec_query_answer_error, load_json_object, parse_request
from server.his.errors import HisAuthError, HisInputError
from server.his.money import dumps_answer
from server.hospital import service
from server.web.context import uow

bp = Blueprint("his", __name__)


def _json(body: bytes) -> Response:
    return Response(body, status=200, content_type="application/json; charset=utf-8")


def _headers() -> dict[str, str]:
    """The request's headers by their WSGI names, lower-cased: `_api_name` arrives as
    HTTP__API_NAME (werkzeug would show it as `-Api-Name`)."""
    return {
        key[5:].lower(): str(value)
        for key, value in request.environ.items()
        if key.startswith("HTTP_")
    }


def _denied(exc: HisAuthError) -> Response:
    return Response(exc.reason, status=401, content_type="text/plain; charset=utf-8")


@bp.post("/fsi/api/rsfComIfsService/callService")
@bp.post("/fsi/api/rsfComIfsService/callService/<infno>")
def call_service(infno: str | None = None) -> Response:
    unit = uow()
    received_at = unit.clock.now()
    try:
        env = parse_request(request.get_data(), request.headers.get("Content-Type"), infno)
    except HisInputError as exc:
        try:  # who is calling comes first: a stranger learns nothing about the body
            service.authenticate(unit, _headers())
        except HisAuthError as denied:
            return _denied(denied)
        return _json(service.refusal_without_envelope(exc, unit.clock.now()))
    try:
        service.authenticate(unit, _headers(), fixmedins_code=env.fixmedins_code, infno=env.infno)
    except HisAuthError as denied:
        return _denied(denied)
    return _json(service.call(unit, env, received_at=received_at))


@bp.post("/localcfc/api/hsecfc/localQrCodeQuery")
def local_qr_code_query() -> Response:
    unit = uow()
    try:
        caller = service.authenticate(unit, _headers())
    except HisAuthError as denied:
        return _denied(denied)
    try:
        payload = load_json_object(request.get_data(), request.headers.get("Content-Type"))
    except HisInputError as exc:
        return _json(dumps_answer(ec_query_answer_error(exc.code, exc.message_zh)))
    return _json(
        service.local_qr_code_query(unit, payload=payload, institution_code=caller.fixmedins_code)
    )
