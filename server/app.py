"""The app factory: `create_app(config=None)` in register_* steps; `server.create_app` is it.

DOMAIN.md: none: the app's assembly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask

from server.clock import Clock, SystemClock
from server.config import Settings, load_settings
from server.web.context import init_app as init_context
from server.wiring import build_wiring

# Bodies: every JSON call fits in 256 KiB; only the roster import (a clerk's signed-in call, up to
# 10,000 rows with face templates) may send 32 MiB. Werkzeug stops reading past the limit (413).
MAX_BODY_BYTES = 256 * 1024
MAX_IMPORT_BODY_BYTES = 32 * 1024 * 1024
LARGE_BODY_ENDPOINTS = frozenset({"agency.import_insured"})


class App(Flask):
    """Flask, remembering `ensure_sync`'s answer per function. Flask asks `inspect` whether a
    hook or a view is a coroutine function each time it calls one, nine times a settlement
    (issue 14), and a function's answer never changes. Only the first MAX_REMEMBERED functions
    are remembered, so that a caller handing in a fresh closure each time cannot grow it."""

    MAX_REMEMBERED = 1000

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        known = self._sync.get(func)
        if known is None:
            known = super().ensure_sync(func)
            if len(self._sync) < self.MAX_REMEMBERED:
                self._sync[func] = known
        return known


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app. `{"TESTING": True}` gives a fresh in-memory database and an SMS outbox.

    Besides settings, `config` may carry `CLOCK` (a server.clock.Clock) for tests.
    """
    config = dict(config or {})
    clock: Clock = config.pop("CLOCK", None) or SystemClock()
    settings = load_settings(config)

    app = App("server")
    app.config.update(TESTING=settings.testing, MAX_CONTENT_LENGTH=MAX_BODY_BYTES)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    register_wiring(app, settings, clock)
    register_limits(app)
    register_errors(app)
    register_auth(app)
    register_blueprints(app)
    register_cli(app)
    if settings.testing:
        create_schema(app)
    return app


def register_wiring(app: Flask, settings: Settings, clock: Clock) -> None:
    from server import metrics
    from server.observability import init_request_logging

    init_context(app, build_wiring(settings, clock))
    init_request_logging(app)
    metrics.init_app(app)


def register_limits(app: Flask) -> None:
    from flask import request

    from server.http import refuse_nul_in_url, refuse_oversized_request
    from server.web import throttle

    settings: Settings = app.extensions["wiring"].settings
    if settings.proxy_hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_hops)  # type: ignore[method-assign]

    @app.before_request
    def _limits() -> None:
        if request.endpoint in LARGE_BODY_ENDPOINTS:
            request.max_content_length = MAX_IMPORT_BODY_BYTES
        refuse_oversized_request()
        refuse_nul_in_url()

    throttle.init_app(
        app,
        {
            "admin_account": settings.throttle_admin_account,
            "admin_address": settings.throttle_admin_address,
            "terminal_account": settings.throttle_terminal_account,
            "terminal_address": settings.throttle_terminal_address,
            "sms_address": settings.throttle_sms_address,
        },
    )


def register_errors(app: Flask) -> None:
    from server.web.errors import register_error_handlers
    from server.web.i18n import init_app as init_i18n

    register_error_handlers(app)
    init_i18n(app)  # messages by Accept-Language (server/messages.py); codes unchanged


def register_auth(app: Flask) -> None:
    from server.auth.tokens import init_jwt

    init_jwt(app)


def register_blueprints(app: Flask) -> None:
    from mobile_api import account, activation, auth, credential, dev, supplementary
    from mobile_api import family as family_api
    from mobile_api import mutual_aid as mutual_aid_api
    from server import ops
    from server.agency import bp as agency
    from server.hospital.routes import bp as hospital
    from server.pages import bp as pages
    from server.terminal import bp as terminal

    for bp in (ops.bp, auth.bp, activation.bp, agency, terminal):
        app.register_blueprint(bp)
    settings: Settings = app.extensions["wiring"].settings
    if settings.testing or settings.demo_mode:  # the outbox exists only in a playground
        app.register_blueprint(dev.bp)
    app.register_blueprint(family_api.bp)
    app.register_blueprint(mutual_aid_api.bp)
    app.register_blueprint(credential.bp)
    app.register_blueprint(credential.well_known)
    app.register_blueprint(hospital)
    app.register_blueprint(pages)
    for bp in (account.bp, supplementary.bp):
        app.register_blueprint(bp)


def register_cli(app: Flask) -> None:
    from server.cli import register

    register(app)


def create_schema(app: Flask) -> None:
    """Tables straight from the models (tests); real databases are migrated (`flask migrate`)."""
    import server.db.all_models  # noqa: F401  (every table on Base.metadata)
    from server.db.base import Base

    Base.metadata.create_all(app.extensions["wiring"].db.engine)
