"""Migration 0014_settle_writes: ec_settle moves the balances through the primary key, the
journal's account indexes leave out the other kind of account, three unread indexes go, and scan
tokens keep room for their one update; its downgrade puts back 0013's function, indexes and
storage (PostgreSQL: the function and the storage parameter are PostgreSQL's alone)."""

import os

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from server.cli import alembic_config, migrate
from tests.schemas import scratch_schema

pytestmark = pytest.mark.postgres


def _schema_state(url: str, schema: str) -> dict[str, object]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            indexes = dict(
                conn.execute(
                    text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = :schema"),
                    {"schema": schema},
                ).all()
            )
            body = conn.execute(
                text(
                    "SELECT p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
                    " WHERE p.proname = 'ec_settle' AND n.nspname = :schema"
                ),
                {"schema": schema},
            ).scalar_one()
            options = conn.execute(
                text(
                    "SELECT c.reloptions FROM pg_class c"
                    " JOIN pg_namespace n ON n.oid = c.relnamespace"
                    " WHERE c.relname = 'scan_tokens' AND n.nspname = :schema"
                ),
                {"schema": schema},
            ).scalar_one()
    finally:
        engine.dispose()
    return {"indexes": indexes, "body": body, "options": options}


def test_the_settlement_writes_migrate_down_to_0013s_and_up_again() -> None:
    with scratch_schema(os.environ["DATABASE_URL"], "mig") as (url, schema):
        migrate(url)
        now = _schema_state(url, schema)
        indexes = now["indexes"]
        assert isinstance(indexes, dict)
        assert indexes["ix_journal_entries_account_id_id"].endswith(
            "(account_id, id) WHERE (account_id IS NOT NULL)"
        )
        assert indexes["ix_journal_entries_system_account_id"].endswith(
            "(system_account_id) WHERE (system_account_id IS NOT NULL)"
        )
        assert "ix_journal_transactions_kind" not in indexes
        assert "ix_journal_transactions_reference" not in indexes
        assert "ix_audit_events_action" not in indexes
        assert "WHERE a.id = ANY (v_leg_ids)" in str(now["body"])
        assert now["options"] == ["fillfactor=90"]

        command.downgrade(alembic_config(url), "0013_terminal_and_accounts")  # type: ignore[arg-type]
        before = _schema_state(url, schema)
        indexes = before["indexes"]
        assert isinstance(indexes, dict)
        assert indexes["ix_journal_entries_account_id_id"].endswith("(account_id, id)")
        assert indexes["ix_journal_entries_system_account_id"].endswith("(system_account_id)")
        assert "ix_journal_transactions_kind" in indexes
        assert "ix_journal_transactions_reference" in indexes
        assert "ix_audit_events_action" in indexes
        assert "FROM unnest(v_leg_ids, v_leg_amts)" in str(before["body"])
        assert before["options"] is None

        migrate(url)
        assert _schema_state(url, schema) == now
