"""Error envelopes in the caller's language: Chinese by default, English for Accept-Language: en.

Every envelope (the error handlers', and the JWT loaders') is turned into JSON by the app's JSON
provider, so wording it there covers them all without touching the handlers: an answer shaped
`{"error": {"code", "message", "details"}}` gets `message` from server/messages.py. Codes and
details never change.

DOMAIN.md: none: web glue.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, has_request_context, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.sansio.response import Response as BaseResponse

from server.errors import all_error_classes
from server.messages import localize

_GENERIC = {cls.code: cls.default_message for cls in all_error_classes()}


def _worded(obj: Any) -> Any:
    if not (isinstance(obj, dict) and len(obj) == 1 and "error" in obj and has_request_context()):
        return obj
    error = obj["error"]
    if not (isinstance(error, dict) and isinstance(error.get("code"), str)):
        return obj
    code = error["code"]
    message = localize(
        code,
        error.get("message"),
        request.headers.get("Accept-Language"),
        generic=_GENERIC.get(code),
    )
    return {"error": {**error, "message": message}}


class LocalizingJSONProvider(DefaultJSONProvider):
    def response(self, *args: Any, **kwargs: Any) -> BaseResponse:
        if len(args) == 1 and not kwargs:
            return super().response(_worded(args[0]))
        return super().response(*args, **kwargs)


def init_app(app: Flask) -> None:
    """Word the app's error envelopes by Accept-Language (called by the app factory)."""
    provider = LocalizingJSONProvider(app)
    provider.ensure_ascii = app.json.ensure_ascii  # type: ignore[attr-defined]
    app.json = provider
