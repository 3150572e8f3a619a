"""A real SMS sender: one signed HTTP POST per message to a configurable gateway.

SMS_BACKEND=http, SMS_GATEWAY_URL, SMS_GATEWAY_KEY, SMS_GATEWAY_TIMEOUT_SECONDS. The request is
JSON `{message_id, phone, template, params: {code}}`, signed like Stripe's webhooks:
`X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(key, "<t>.<body>")>`, so the gateway can
refuse a forged or replayed call; `Idempotency-Key` is the message id, the same on every retry, so
a retried send is delivered once. A connection error, a timeout, a 429 or a 5xx is retried with
exponential backoff; any other answer is final. No log line and no error message holds the code.

It runs inside a job (server/jobs.py "send_sms"), never inside a request: a slow gateway holds a
worker's queue, not a till.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable

from server.privacy import mask_phone

log = logging.getLogger(__name__)

_RETRY_STATUSES = {429, 500, 502, 503, 504}


class HttpSmsDeliveryError(RuntimeError):
    """The gateway did not accept the message (after the retries, or with a final refusal)."""


def signature(key: bytes, timestamp: int, body: bytes) -> str:
    """The X-Signature header value of `body` sent at `timestamp`."""
    mac = hmac.new(key, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


class HttpSmsSender:
    def __init__(
        self,
        *,
        url: str | None,
        key: str | None,
        timeout_seconds: float = 3.0,
        attempts: int = 4,
        backoff_seconds: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not url or not key:
            raise ValueError("HttpSmsSender needs SMS_GATEWAY_URL and SMS_GATEWAY_KEY")
        self._url = url
        self._key = key.encode()
        self._timeout = timeout_seconds
        self._attempts = attempts
        self._backoff = backoff_seconds
        self._sleep = sleep

    def send(self, phone: str, purpose: str, code: str, *, holder: str = "") -> None:
        message_id = uuid.uuid4().hex
        message = {"message_id": message_id, "phone": phone, "template": purpose}
        params = {"code": code, **({"holder": holder} if holder else {})}
        body = json.dumps({**message, "params": params}).encode()
        where = {"phone": mask_phone(phone), "purpose": purpose, "message_id": message_id}
        for attempt in range(1, self._attempts + 1):
            request = urllib.request.Request(  # noqa: S310  (the URL is the operator's setting)
                self._url,
                data=body,
                method="POST",
                headers={
                    "Content-Type": "application/json",
                    "Idempotency-Key": message_id,
                    "X-Signature": signature(self._key, int(time.time()), body),
                },
            )
            try:
                with urllib.request.urlopen(request, timeout=self._timeout) as answer:  # noqa: S310
                    status = int(answer.status)
            except urllib.error.HTTPError as exc:
                status = exc.code
            except (urllib.error.URLError, TimeoutError, OSError) as exc:
                status = 0
                log.warning(
                    "sms gateway unreachable",
                    extra={**where, "attempt": attempt, "error": type(exc).__name__},
                )
            if 200 <= status < 300:
                log.info("sms sent", extra={**where, "attempt": attempt})
                return
            if status and status not in _RETRY_STATUSES:
                log.error("sms refused by gateway", extra={**where, "status": status})
                raise HttpSmsDeliveryError(f"the SMS gateway refused the message ({status})")
            if status:
                busy = {**where, "attempt": attempt, "status": status}
                log.warning("sms gateway busy", extra=busy)
            if attempt < self._attempts:
                self._sleep(self._backoff * 2 ** (attempt - 1))
        raise HttpSmsDeliveryError(f"no answer from the SMS gateway in {self._attempts} attempts")
