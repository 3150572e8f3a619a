"""Sending SMS. `OutboxSmsSender` keeps messages for tests and the demo; `LoggingSmsSender`
stands in for a real gateway and logs that a message went out, never the code in it."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

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
