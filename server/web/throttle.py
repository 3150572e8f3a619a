"""Throttles on the anonymous doors: clerk sign-in, terminal sign-in and SMS sends.

Issue 10, finding 8. Each door counts in the short-lived store (server/ports/store.py), in fixed
windows, per client address and, for sign-in, per account; a request past a limit answers
RATE_LIMITED with `retry_after` (and a Retry-After header) before the view runs. A sign-in attempt
is counted before the password is checked and handed back when it succeeds, so parallel guesses
cannot pass the limit and a clerk who signs in often is never locked out. A store that cannot
answer refuses the request (503), as every other check does.

Limits are settings (THROTTLE_*); the client address is `request.remote_addr`, which ProxyFix
(PROXY_HOPS, server/app.py) takes from X-Forwarded-For behind a trusted proxy.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from flask import Flask, Response, g, request

from server.errors import RateLimitedError, ServiceUnavailableError
from server.web.context import wiring

WINDOW_SECONDS = 15 * 60
SMS_WINDOW_SECONDS = 3600


@dataclass(frozen=True)
class Door:
    name: str
    account_field: str | None  # the body field naming the account, when there is one
    per_account: int
    per_address: int
    window_seconds: int


def doors(limits: dict[str, int]) -> dict[str, Door]:
    """Endpoint name → its door, with the configured limits."""
    return {
        "agency.login": Door(
            "admin", "username", limits["admin_account"], limits["admin_address"], WINDOW_SECONDS
        ),
        "terminal.token": Door(
            "terminal",
            "terminal_id",
            limits["terminal_account"],
            limits["terminal_address"],
            WINDOW_SECONDS,
        ),
        "auth.sms_code": Door("sms", None, 0, limits["sms_address"], SMS_WINDOW_SECONDS),
    }


def _count(key: str, limit: int, window_seconds: int) -> None:
    store = wiring().store
    if store.incr(key, window_seconds) > limit:
        raise RateLimitedError(
            "Too many attempts from here; try again later",
            retry_after=store.ttl(key) or window_seconds,
        )


def init_app(app: Flask, limits: dict[str, int]) -> None:
    table = doors(limits)

    @app.before_request
    def _throttle() -> None:
        door = table.get(request.endpoint or "")
        if door is None or request.method != "POST":
            return
        address = request.remote_addr or "unknown"
        _count(f"throttle:{door.name}:addr:{address}", door.per_address, door.window_seconds)
        if door.account_field is None:
            return
        body = request.get_json(silent=True)
        account = body.get(door.account_field) if isinstance(body, dict) else None
        if isinstance(account, str) and 0 < len(account) <= 64:
            key = f"throttle:{door.name}:acct:{account}"
            _count(key, door.per_account, door.window_seconds)
            g.throttle_account_key = key

    @app.after_request
    def _hand_back(response: Response) -> Response:
        key = g.pop("throttle_account_key", None)
        if key is not None and 200 <= response.status_code < 300:
            # A right password does not count against the account; when the store is down the
            # attempt stays counted (failing closed costs one attempt, no more).
            with contextlib.suppress(ServiceUnavailableError):
                wiring().store.decr(key)
        return response
