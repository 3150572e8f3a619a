"""A refund on PostgreSQL in one round trip: the PL/pgSQL function `ec_refund`.

Issue 14. The function (ec_refund.sql) holds the rules of the Python reference (refunds.py) in
the same order: the settlement locked, the already-refunded check, the benefit year's recorded
delta taken off (before the accounts, in the order a settlement locks them), the accounts locked
in ascending id order, the reversing journal transaction (every fen back to the account it came
from), the refund row and the audit row. Called as one statement in autocommit, it is one round
trip and one transaction. tests/service/test_settle_one_call.py drives both paths with the same
random worlds and compares every row they write; tests/service/test_refund_call.py counts the
round trips and races many refunds of one settlement.

A refusal is `RAISE` with the contract code as the message (NOT_FOUND, ALREADY_REFUNDED); a
second refund that lost the race on the unique refund row (or the unique `reverses_id` link)
is ALREADY_REFUNDED too, as in the reference.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import psycopg
from sqlalchemy import DDL, Engine, Table, event

from server.db.types import UtcDateTime
from server.errors import AlreadyRefundedError, OutcomeUnknownError, ServiceUnavailableError
from server.settlement import plpgsql
from server.settlement.models import Settlement, SettlementRefund

_STATEMENTS = plpgsql.statements(Path(__file__).with_name("ec_refund.sql"))
REFUND_FUNCTION = _STATEMENTS["ec_refund"]

INSTALL = (REFUND_FUNCTION,)
# ec_refund as 0011_refund_function made it, before 0013_terminal_and_accounts added
# p_check_terminal.
REFUND_0011_SIGNATURE = "ec_refund(text, int, text, timestamptz, text)"
REFUND_SIGNATURE = "ec_refund(text, int, text, timestamptz, text, boolean)"
UNINSTALL = (
    f"DROP FUNCTION IF EXISTS {REFUND_SIGNATURE}",
    f"DROP FUNCTION IF EXISTS {REFUND_0011_SIGNATURE}",
)

_CALL = (
    "SELECT ec_refund(%(settlement_id)s::text, %(institution_id)s::int, %(terminal_id)s::text, "
    "%(now)s::timestamptz, %(request_id)s::text, %(check_terminal)s::boolean)"
)
_SETTLEMENT_COLUMNS = cast(Table, Settlement.__table__).c

# A schema made by create_all (the tests' apps, a playground) gets the function too, as the
# migration 0011_refund_function installs it: after every create_all, also one that finds the
# tables already there and creates none (CREATE OR REPLACE), so such a schema made before this
# function existed gets it as well.
for _sql in INSTALL:
    event.listen(
        Settlement.metadata,
        "after_create",
        # DDL formats its text with %, so any % sign would be doubled (there is none).
        DDL(_sql.replace("%", "%%")).execute_if(dialect="postgresql"),  # type: ignore[no-untyped-call]
    )


def refund(
    engine: Engine,
    *,
    settlement_id: str,
    institution_id: int,
    terminal_id: str,
    now: datetime,
    request_id: str | None,
    check_terminal: bool = False,
) -> tuple[Settlement, SettlementRefund]:
    """Run `ec_refund` once (one round trip): the settlement and its refund row.

    `check_terminal`: the terminal's row is read first, and a revoked or unknown terminal is
    refused with TokenRevokedError (the terminal API; the HIS interface's terminal has no row).
    Raises NotFoundError, AlreadyRefundedError, ServiceUnavailableError (the database is gone, or
    it refused the statement: nothing was done), OutcomeUnknownError (the connection died while
    the call ran: it may have committed). A deadlock or a serialization failure is retried whole.
    """
    params: dict[str, Any] = {
        "settlement_id": settlement_id,
        "institution_id": institution_id,
        "terminal_id": terminal_id,
        "now": now,
        "request_id": request_id,
        "check_terminal": check_terminal,
    }
    for attempt in range(1, 6):
        sent = False
        try:
            with plpgsql.autocommit(engine) as conn:
                sent = True
                row = conn.execute(_CALL, params).fetchone()
                assert row is not None
                answer: dict[str, Any] = row[0]
        except psycopg.errors.RaiseException as exc:
            raise plpgsql.app_error(exc, "ec_refund") from None
        except psycopg.errors.UniqueViolation:
            # The unique refund row or reversal link: a racing refund committed first.
            raise AlreadyRefundedError() from None
        except plpgsql.RETRYABLE:
            if attempt == 5:
                raise ServiceUnavailableError() from None
            time.sleep(0.005 * attempt)  # as run_in_transaction backs off
            continue
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            # Before the call nothing was done, nor when the server refused it; a connection
            # that died during it may have committed before the answer was lost.
            lost = sent and plpgsql.connection_lost(exc)
            raise (OutcomeUnknownError() if lost else ServiceUnavailableError()) from exc
        settlement = _settlement(answer["settlement"])
        done = SettlementRefund(
            id=int(answer["refund_id"]),
            settlement_id=settlement_id,
            institution_id=institution_id,
            terminal_id=terminal_id,
            amount_fen=settlement.total_fen,
            transaction_id=int(answer["transaction_id"]),
            refunded_at=now,
        )
        return settlement, done
    raise AssertionError("unreachable")


def _settlement(row: dict[str, Any]) -> Settlement:
    """The settlement row as the function read it (JSON), with its datetimes back in UTC."""
    values: dict[str, Any] = {}
    for column in _SETTLEMENT_COLUMNS:
        value = row[column.name]
        if isinstance(column.type, UtcDateTime) and value is not None:
            value = datetime.fromisoformat(value).astimezone(UTC)
        values[column.key] = value
    return Settlement(**values)
