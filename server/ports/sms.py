"""Sending SMS behind one port, `SmsSender`.

- `OutboxSmsSender` keeps messages for tests and the demo (playground only, server/config.py);
- `LoggingSmsSender` logs that a message went out, never its code (playground only);
- `HttpSmsSender` (server/ports/sms_http.py) delivers through a configurable HTTP gateway;
- any `package.module:ClassName` (a class taking no arguments) plugs in a vendor's SDK.
`load_sms_sender` picks one from SMS_BACKEND. Senders never log a code."""

from __future__ import annotations

import base64
import hashlib
import importlib
import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from cryptography.fernet import Fernet

from server.clock import Clock
from server.privacy import mask_phone

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmsMessage:
    phone: str
    purpose: str  # "login" | "payment_password" | "payment_password_reset"
    text: str
    code: str
    sent_at: datetime


class SmsSender(Protocol):
    def send(self, phone: str, purpose: str, code: str, *, holder: str = "") -> None:
        """Send `code` to `phone` for `purpose`; the sender writes the text.

        `holder` (masked) names whose account the code is for, when the phone is not theirs.
        """
        ...


_TEXTS = {
    "login": "【医保电子凭证】登录验证码 {code}，5分钟内有效，请勿告诉他人。",
    "payment_password": (
        "【医保电子凭证】您的个人账户初始支付密码为 {code}，请尽快修改，请勿告诉他人。"
    ),
    # a reset sent to a phone given at the counter (a relative's): name the account's holder
    "payment_password_reset": (
        "【医保电子凭证】{holder}的个人账户支付密码已重置为 {code}，请尽快修改，请勿告诉他人。"
    ),
}


def render(purpose: str, code: str, holder: str = "") -> str:
    return _TEXTS[purpose].format(code=code, holder=holder)


class OutboxSmsSender:
    """Keeps every message in memory, newest last (GET /api/v1/dev/sms-outbox)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._messages: list[SmsMessage] = []
        self._lock = threading.Lock()

    def send(self, phone: str, purpose: str, code: str, *, holder: str = "") -> None:
        text = render(purpose, code, holder)
        message = SmsMessage(phone, purpose, text, code, self._clock.now())
        with self._lock:
            self._messages.append(message)
        log.info("sms queued to outbox", extra={"phone": mask_phone(phone), "purpose": purpose})

    def messages(self, phone: str) -> list[SmsMessage]:
        with self._lock:
            return [m for m in self._messages if m.phone == phone]


class LoggingSmsSender:
    """A gateway stand-in: records that a message was sent, never its code."""

    def send(self, phone: str, purpose: str, code: str, *, holder: str = "") -> None:
        log.info("sms sent", extra={"phone": mask_phone(phone), "purpose": purpose})


def load_sms_sender(spec: str, clock: Clock, **gateway: object) -> SmsSender:
    """The sender named by SMS_BACKEND (`gateway` holds the HTTP gateway's settings)."""
    if spec == "outbox":
        return OutboxSmsSender(clock)
    if spec == "log":
        return LoggingSmsSender()
    if spec == "http":
        from server.ports.sms_http import HttpSmsSender

        return HttpSmsSender(**gateway)  # type: ignore[arg-type]
    module_name, _, class_name = spec.partition(":")
    if not class_name:
        raise ValueError("SMS_BACKEND must be 'outbox', 'log', 'http' or 'package.module:Class'")
    sender: SmsSender = getattr(importlib.import_module(module_name), class_name)()
    return sender


class _Enqueue(Protocol):
    def enqueue(self, task: str, **kwargs: Any) -> str: ...


def job_cipher(pepper: bytes) -> Fernet:
    """The key that seals a code inside a queued job (rq keeps and logs job arguments)."""
    digest = hashlib.sha256(b"ecredential sms job\x00" + pepper).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


class QueuedSmsSender:
    """Hands each message to the jobs port (task "send_sms"), so no request waits on a gateway.

    The code travels sealed (Fernet, a key derived from the pepper): the queue, rq's logs and a
    failed job's record never hold it in clear.
    """

    def __init__(self, jobs: _Enqueue, cipher: Fernet) -> None:
        self._jobs = jobs
        self._cipher = cipher

    def send(self, phone: str, purpose: str, code: str, *, holder: str = "") -> None:
        sealed = self._cipher.encrypt(code.encode()).decode()
        self._jobs.enqueue("send_sms", phone=phone, purpose=purpose, sealed=sealed, holder=holder)
