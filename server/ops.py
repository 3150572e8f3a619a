"""Operations: liveness, readiness (database and short-lived store), the OpenAPI document.

DOMAIN.md: none: operations.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from server.errors import ServiceUnavailableError
from server.openapi import build_spec
from server.web.context import wiring

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz() -> dict[str, Any]:
    return {"status": "ok"}


@bp.get("/readyz")
def readyz() -> dict[str, Any]:
    w = wiring()
    try:
        with w.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        raise ServiceUnavailableError(
            "The database is not answering", dependency="database"
        ) from exc
    try:
        w.store.ping()
    except ServiceUnavailableError as exc:
        raise ServiceUnavailableError(
            "The short-lived store is not answering",
            dependency="redis" if w.settings.redis_url else "database",
        ) from exc
    return {"status": "ready", "store": "redis" if w.settings.redis_url else "database"}


@bp.get("/openapi.json")
def openapi() -> dict[str, Any]:
    spec = current_app.extensions.get("openapi")
    if spec is None:
        spec = current_app.extensions["openapi"] = build_spec(current_app)
    return dict(spec)
