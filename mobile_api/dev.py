"""The SMS outbox, for tests and the demo only (404 when SMS go to a real gateway).

DOMAIN.md: none: a test and demo aid.
"""

from __future__ import annotations

from typing import Literal

from flask import Blueprint

from server.clock import iso
from server.errors import NotFoundError
from server.http import Answer, Schema, documented, parse_query
from server.ports.sms import OutboxSmsSender
from server.web.context import wiring

bp = Blueprint("dev", __name__, url_prefix="/api/v1/dev")


class OutboxQuery(Schema):
    phone: str


class OutboxMessage(Answer):
    purpose: Literal["login", "payment_password"]
    text: str
    code: str
    sent_at: str


class OutboxAnswer(Answer):
    messages: list[OutboxMessage]


@bp.get("/sms-outbox")
@documented(query=OutboxQuery, answer=OutboxAnswer, summary="Messages sent to a phone (demo)")
def sms_outbox() -> dict[str, object]:
    sms = wiring().sms
    if not isinstance(sms, OutboxSmsSender):
        raise NotFoundError()
    phone = parse_query(OutboxQuery).phone
    return {
        "messages": [
            {"purpose": m.purpose, "text": m.text, "code": m.code, "sent_at": iso(m.sent_at)}
            for m in sms.messages(phone)
        ]
    }
