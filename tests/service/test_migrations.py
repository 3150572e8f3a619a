"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

import server.db.all_models  # noqa: F401
from server.cli import migrate
from server.db.base import Base
from tests.schemas import scratch_schema


def _differences(url: str) -> list[object]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(compare_metadata(MigrationContext.configure(conn), Base.metadata))
    finally:
        engine.dispose()


def test_migrations_match_the_models_on_sqlite(tmp_path):
    url = f"sqlite+pysqlite:///{tmp_path / 'migrated.db'}"
    migrate(url)
    assert _differences(url) == []


@pytest.mark.postgres
def test_migrations_match_the_models_on_postgres():
    """Migrated into a schema of its own, so the suite's tables are untouched."""
    with scratch_schema(os.environ["DATABASE_URL"], "mig") as (url, _schema):
        migrate(url)
        assert _differences(url) == []
