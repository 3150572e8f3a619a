"""Fixtures: an app per test on a fresh database, a frozen clock, and the actors.

With no environment the suite runs on in-memory SQLite and the database store. DATABASE_URL
(PostgreSQL) and REDIS_URL switch the same tests onto those back ends; tests marked `postgres` or
`redis` skip with a reason when theirs is absent, and fail instead when TEST_REQUIRE_SERVICES=1
(CI), so a missing service can never pass silently.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server import create_app
from server.clock import BEIJING, FrozenClock
from tests.actors import Clerk

DATABASE_URL = os.environ.get("DATABASE_URL", "")
REDIS_URL = os.environ.get("REDIS_URL", "")
ON_POSTGRES = DATABASE_URL.startswith("postgresql")
REQUIRE = os.environ.get("TEST_REQUIRE_SERVICES") == "1"

# Tuesday 2026-11-24, 10:00 in Beijing.
START = datetime(2026, 11, 24, 10, 0, tzinfo=BEIJING)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("postgres") and not ON_POSTGRES:
            reason = "needs PostgreSQL: set DATABASE_URL=postgresql+psycopg://..."
            item.add_marker(
                pytest.mark.xfail(reason=reason, run=False, strict=True)
                if REQUIRE
                else pytest.mark.skip(reason=reason)
            )
        if item.get_closest_marker("redis") and not REDIS_URL:
            reason = "needs Redis: set REDIS_URL=redis://..."
            item.add_marker(
                pytest.mark.xfail(reason=reason, run=False, strict=True)
                if REQUIRE
                else pytest.mark.skip(reason=reason)
            )


@pytest.fixture(scope="session")
def _fresh_postgres_schema() -> Iterator[None]:
    """Drop and recreate every table once per run, so a changed model never meets old tables."""
    if ON_POSTGRES:
        from sqlalchemy import create_engine

        import server.db.all_models  # noqa: F401
        from server.db.base import Base

        engine = create_engine(DATABASE_URL)
        Base.metadata.drop_all(engine)
        Base.metadata.create_all(engine)
        engine.dispose()
    yield


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Extra settings for a test's app: `@pytest.mark.parametrize("app_config", [{...}])`."""
    return {}


@pytest.fixture
def app(
    clock: FrozenClock, app_config: dict[str, Any], _fresh_postgres_schema: None
) -> Iterator[Flask]:
    app = create_app(
        {
            "TESTING": True,
            "CLOCK": clock,
            "ADMIN_USERNAME": Clerk.ADMIN[0],
            "ADMIN_PASSWORD": Clerk.ADMIN[1],
            **app_config,
        }
    )
    _empty_shared_state(app)
    yield app
    app.extensions["wiring"].close()


@pytest.fixture
def make_app(clock: FrozenClock, _fresh_postgres_schema: None) -> Iterator[Any]:
    """Build extra apps with other settings (a broken Redis, an SMS gateway); disposed after."""
    made: list[Flask] = []

    def make(**config: Any) -> Flask:
        app = create_app({"TESTING": True, "CLOCK": clock, **config})
        made.append(app)
        return app

    yield make
    for app in made:
        app.extensions["wiring"].close()


def _empty_shared_state(app: Flask) -> None:
    db = app.extensions["wiring"].db
    if db.is_postgres:
        from server.db.base import Base

        names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with db.engine.begin() as conn:
            conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    if REDIS_URL:
        import redis

        with redis.Redis.from_url(REDIS_URL) as client:
            client.flushdb()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def clerk(app: Flask, client: FlaskClient) -> Clerk:
    return Clerk.signed_in(client)
