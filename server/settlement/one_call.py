"""A settlement on PostgreSQL in one round trip: the PL/pgSQL function `ec_settle`.

Issue 14. The function holds the rules of the Python reference (service.py, pricing.py,
fund.py, rules.py) in the same order: the terminal's own row (for the terminal API, whose token
check leaves a revoked terminal to the call: TOKEN_REVOKED before anything else, 0013), the
order check, who pays (scan token or card), the
fund's share (the rule's parameters are picked in Python and passed in; the function applies
them to the person's locked year with the same integer half-up arithmetic), the mutual-aid
sources, every account locked in one statement in ascending id order, the password decision,
then the journal, the balances, the settlement row, the year and the audit row. Called as one
statement in autocommit, it is one round trip and one transaction. The system accounts' ids go
in from the ledger's per-engine memory (ledger.known_system_accounts); on an engine's first
settlement they are found or made inside and come back in the answer, to be remembered.

The password is never checked inside: when it is needed and not yet verified the function
returns `{"password_needed": true, ...}` having written nothing (the scan token and the year
are only locked, not yet changed), exactly where the reference raises `_PasswordNeeded`.
A refusal is `RAISE` with the contract code as the message, a human message as the hint and
the `reason` as the detail. tests/service/test_settle_one_call.py drives both paths with the
same random bills, families and balances and compares every row they write.

DOMAIN.md: "The personal account and who pays what", "When a password is needed".
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine

from server.benefits.engine import benefit_year
from server.benefits.policy import FixedAmountRule, Policy, PooledRule
from server.errors import OutcomeUnknownError, ServiceUnavailableError
from server.ledger import service as ledger
from server.settlement import fund, plpgsql
from server.settlement.rules import AccountUse, Medium, PasswordPolicy, Scene

# The SQL text of `ec_settle` and its helpers lives beside this module, in ec_settle.sql: each
# statement starts at its `-- statement: <name>` line and ends at the `$fn$` line closing it.
_STATEMENTS = plpgsql.statements(Path(__file__).with_name("ec_settle.sql"))

MASK_NAME_FUNCTION = _STATEMENTS["ec_mask_name"]
SYSTEM_ACCOUNT_FUNCTION = _STATEMENTS["ec_system_account"]
SETTLE_FUNCTION = _STATEMENTS["ec_settle"]

INSTALL = (MASK_NAME_FUNCTION, SYSTEM_ACCOUNT_FUNCTION, SETTLE_FUNCTION)
# ec_settle as 0008_settle_function made it, before 0011_settle_lean added p_system_accounts.
SETTLE_0008_SIGNATURE = (
    "ec_settle(text, int, text, text, text, text, text, text, text, bigint, bigint, timestamptz, "
    "text, text, int, text, text, text, int, bigint, bigint, int, bigint, bigint)"
)
# ec_settle as 0011_settle_lean made it, before 0013_terminal_and_accounts added
# p_check_terminal and p_accounts.
SETTLE_0011_SIGNATURE = SETTLE_0008_SIGNATURE.replace("bigint, bigint)", "bigint, bigint, int[])")
SETTLE_SIGNATURE = SETTLE_0011_SIGNATURE.replace("int[])", "int[], boolean, text)")
UNINSTALL = (
    f"DROP FUNCTION IF EXISTS {SETTLE_SIGNATURE}",
    f"DROP FUNCTION IF EXISTS {SETTLE_0011_SIGNATURE}",
    f"DROP FUNCTION IF EXISTS {SETTLE_0008_SIGNATURE}",
    "DROP FUNCTION IF EXISTS ec_system_account(text, text, int, timestamptz)",
    "DROP FUNCTION IF EXISTS ec_mask_name(text)",
)


_CALL = (
    "SELECT ec_settle(%(id)s::text, %(institution_id)s::int, %(terminal_id)s::text, "
    "%(order_no)s::text, %(digest)s::text, %(scene)s::text, %(medium)s::text, "
    "%(token_hash)s::text, %(card_no)s::text, %(total_fen)s::bigint, %(fund_fen)s::bigint, "
    "%(now)s::timestamptz, %(request_id)s::text, %(password_rule)s::text, "
    "%(verified_account)s::int, %(rule_kind)s::text, %(rule_name)s::text, %(pool)s::text, "
    "%(year)s::int, %(eligible_fen)s::bigint, %(deductible_fen)s::bigint, "
    "%(ratio_bp)s::int, %(cap_fen)s::bigint, %(fixed_fen)s::bigint, "
    "%(system_accounts)s::int[], %(check_terminal)s::boolean, %(accounts)s::text)"
)
# Only when the server computes the fund's share: whose bill it is (the rule depends on the
# person and the institution's level), whether the order number is taken (then the call
# replays, whatever the rule), whether the terminal is refused (then the call refuses it, and
# no rule is looked up: a revoked terminal learns nothing of the bill). A second round trip, in
# autocommit, before the call.
_WHO = """
SELECT i.level, p.insurance_type, p.person_type,
       EXISTS (SELECT 1 FROM settlements s
                WHERE s.institution_id = i.id AND s.order_no = %(order_no)s::text),
       NOT %(check_terminal)s::boolean
       OR EXISTS (SELECT 1 FROM terminals t
                   WHERE t.id = %(terminal_id)s::text AND t.revoked_at IS NULL)
  FROM institutions i
  LEFT JOIN persons p ON p.id = CASE WHEN %(medium)s::text = 'ecredential'
       THEN (SELECT t.person_id FROM scan_tokens t
              WHERE t.token_hash = %(token_hash)s::text AND t.institution_id = i.id
                AND t.used_at IS NULL AND t.expires_at > %(now)s::timestamptz)
       ELSE (SELECT c.person_id FROM cards c
              WHERE c.card_no = %(card_no)s::text AND c.status = 'active') END
 WHERE i.id = %(institution_id)s::int
"""


class OrderTaken(Exception):  # noqa: N818 (a signal, as an IntegrityError is for the reference)
    """The unique (institution, order_no) key refused the insert: a racing twin settled it."""


@dataclass(frozen=True)
class Bill:
    """One settlement's request, as the function takes it (amounts already checked)."""

    settlement_id: str
    institution_id: int
    terminal_id: str
    order_no: str
    digest: str
    scene: Scene
    medium: Medium
    scan_token: str | None
    card_no: str | None
    total_fen: int
    fund_fen: int | None
    eligible_fen: int
    now: datetime
    request_id: str | None
    # Refuse a revoked or unknown terminal from its row (TOKEN_REVOKED), first of all: the
    # terminal API's settlements; the HIS interface's terminal has no row.
    check_terminal: bool = False
    accounts: AccountUse = AccountUse.ALL  # which accounts may pay the burden


def settle(
    engine: Engine,
    *,
    bill: Bill,
    policy: Policy,
    password_policy: PasswordPolicy,
    verified_account: int | None,
) -> dict[str, Any]:
    """Run `ec_settle` once (one round trip; two when the fund's share is computed); its answer.

    The answer is `{"replayed": true, "id", "request_digest"}`, `{"password_needed": true,
    "account_id", "password_hash"}`, or the settlement written. Raises the AppError the
    function names, OrderTaken, ServiceUnavailableError (the database is gone, or it refused
    the call: nothing was done), OutcomeUnknownError (the connection died while the call ran: it
    may have committed); a deadlock or a serialization failure is retried whole.
    """
    token_hash = (
        hashlib.sha256(bill.scan_token.encode("utf-8")).hexdigest() if bill.scan_token else None
    )
    system_codes = (ledger.FUND, ledger.EXTERNAL, f"institution:{bill.institution_id}")
    params: dict[str, Any] = {
        "id": bill.settlement_id,
        "institution_id": bill.institution_id,
        "terminal_id": bill.terminal_id,
        "order_no": bill.order_no,
        "digest": bill.digest,
        "scene": bill.scene.value,
        "medium": bill.medium.value,
        "token_hash": token_hash,
        "card_no": bill.card_no,
        "total_fen": bill.total_fen,
        "fund_fen": bill.fund_fen,
        "now": bill.now,
        "request_id": bill.request_id,
        "password_rule": password_policy.rule(bill.scene, bill.medium).value,
        "verified_account": verified_account,
        "eligible_fen": bill.eligible_fen,
        "rule_kind": None,
        "rule_name": None,
        "pool": None,
        "year": None,
        "deductible_fen": None,
        "ratio_bp": None,
        "cap_fen": None,
        "fixed_fen": None,
        "system_accounts": _array_literal(ledger.known_system_accounts(engine, system_codes)),
        "check_terminal": bill.check_terminal,
        "accounts": bill.accounts.value,
    }
    for attempt in range(1, 6):
        sent = False
        try:
            with plpgsql.autocommit(engine) as conn:
                if bill.fund_fen is None:
                    params.update(_rule_params(conn, params, policy, bill))
                sent = True
                row = conn.execute(_CALL, params).fetchone()
                assert row is not None
                answer: dict[str, Any] = row[0]
            made = answer.pop("system_accounts", None)
            if made is not None:  # committed: found or made by this call
                ledger.remember_system_accounts(engine, dict(zip(system_codes, made, strict=True)))
            return answer
        except psycopg.errors.RaiseException as exc:
            raise plpgsql.app_error(exc, "ec_settle") from None
        except psycopg.errors.UniqueViolation as exc:
            if exc.diag.table_name == "settlements":
                raise OrderTaken() from None
            raise
        except plpgsql.RETRYABLE:
            if attempt == 5:
                raise ServiceUnavailableError() from None
            time.sleep(0.005 * attempt)  # as run_in_transaction backs off
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            # Before the call nothing was done, nor when the server refused it (a statement or
            # lock timeout, a cancel: it answered, the call rolled back); a connection that died
            # during it may have committed before the answer was lost: the till repeats the
            # same order_no.
            lost = sent and plpgsql.connection_lost(exc)
            raise (OutcomeUnknownError() if lost else ServiceUnavailableError()) from exc
    raise AssertionError("unreachable")


def _array_literal(ids: list[int] | None) -> str | None:
    """`ids` as PostgreSQL's array text (`{1,2,3}`), which the call casts to int[]: psycopg's
    adaptation of a Python list (finding the element type, every call) cost a fifth of the
    call's parameter handling, about 15 us (issue 14)."""
    return None if ids is None else "{" + ",".join(map(str, ids)) + "}"


def _rule_params(
    conn: psycopg.Connection[Any], params: dict[str, Any], policy: Policy, bill: Bill
) -> dict[str, Any]:
    """The policy rule's parameters for this bill's person (empty when the call will refuse or
    replay before it needs them). Raises InvalidAmountError (`no_benefit_rule`)."""
    row = conn.execute(_WHO, params).fetchone()
    if row is None:
        raise ValueError(f"no institution {bill.institution_id}")
    level, insurance_type, person_type, order_taken, terminal_live = row
    if order_taken or insurance_type is None or not terminal_live:
        return {}
    rule = fund.rule_of(
        policy,
        insurance_type=insurance_type,
        person_type=person_type,
        level=level,
        scene=bill.scene,
        now=bill.now,
    )
    if isinstance(rule, FixedAmountRule):
        return {"rule_kind": "fixed", "rule_name": rule.name, "fixed_fen": rule.fixed_fen}
    assert isinstance(rule, PooledRule)
    return {
        "rule_kind": "pooled",
        "rule_name": rule.name,
        "pool": rule.pool,
        "year": benefit_year(bill.now),
        "deductible_fen": rule.deductible_fen,
        "ratio_bp": rule.ratio_bp,
        "cap_fen": rule.cap_fen,
    }
