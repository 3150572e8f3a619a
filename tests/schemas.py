"""A PostgreSQL schema of a test's own: made, handed over as a URL whose sessions use it, dropped.

Runs that share a database (other checkouts, CI jobs) never drop, migrate or empty each other's
tables. Used by the run's migrated schema (conftest.py) and by the migration tests, which migrate
a schema of their own up and down.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine


@contextmanager
def scratch_schema(base_url: str, prefix: str) -> Iterator[tuple[str, str]]:
    """(url, schema): `url` is `base_url` with the new schema as its search_path."""
    schema = f"{prefix}_{secrets.token_hex(4)}"
    admin = create_engine(base_url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in base_url else "?"
    try:
        yield f"{base_url}{sep}options=-csearch_path%3D{schema}", schema
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()
