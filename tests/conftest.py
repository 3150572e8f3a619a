"""Fixtures: a schema made by the real migrations, a unit of work rolled back per test, and apps.

As in pypi/warehouse's tests/conftest.py, the schema comes from `alembic upgrade heads`
(server.cli.migrate), once per run, never from `Base.metadata.create_all`:
- on SQLite a template file is migrated once; each app gets an in-memory copy of it (the sqlite3
  backup API, about a millisecond, where migrating costs a second);
- on PostgreSQL (DATABASE_URL) a schema of the run's own is migrated once (and dropped at the
  end); each app then empties its tables (TRUNCATE), since its requests commit for real.

Two ways in, one per layer of tests (docs/architecture.md, "Tests"):
- `uow` (service tests): a UnitOfWork on one connection whose outer transaction is rolled back
  after the test; the services' own `session.begin()` become SAVEPOINTs
  (`join_transaction_mode="create_savepoint"`), so they commit and roll back as in production
  and leave nothing behind. State is set up through services.
- `app`, `client`, `clerk` (API tests): `create_app({"TESTING": True})` on a migrated copy, with
  state set up through the actors of tests/actors.py.

With no environment the suite runs on in-memory SQLite and the database store. DATABASE_URL
(PostgreSQL) and REDIS_URL switch the same tests onto those back ends; tests marked `postgres` or
`redis` skip with a reason when theirs is absent, and fail instead when TEST_REQUIRE_SERVICES=1
(CI), so a missing service can never pass silently.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, Engine, event
from sqlalchemy.orm import Session, sessionmaker

from server import create_app
from server import jobs as tasks
from server.accounts.passwords import PasswordHasher
from server.benefits.policy import load_configured_policy
from server.cli import migrate
from server.clock import BEIJING, FrozenClock
from server.config import load_settings
from server.credentials.keys import MemoryKeySource
from server.db import make_engine
from server.ports.face import StubFaceVerifier
from server.ports.jobs import InlineJobs
from server.ports.sms import OutboxSmsSender
from server.ports.store import DatabaseStore
from server.settlement.rules import load_password_policy
from server.uow import UnitOfWork
from tests.actors import Clerk
from tests.schemas import scratch_schema

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


# --- the migrated schema, once per run ---------------------------------------------------------


@dataclass(frozen=True)
class MigratedDatabase:
    """The run's migrated database: its URL, and (SQLite) the template that apps copy."""

    url: str
    template: Path | None  # None on PostgreSQL: apps share the run's schema

    def app_config(self) -> tuple[dict[str, Any], contextlib.ExitStack]:
        """Settings that put a new app on a migrated schema, and what to close once it is made.

        SQLite: a fresh in-memory database filled from the template; the returned stack holds
        one connection to it until the app's own keeper connection is open.
        """
        stack = contextlib.ExitStack()
        if self.template is None:
            return {"DATABASE_URL": self.url}, stack
        name = f"ec-{secrets.token_hex(8)}"
        keeper = stack.enter_context(
            contextlib.closing(sqlite3.connect(f"file:{name}?mode=memory&cache=shared", uri=True))
        )
        with contextlib.closing(sqlite3.connect(self.template)) as template:
            template.backup(keeper)
        return {
            "DATABASE_URL": f"sqlite+pysqlite:///file:{name}?mode=memory&cache=shared&uri=true"
        }, stack

    def app(self, config: dict[str, Any]) -> Flask:
        """`create_app(config)` on a migrated schema (emptied, on PostgreSQL and Redis)."""
        extra, stack = self.app_config()
        with stack:
            # create_app's create_all finds every table there and adds none.
            app = create_app({**extra, **config})
        _empty_shared_state(app)
        return app


def _migrated_postgres_schema(base_url: str) -> Iterator[MigratedDatabase]:
    """A schema of the run's own, migrated, and dropped at the end (tests/schemas.py)."""
    with scratch_schema(base_url, "test_run") as (url, _schema):
        migrate(url)
        yield MigratedDatabase(url, None)


@pytest.fixture(scope="session")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MigratedDatabase]:
    if ON_POSTGRES:
        yield from _migrated_postgres_schema(DATABASE_URL)
        return
    template = tmp_path_factory.mktemp("schema") / "migrated.db"
    migrate(f"sqlite+pysqlite:///{template}")
    yield MigratedDatabase(f"sqlite+pysqlite:///{template}", template)


# --- service tests: one connection, rolled back ------------------------------------------------


@pytest.fixture(scope="session")
def engine(
    migrated: MigratedDatabase, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """The run's engine for service tests; every test's work on it is rolled back."""
    url = migrated.url
    if migrated.template is not None:  # a copy, so the template stays as the migrations left it
        copy = tmp_path_factory.mktemp("service") / "service.db"
        shutil.copyfile(migrated.template, copy)
        url = f"sqlite+pysqlite:///{copy}"
    engine = make_engine(url)
    if engine.dialect.name == "sqlite":
        # pysqlite's own transaction handling breaks SAVEPOINT; let SQLAlchemy emit BEGIN
        # (SQLAlchemy's SQLite dialect docs, "Serializable isolation / Savepoints").
        @event.listens_for(engine, "connect")
        def _no_driver_begin(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN")

    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """One connection in an outer transaction that is rolled back after the test."""
    with engine.connect() as conn:
        outer = conn.begin()
        try:
            yield conn
        finally:
            outer.rollback()


class _SameConnection:
    """An engine stand-in for DatabaseStore: its short transactions are SAVEPOINTs on the test's
    connection, so the store's rows are rolled back with everything else (and on SQLite it never
    waits for the lock that the test's own transaction holds)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self.dialect = conn.dialect

    @contextlib.contextmanager
    def begin(self) -> Iterator[Connection]:
        with self._conn.begin_nested():
            yield self._conn

    @contextlib.contextmanager
    def connect(self) -> Iterator[Connection]:
        yield self._conn


@pytest.fixture
def uow(connection: Connection, clock: FrozenClock) -> Iterator[UnitOfWork]:
    """A unit of work as the app would make it, on the rolled-back connection.

    A FrozenClock, an SMS outbox, the stub face, in-memory signing keys, and InlineJobs that run
    each task at once with a unit of work of its own (a second session on the same connection).
    """
    settings = load_settings(
        {
            "TESTING": True,
            "DATABASE_URL": str(connection.engine.url),
            "ADMIN_USERNAME": Clerk.ADMIN[0],
            "ADMIN_PASSWORD": Clerk.ADMIN[1],
        }
    )
    sessions = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )

    def run_job(task: str, kwargs: dict[str, Any]) -> None:
        with replace(unit, opened=sessions()) as job:
            tasks.run(job, task, kwargs)

    unit = UnitOfWork(
        opened=sessions(),
        sessions=sessions,
        clock=clock,
        store=DatabaseStore(_SameConnection(connection), clock),  # type: ignore[arg-type]
        hasher=PasswordHasher(
            settings.password_pepper,
            time_cost=settings.argon2_time_cost,
            memory_kib=settings.argon2_memory_kib,
        ),
        keys=MemoryKeySource(),
        sms=OutboxSmsSender(clock),
        face=StubFaceVerifier(),
        jobs=InlineJobs(run_job),
        password_policy=load_password_policy(settings.password_policy),
        policy=load_configured_policy(settings.policy_file),
        settings=settings,
        is_postgres=connection.dialect.name == "postgresql",
    )
    with unit:
        yield unit


@pytest.fixture
def session(uow: UnitOfWork) -> Session:
    return uow.session


# --- API tests: apps on migrated copies ---------------------------------------------------------


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Extra settings for a test's app: `@pytest.mark.parametrize("app_config", [{...}])`."""
    return {}


@pytest.fixture
def app(
    clock: FrozenClock, app_config: dict[str, Any], migrated: MigratedDatabase
) -> Iterator[Flask]:
    app = migrated.app(
        {
            "TESTING": True,
            "CLOCK": clock,
            "ADMIN_USERNAME": Clerk.ADMIN[0],
            "ADMIN_PASSWORD": Clerk.ADMIN[1],
            **app_config,
        }
    )
    yield app
    app.extensions["wiring"].close()


@pytest.fixture
def make_app(clock: FrozenClock, migrated: MigratedDatabase) -> Iterator[Any]:
    """Build extra apps with other settings (a broken Redis, an SMS gateway); disposed after.

    The caller empties shared state itself when it needs to (after the settings it wants).
    """
    made: list[Flask] = []

    def make(**config: Any) -> Flask:
        extra, stack = migrated.app_config()
        with stack:
            app = create_app({**extra, "TESTING": True, "CLOCK": clock, **config})
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
