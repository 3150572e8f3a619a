"""The HTTP SMS gateway adapter against a local server in a thread, and sending through jobs.

Issue 10, finding 9: there was no real SMS delivery, only the outbox or a log line.
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from server.ports.sms_http import HttpSmsDeliveryError, HttpSmsSender, signature

KEY = "gateway-key"


class Gateway:
    """A local SMS gateway: answers the statuses queued in `script` (then 200), records bodies."""

    def __init__(self) -> None:
        self.script: list[int] = []
        self.delay_seconds = 0.0
        self.calls: list[tuple[dict[str, str], bytes]] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                gateway.calls.append((dict(self.headers), body))
                time.sleep(gateway.delay_seconds)
                status = gateway.script.pop(0) if gateway.script else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *_args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/send"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def codes(self) -> list[str]:
        return [json.loads(body)["params"]["code"] for _, body in self.calls]


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    g = Gateway()
    yield g
    g.server.shutdown()
    g.server.server_close()


def sender(gateway: Gateway, **kw: Any) -> HttpSmsSender:
    return HttpSmsSender(url=gateway.url, key=KEY, sleep=lambda _s: None, **kw)


def test_a_message_is_posted_signed_with_the_gateway_key(gateway):
    sender(gateway).send("13900000001", "login", "123456")
    ((headers, body),) = gateway.calls
    assert json.loads(body)["phone"] == "13900000001"
    stamp = int(headers["X-Signature"].split(",")[0][2:])
    assert hmac.compare_digest(headers["X-Signature"], signature(KEY.encode(), stamp, body))


def test_busy_answers_are_retried_with_the_same_idempotency_key(gateway):
    gateway.script = [503, 429]
    waits: list[float] = []
    HttpSmsSender(url=gateway.url, key=KEY, sleep=waits.append).send("13900000001", "login", "1")
    assert len(gateway.calls) == 3
    assert len({h["Idempotency-Key"] for h, _ in gateway.calls}) == 1
    assert waits == [0.5, 1.0]  # exponential backoff


def test_a_final_refusal_is_not_retried(gateway):
    gateway.script = [400]
    with pytest.raises(HttpSmsDeliveryError):
        sender(gateway).send("13900000001", "login", "654321")
    assert len(gateway.calls) == 1


def test_a_slow_gateway_times_out_and_no_log_line_holds_the_code(gateway, caplog):
    gateway.delay_seconds = 0.5
    with caplog.at_level(logging.DEBUG), pytest.raises(HttpSmsDeliveryError) as info:
        sender(gateway, timeout_seconds=0.1, attempts=2).send("13900000001", "login", "987654")
    assert "987654" not in caplog.text
    assert "987654" not in str(info.value)


def test_a_slow_gateway_never_holds_the_request(make_app, gateway):
    """SMS_BACKEND=http sends on the jobs port: the request answers before the gateway does."""
    gateway.delay_seconds = 1.0
    app = make_app(
        SMS_BACKEND="http", SMS_GATEWAY_URL=gateway.url, SMS_GATEWAY_KEY=KEY, JOBS_BACKEND="thread"
    )
    started = time.perf_counter()
    r = app.test_client().post("/api/v1/auth/sms-code", json={"phone": "13900000009"})
    assert r.status_code == 202
    assert time.perf_counter() - started < 0.5
    app.extensions["wiring"].jobs.join()
    assert len(gateway.codes()) == 1
    assert gateway.codes()[0].isdigit()
