"""A settlement on PostgreSQL in one round trip: the PL/pgSQL function `ec_settle`.

Issue 14. The function holds the rules of the Python reference (service.py, pricing.py,
fund.py, rules.py) in the same order: the order check, who pays (scan token or card), the
fund's share (the rule's parameters are picked in Python and passed in; the function applies
them to the person's locked year with the same integer half-up arithmetic), the mutual-aid
sources, every account locked in one statement in ascending id order, the password decision,
then the scan token, the journal, the balances, the settlement row, the year and the audit row.
Called as one statement in autocommit, it is one round trip and one transaction.

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
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy import Engine

from server.benefits.engine import benefit_year
from server.benefits.policy import FixedAmountRule, Policy, PooledRule
from server.errors import (
    AppError,
    OutcomeUnknownError,
    ServiceUnavailableError,
    all_error_classes,
)
from server.settlement import fund
from server.settlement.rules import Medium, PasswordPolicy, Scene

# A new year row is inserted only when the settlement is written (a first visit that needs a
# password must leave nothing behind); a racing first visit that inserted it meanwhile makes
# this one retry whole (40001), so both add their delta to the committed values.
SETTLE_FUNCTION = r"""
CREATE OR REPLACE FUNCTION ec_settle(
    p_id text, p_institution_id int, p_terminal_id text, p_order_no text, p_digest text,
    p_scene text, p_medium text, p_token_hash text, p_card_no text,
    p_total bigint, p_fund bigint, p_now timestamptz, p_request_id text,
    p_password_rule text, p_verified_account int,
    p_rule_kind text, p_rule_name text, p_pool text, p_year int, p_eligible bigint,
    p_deductible bigint, p_ratio_bp int, p_cap bigint, p_fixed bigint
) RETURNS json LANGUAGE plpgsql AS $fn$
DECLARE
    v_actor text := 'terminal:' || p_terminal_id;
    v_found record;
    v_person int;
    v_presented int;
    v_card_status text;
    v_fund bigint := p_fund;
    v_detail json := 'null'::json;
    v_pool text;
    v_year int;
    v_used bigint := 0;
    v_paid bigint := 0;
    v_year_exists boolean := false;
    v_applied bigint := 0;
    v_cap_left bigint;
    v_burden bigint;
    v_src_ids int[] := '{}';
    v_src_rel text[] := '{}';
    v_src_masked text[] := '{}';
    v_row record;
    v_own_id int;
    v_own_hash text;
    v_own_limit bigint;
    v_own_masked text;
    v_bal_ids int[] := '{}';
    v_bals bigint[] := '{}';
    v_needs boolean;
    v_missing bigint;
    v_amount bigint;
    v_leg_ids int[] := '{}';
    v_leg_amts bigint[] := '{}';
    v_legs json;
    v_own_fen bigint := 0;
    v_accounts_fen bigint := 0;
    v_cash bigint;
    v_fund_acc int;
    v_ext_acc int;
    v_inst_acc int;
    v_tx bigint;
    v_after bigint;
    v_e_acc int[] := '{}';
    v_e_amt bigint[] := '{}';
    v_e_kind text[] := '{}';
    v_e_after bigint[] := '{}';
    i int;
BEGIN
    -- 1. The order check first: a retry answers the first outcome.
    SELECT id, request_digest INTO v_found FROM settlements
     WHERE institution_id = p_institution_id AND order_no = p_order_no;
    IF FOUND THEN
        RETURN json_build_object('replayed', true, 'id', v_found.id,
                                 'request_digest', v_found.request_digest);
    END IF;

    -- 2. Who pays: the scan token (locked; used up only when written) or the card.
    IF p_medium = 'ecredential' THEN
        SELECT person_id, presented_by_user_id INTO v_person, v_presented FROM scan_tokens
         WHERE token_hash = p_token_hash AND institution_id = p_institution_id
           AND used_at IS NULL AND expires_at > p_now
           FOR UPDATE;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'SCAN_TOKEN_INVALID';
        END IF;
    ELSE
        SELECT person_id, status INTO v_person, v_card_status FROM cards WHERE card_no = p_card_no;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'NOT_FOUND' USING HINT = 'No card with this number';
        END IF;
        IF v_card_status <> 'active' THEN
            RAISE EXCEPTION 'CARD_REPORTED_LOST';
        END IF;
    END IF;

    -- 3. The fund's share: the terminal's, or the policy rule's applied to the locked year.
    IF v_fund IS NULL THEN
        IF p_rule_kind = 'fixed' THEN
            v_fund := least(p_fixed, p_eligible);
            v_detail := json_build_object(
                'rule', p_rule_name, 'pool', NULL, 'eligible_fen', p_eligible,
                'deductible_applied_fen', 0, 'ratio_bp', NULL, 'fixed_fen', p_fixed,
                'cap_left_fen', NULL);
        ELSIF p_rule_kind = 'pooled' THEN
            v_pool := p_pool;
            v_year := p_year;
            SELECT deductible_used_fen, fund_paid_fen INTO v_used, v_paid FROM benefit_years
             WHERE person_id = v_person AND pool = p_pool AND year = p_year FOR UPDATE;
            v_year_exists := FOUND;
            IF NOT v_year_exists THEN
                v_used := 0;
                v_paid := 0;
            END IF;
            v_applied := least(p_eligible, greatest(0, p_deductible - v_used));
            v_fund := ((p_eligible - v_applied) * p_ratio_bp + 5000) / 10000;
            IF p_cap IS NOT NULL THEN
                v_cap_left := greatest(0, p_cap - v_paid);
                v_fund := least(v_fund, v_cap_left);
                v_cap_left := v_cap_left - v_fund;
            END IF;
            v_detail := json_build_object(
                'rule', p_rule_name, 'pool', p_pool, 'eligible_fen', p_eligible,
                'deductible_applied_fen', v_applied, 'ratio_bp', p_ratio_bp, 'fixed_fen', NULL,
                'cap_left_fen', v_cap_left);
        ELSE
            RAISE EXCEPTION 'ec_settle: no fund_fen and no benefit rule';
        END IF;
        IF p_scene = 'pharmacy_self_purchase' AND v_fund <> 0 THEN
            RAISE EXCEPTION 'INVALID_AMOUNT'
                USING HINT = 'The fund pays nothing for a pharmacy self purchase',
                      DETAIL = 'no_fund_share_for_scene';
        END IF;
    END IF;
    v_burden := p_total - v_fund;

    -- 4. The mutual-aid sources in the beneficiary's order (only when there is a burden).
    IF v_burden > 0 THEN
        FOR v_row IN
            SELECT a.id, f.relation, p.name FROM mutual_aid_filings f
              JOIN persons p ON p.id = f.holder_person_id
              JOIN accounts a ON a.person_id = f.holder_person_id
             WHERE f.beneficiary_person_id = v_person AND f.effective_at <= p_now
               AND (f.withdrawn_at IS NULL OR f.withdrawn_at > p_now)
             ORDER BY f.position, f.filed_at, f.id
        LOOP
            v_src_ids := v_src_ids || v_row.id;
            -- what the holder is to the beneficiary (mutual_aid.rules.holder_relation)
            v_src_rel := v_src_rel || CASE v_row.relation WHEN 'parent' THEN 'child'
                                      WHEN 'child' THEN 'parent' ELSE v_row.relation END;
            v_src_masked := v_src_masked || ec_mask_name(v_row.name);
        END LOOP;
    END IF;

    -- 5. Every account that may pay, locked in one statement in ascending id order.
    FOR v_row IN
        SELECT a.id, a.person_id, a.balance_fen, a.password_hash, a.password_free_limit_fen,
               p.name
          FROM accounts a JOIN persons p ON p.id = a.person_id
         WHERE a.person_id = v_person OR a.id = ANY (v_src_ids)
         ORDER BY a.id
           FOR UPDATE OF a
    LOOP
        IF v_own_id IS NULL AND v_row.person_id = v_person THEN
            v_own_id := v_row.id;
            v_own_hash := v_row.password_hash;
            v_own_limit := v_row.password_free_limit_fen;
            v_own_masked := ec_mask_name(v_row.name);
        END IF;
        v_bal_ids := v_bal_ids || v_row.id;
        v_bals := v_bals || v_row.balance_fen;
    END LOOP;
    IF v_own_id IS NULL THEN
        RAISE EXCEPTION 'NOT_FOUND' USING HINT = 'This insured person has no personal account';
    END IF;

    -- 6. The password table decides; the password itself is checked outside, in Python.
    v_needs := v_burden > 0 AND (p_password_rule = 'always'
               OR (p_password_rule = 'over_limit' AND v_burden > v_own_limit));
    IF v_needs AND p_verified_account IS DISTINCT FROM v_own_id THEN
        RETURN json_build_object('password_needed', true, 'account_id', v_own_id,
                                 'password_hash', v_own_hash);
    END IF;

    -- 7. Own account, then the sources in order, each up to its balance; the rest is cash.
    v_missing := v_burden;
    v_amount := least(v_missing, v_bals[array_position(v_bal_ids, v_own_id)]);
    IF v_amount > 0 THEN
        v_leg_ids := v_leg_ids || v_own_id;
        v_leg_amts := v_leg_amts || v_amount;
        v_missing := v_missing - v_amount;
        v_own_fen := v_amount;
    END IF;
    FOR i IN 1 .. coalesce(array_length(v_src_ids, 1), 0) LOOP
        EXIT WHEN v_missing = 0;
        CONTINUE WHEN v_src_ids[i] = v_own_id;
        v_amount := least(v_missing, v_bals[array_position(v_bal_ids, v_src_ids[i])]);
        IF v_amount > 0 THEN
            v_leg_ids := v_leg_ids || v_src_ids[i];
            v_leg_amts := v_leg_amts || v_amount;
            v_missing := v_missing - v_amount;
        END IF;
    END LOOP;
    v_cash := v_missing;
    v_accounts_fen := v_burden - v_cash;
    SELECT coalesce(json_agg(json_build_object(
               'account_id', l.id,
               'source', CASE WHEN l.id = v_own_id THEN 'self'
                              ELSE v_src_rel[array_position(v_src_ids, l.id)] END,
               'holder_masked', CASE WHEN l.id = v_own_id THEN v_own_masked
                                     ELSE v_src_masked[array_position(v_src_ids, l.id)] END,
               'amount_fen', l.amount) ORDER BY l.n), '[]'::json)
      INTO v_legs
      FROM unnest(v_leg_ids, v_leg_amts) WITH ORDINALITY AS l (id, amount, n);

    -- 8. Write: the scan token, the journal and balances, the settlement, the year, the audit.
    IF p_medium = 'ecredential' THEN
        UPDATE scan_tokens SET used_at = p_now WHERE token_hash = p_token_hash;
    END IF;
    v_fund_acc := ec_system_account('fund', 'fund', NULL, p_now);
    v_ext_acc := ec_system_account('external', 'external', NULL, p_now);
    v_inst_acc := ec_system_account('institution', 'institution:' || p_institution_id,
                                    p_institution_id, p_now);
    INSERT INTO journal_transactions (kind, business_at, recorded_at, actor, request_id,
                                      reference, reverses_id)
    VALUES ('payment', p_now, p_now, v_actor, p_request_id, 'settlement:' || p_id, NULL)
    RETURNING id INTO v_tx;
    -- personal balances move in account-id order (ledger.post), each entry's balance exact
    FOR v_row IN SELECT l.id, l.amount FROM unnest(v_leg_ids, v_leg_amts) AS l (id, amount)
                  ORDER BY l.id
    LOOP
        UPDATE accounts SET balance_fen = balance_fen - v_row.amount WHERE id = v_row.id
        RETURNING balance_fen INTO v_after;
        v_e_acc := v_e_acc || v_row.id;
        v_e_amt := v_e_amt || (-v_row.amount);
        v_e_kind := v_e_kind || CASE WHEN v_row.id = v_own_id THEN 'payment'
                                     ELSE 'mutual_aid_out' END;
        v_e_after := v_e_after || v_after;
    END LOOP;
    INSERT INTO journal_entries (transaction_id, account_id, system_account_id, kind, amount_fen,
                                 balance_after_fen, business_at, recorded_at, actor, request_id)
    SELECT v_tx, e.account_id, e.system_account_id, e.kind, e.amount, e.after,
           p_now, p_now, v_actor, p_request_id
      FROM (SELECT a.account_id, NULL::int AS system_account_id, a.kind, a.amount, a.after,
                   0 AS side, a.account_id AS sort_id
              FROM unnest(v_e_acc, v_e_kind, v_e_amt, v_e_after)
                   AS a (account_id, kind, amount, after)
            UNION ALL
            SELECT NULL, s.id, 'payment', s.amount, NULL, 1, s.id
              FROM (VALUES (v_fund_acc, -v_fund), (v_ext_acc, -v_cash),
                           (v_inst_acc, p_total)) AS s (id, amount)
             WHERE s.amount <> 0) AS e
     ORDER BY e.side, e.sort_id;
    INSERT INTO settlements (id, institution_id, terminal_id, order_no, request_digest, person_id,
                             presented_by_user_id, scene, medium, total_fen, fund_fen,
                             personal_account_fen, mutual_aid_fen, cash_fen, legs,
                             password_checked, transaction_id, settled_at, request_id,
                             benefit_pool, benefit_year, deductible_used_delta_fen,
                             fund_paid_delta_fen, fund_detail)
    VALUES (p_id, p_institution_id, p_terminal_id, p_order_no, p_digest, v_person, v_presented,
            p_scene, p_medium, p_total, v_fund, v_own_fen, v_accounts_fen - v_own_fen, v_cash,
            v_legs, v_needs, v_tx, p_now, p_request_id, v_pool, v_year, v_applied,
            CASE WHEN v_pool IS NULL THEN 0 ELSE v_fund END, v_detail);
    IF v_pool IS NOT NULL THEN
        IF v_year_exists THEN
            IF v_applied <> 0 OR v_fund <> 0 THEN
                UPDATE benefit_years SET deductible_used_fen = v_used + v_applied,
                                         fund_paid_fen = v_paid + v_fund
                 WHERE person_id = v_person AND pool = v_pool AND year = v_year;
            END IF;
        ELSE
            INSERT INTO benefit_years (person_id, pool, year, deductible_used_fen, fund_paid_fen)
            VALUES (v_person, v_pool, v_year, v_applied, v_fund)
            ON CONFLICT DO NOTHING;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'the person''s year was created meanwhile'
                    USING ERRCODE = 'serialization_failure';
            END IF;
        END IF;
    END IF;
    INSERT INTO audit_events (at, actor, action, subject, request_id, details)
    VALUES (p_now, v_actor, 'settlement.settled', 'settlement:' || p_id, p_request_id,
            json_build_object('order_no', p_order_no, 'total_fen', p_total,
                              'accounts_fen', v_accounts_fen, 'cash_fen', v_cash,
                              'password_checked', v_needs));
    RETURN json_build_object(
        'replayed', false, 'transaction_id', v_tx, 'person_id', v_person,
        'presented_by_user_id', v_presented, 'fund_fen', v_fund,
        'personal_account_fen', v_own_fen, 'mutual_aid_fen', v_accounts_fen - v_own_fen,
        'cash_fen', v_cash, 'legs', v_legs, 'password_checked', v_needs,
        'benefit_pool', v_pool, 'benefit_year', v_year, 'deductible_used_delta_fen', v_applied,
        'fund_paid_delta_fen', CASE WHEN v_pool IS NULL THEN 0 ELSE v_fund END,
        'fund_detail', v_detail);
END
$fn$
"""

# privacy.mask_name: the first character stays.
MASK_NAME_FUNCTION = r"""
CREATE OR REPLACE FUNCTION ec_mask_name(p_name text) RETURNS text
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT CASE WHEN p_name = '' THEN ''
                ELSE left(p_name, 1) || repeat('*', greatest(length(p_name) - 1, 1)) END
$fn$
"""

# ledger.system_accounts: found by code, made on first use (two first uses make one row).
SYSTEM_ACCOUNT_FUNCTION = r"""
CREATE OR REPLACE FUNCTION ec_system_account(p_kind text, p_code text, p_institution_id int,
                                             p_now timestamptz) RETURNS int
LANGUAGE plpgsql AS $fn$
DECLARE
    v_id int;
BEGIN
    SELECT id INTO v_id FROM system_accounts WHERE code = p_code;
    IF NOT FOUND THEN
        INSERT INTO system_accounts (kind, code, institution_id, created_at)
        VALUES (p_kind, p_code, p_institution_id, p_now)
        ON CONFLICT DO NOTHING;
        SELECT id INTO v_id FROM system_accounts WHERE code = p_code;
    END IF;
    RETURN v_id;
END
$fn$
"""

INSTALL = (MASK_NAME_FUNCTION, SYSTEM_ACCOUNT_FUNCTION, SETTLE_FUNCTION)
UNINSTALL = (
    "DROP FUNCTION IF EXISTS ec_settle(text, int, text, text, text, text, text, text, text, "
    "bigint, bigint, timestamptz, text, text, int, text, text, text, int, bigint, bigint, int, "
    "bigint, bigint)",
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
    "%(ratio_bp)s::int, %(cap_fen)s::bigint, %(fixed_fen)s::bigint)"
)
# Only when the server computes the fund's share: whose bill it is (the rule depends on the
# person and the institution's level), whether the order number is taken (then the call
# replays, whatever the rule). A second round trip, in autocommit, before the call.
_WHO = """
SELECT i.level, p.insurance_type, p.person_type,
       EXISTS (SELECT 1 FROM settlements s
                WHERE s.institution_id = i.id AND s.order_no = %(order_no)s::text)
  FROM institutions i
  LEFT JOIN persons p ON p.id = CASE WHEN %(medium)s::text = 'ecredential'
       THEN (SELECT t.person_id FROM scan_tokens t
              WHERE t.token_hash = %(token_hash)s::text AND t.institution_id = i.id
                AND t.used_at IS NULL AND t.expires_at > %(now)s::timestamptz)
       ELSE (SELECT c.person_id FROM cards c
              WHERE c.card_no = %(card_no)s::text AND c.status = 'active') END
 WHERE i.id = %(institution_id)s::int
"""
_RETRYABLE = (psycopg.errors.SerializationFailure, psycopg.errors.DeadlockDetected)
_ERRORS: dict[str, type[AppError]] = {cls.code: cls for cls in all_error_classes()}


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
    function names, OrderTaken, ServiceUnavailableError (the database is gone); a deadlock or
    a serialization failure is retried whole.
    """
    token_hash = (
        hashlib.sha256(bill.scan_token.encode("utf-8")).hexdigest() if bill.scan_token else None
    )
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
    }
    for attempt in range(1, 6):
        sent = False
        try:
            with _autocommit(engine) as conn:
                if bill.fund_fen is None:
                    params.update(_rule_params(conn, params, policy, bill))
                sent = True
                row = conn.execute(_CALL, params).fetchone()
                assert row is not None
                answer: dict[str, Any] = row[0]
                return answer
        except psycopg.errors.RaiseException as exc:
            raise _app_error(exc) from None
        except psycopg.errors.UniqueViolation as exc:
            if exc.diag.table_name == "settlements":
                raise OrderTaken() from None
            raise
        except _RETRYABLE:
            if attempt == 5:
                raise ServiceUnavailableError() from None
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            # The connection died. Before the call nothing was done; during it, the function may
            # have committed before the answer was lost: the till repeats the same order_no.
            raise (OutcomeUnknownError() if sent else ServiceUnavailableError()) from exc
    raise AssertionError("unreachable")


def _rule_params(
    conn: psycopg.Connection[Any], params: dict[str, Any], policy: Policy, bill: Bill
) -> dict[str, Any]:
    """The policy rule's parameters for this bill's person (empty when the call will refuse or
    replay before it needs them). Raises InvalidAmountError (`no_benefit_rule`)."""
    row = conn.execute(_WHO, params).fetchone()
    if row is None:
        raise ValueError(f"no institution {bill.institution_id}")
    level, insurance_type, person_type, order_taken = row
    if order_taken or insurance_type is None:
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


def _app_error(exc: psycopg.errors.RaiseException) -> Exception:
    """The contract error the function raised (its message is the code), else a bug."""
    diag = exc.diag
    cls = _ERRORS.get(diag.message_primary or "")
    if cls is None:
        return ValueError(f"ec_settle: {diag.message_primary}")
    details = {"reason": diag.message_detail} if diag.message_detail else {}
    return cls(diag.message_hint, **details)


class _autocommit:  # noqa: N801 (a context manager, used as a function)
    """A pooled connection's psycopg connection in autocommit: one statement, one round trip."""

    def __init__(self, engine: Engine) -> None:
        self._raw = engine.raw_connection()

    def __enter__(self) -> psycopg.Connection[Any]:
        conn: psycopg.Connection[Any] = self._raw.driver_connection  # type: ignore[assignment]
        conn.autocommit = True
        self._conn = conn
        return conn

    def __exit__(self, kind: object, exc: object, _tb: object) -> None:
        if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError) and not isinstance(
            exc, _RETRYABLE
        ):
            self._raw.invalidate()  # the connection is gone: never back into the pool
            self._raw.close()
            return  # the caller tells "nothing done" from "outcome unknown"
        self._conn.autocommit = False
        self._raw.close()
