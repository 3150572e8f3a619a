"""Migration 0011_settle_lean replaces ec_settle by the lean one, and its downgrade puts back the
function of 0008; 0013_terminal_and_accounts gives ec_settle and ec_refund their terminal check, and
its downgrade puts back 0011's (PostgreSQL only: SQLite settles with the Python reference)."""

import os

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from server.cli import alembic_config, migrate
from tests.schemas import scratch_schema

pytestmark = pytest.mark.postgres

LEAN = "p_system_accounts integer[]"  # the lean function's last parameter
CHECKED = "p_check_terminal boolean"  # 0013's new parameter (both functions)


def _settle_functions(url: str, schema: str, name: str = "ec_settle") -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(
                conn.execute(
                    text(
                        "SELECT pg_get_function_identity_arguments(p.oid) FROM pg_proc p "
                        "JOIN pg_namespace n ON n.oid = p.pronamespace "
                        "WHERE p.proname = :name AND n.nspname = :schema"
                    ),
                    {"schema": schema, "name": name},
                ).scalars()
            )
    finally:
        engine.dispose()


def test_the_lean_settle_function_migrates_down_to_0008s_and_up_again() -> None:
    with scratch_schema(os.environ["DATABASE_URL"], "mig") as (url, schema):
        migrate(url)
        [checked] = _settle_functions(url, schema)
        assert checked.endswith(f"{LEAN}, {CHECKED}, p_accounts text")
        [refund] = _settle_functions(url, schema, "ec_refund")
        assert refund.endswith(f"p_request_id text, {CHECKED}")

        command.downgrade(alembic_config(url), "0012_merge")  # type: ignore[arg-type]
        [lean] = _settle_functions(url, schema)
        assert lean.endswith(LEAN)  # 0011's, without the terminal check
        [refund_0011] = _settle_functions(url, schema, "ec_refund")
        assert refund_0011.endswith("p_request_id text")

        command.downgrade(alembic_config(url), "0010_merge")  # type: ignore[arg-type]
        [before] = _settle_functions(url, schema)
        assert before.endswith("p_fixed bigint")  # 0008's, without the system accounts

        migrate(url)
        assert _settle_functions(url, schema) == [checked]
        assert _settle_functions(url, schema, "ec_refund") == [refund]
