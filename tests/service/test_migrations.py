"""The Alembic migrations build exactly the schema the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

import server.db.all_models  # noqa: F401
from server.cli import migrate
from server.db.base import Base


def test_migrations_match_the_models(tmp_path):
    url = f"sqlite+pysqlite:///{tmp_path / 'migrated.db'}"
    migrate(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []
