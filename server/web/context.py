"""The request's view of the wiring: `wiring()`, `uow()` (one per request), closed at teardown.

DOMAIN.md: none: web glue.
"""

from __future__ import annotations

from flask import Flask, current_app, g

from server.uow import UnitOfWork
from server.wiring import Wiring


def init_app(app: Flask, w: Wiring) -> None:
    app.extensions["wiring"] = w

    @app.teardown_appcontext
    def _close(_exc: BaseException | None) -> None:
        unit: UnitOfWork | None = g.pop("uow", None)
        if unit is not None:
            unit.close()


def wiring() -> Wiring:
    w: Wiring = current_app.extensions["wiring"]
    return w


def uow() -> UnitOfWork:
    """The request's unit of work (its session opens on first use, closes with the request)."""
    if "uow" not in g:
        g.uow = wiring().unit_of_work()
    unit: UnitOfWork = g.uow
    return unit
