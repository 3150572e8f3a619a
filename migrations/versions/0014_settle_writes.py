"""The settlement's writes, leaner (issue 14): ec_settle moves the balances through the primary
key, and the journal and audit tables keep no index entries that nothing reads

- ec_settle's balance update finds its accounts by `id = ANY (legs)` (an index scan of the
  primary key, whatever the table's size when the plan was made) instead of joining `unnest` of
  the legs, which the plan kept for the connection did as a hash join over every account.
  Installs the current text of server/settlement/ec_settle.sql (same signature: replaced in
  place); the downgrade puts 0013's back from the copy below.
- `ix_journal_entries_account_id_id` and `ix_journal_entries_system_account_id` become partial
  (`... IS NOT NULL`): every entry has exactly one of the two set (`ck_journal_entries_one_account`),
  so two of a settlement's three entries wrote a NULL into the first and one into the second,
  all at the one rightmost leaf where NULLs sort, and every query of either names an account
  (`account_id = ...`, `account_id IN (...)`, `system_account_id = ...`), which the partial
  index serves.
- `ix_journal_transactions_kind`, `ix_journal_transactions_reference` and
  `ix_audit_events_action` are dropped: no query reads any of them (a handful of kinds and
  actions, each a large share of its table; every row a transaction belongs to, a settlement,
  refund, credit or interest marker, premium or claim, names it by `transaction_id`; an audit
  question goes by time, `ix_audit_events_at`, or request id).
- `scan_tokens` keeps a tenth of each page free (fillfactor 90, PostgreSQL): a token is written
  once and updated once, by the settlement that uses it up (`used_at`, in no index); with room
  on its page that update is HOT, adding no entry to the token's two indexes.

docs/ledger.md, "What a settlement writes".

Revision ID: 0014_settle_writes
Revises: 0013_terminal_and_accounts
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from server.settlement import one_call

revision: str = "0014_settle_writes"
down_revision: str | Sequence[str] | None = "0013_terminal_and_accounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PARTIAL = (
    ("ix_journal_entries_account_id_id", ["account_id", "id"], "account_id IS NOT NULL"),
    (
        "ix_journal_entries_system_account_id",
        ["system_account_id"],
        "system_account_id IS NOT NULL",
    ),
)


def upgrade() -> None:
    for name, columns, where in _PARTIAL:
        op.drop_index(name, table_name="journal_entries")
        op.create_index(
            name,
            "journal_entries",
            columns,
            postgresql_where=sa.text(where),
            sqlite_where=sa.text(where),
        )
    op.drop_index("ix_journal_transactions_kind", table_name="journal_transactions")
    op.drop_index("ix_journal_transactions_reference", table_name="journal_transactions")
    op.drop_index("ix_audit_events_action", table_name="audit_events")
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite settles with the Python reference; no storage parameters
    op.execute("ALTER TABLE scan_tokens SET (fillfactor = 90)")
    op.execute(one_call.SETTLE_FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_SETTLE_0013)
        op.execute("ALTER TABLE scan_tokens RESET (fillfactor)")
    op.create_index("ix_audit_events_action", "audit_events", ["action"])
    op.create_index("ix_journal_transactions_reference", "journal_transactions", ["reference"])
    op.create_index("ix_journal_transactions_kind", "journal_transactions", ["kind"])
    for name, columns, _where in _PARTIAL:
        op.drop_index(name, table_name="journal_entries")
        op.create_index(name, "journal_entries", columns)


# ec_settle as 0013_terminal_and_accounts installed it (server/settlement/ec_settle.sql at that
# time); its helpers ec_mask_name and ec_system_account are unchanged.
_SETTLE_0013 = """CREATE OR REPLACE FUNCTION ec_settle(
    p_id text, p_institution_id int, p_terminal_id text, p_order_no text, p_digest text,
    p_scene text, p_medium text, p_token_hash text, p_card_no text,
    p_total bigint, p_fund bigint, p_now timestamptz, p_request_id text,
    p_password_rule text, p_verified_account int,
    p_rule_kind text, p_rule_name text, p_pool text, p_year int, p_eligible bigint,
    p_deductible bigint, p_ratio_bp int, p_cap bigint, p_fixed bigint,
    p_system_accounts int[], p_check_terminal boolean, p_accounts text
) RETURNS json LANGUAGE plpgsql
-- Every statement here is a lookup by key or a tiny write: planning it afresh for each call's
-- values (what the plan cache does for its first calls, and after for some) costs more than
-- running it, so each is planned once per connection. A plan kept that long must not be a
-- sequential scan chosen while a table was still small (a new database's settlements, say):
-- every table here is read through an index.
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off AS $fn$
DECLARE
    v_actor text := 'terminal:' || p_terminal_id;
    v_found record;
    v_person int;
    v_presented int;
    v_card_status text;
    v_filed boolean;
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
    v_own_id int;
    v_own_hash text;
    v_own_limit bigint;
    v_own_masked text;
    v_row record;
    v_own_balance bigint;
    v_bal_ids int[] := '{}';
    v_bals bigint[] := '{}';
    v_needs boolean;
    v_missing bigint;
    v_amount bigint;
    v_leg_ids int[] := '{}';
    v_leg_amts bigint[] := '{}';
    v_legs json[] := '{}';
    v_own_fen bigint := 0;
    v_accounts_fen bigint := 0;
    v_cash bigint;
    v_system int[];
    v_tx bigint;
    i int;
BEGIN
    -- 0. The terminal's own row (0013_terminal_and_accounts): a revoked or unknown terminal is
    -- refused before anything else, so it learns nothing, not even an order's replay; the token
    -- check left this to the call (server/auth/tokens.py, `checks_own_terminal_revocation`).
    -- The HIS interface's terminal has no row (p_check_terminal false).
    IF p_check_terminal THEN
        PERFORM FROM terminals WHERE id = p_terminal_id AND revoked_at IS NULL;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'TOKEN_REVOKED';
        END IF;
    END IF;

    -- 1. The order check first: a retry answers the first outcome.
    SELECT id, request_digest INTO v_found FROM settlements
     WHERE institution_id = p_institution_id AND order_no = p_order_no;
    IF FOUND THEN
        RETURN json_build_object('replayed', true, 'id', v_found.id,
                                 'request_digest', v_found.request_digest);
    END IF;

    -- 2. Who pays: the scan token, used up by the statement that finds it (given back in 6 if a
    -- password is needed first; any refusal below rolls the whole call back), or the card. The
    -- same statement tells whether anyone files mutual aid for the person (most have no one).
    IF p_medium = 'ecredential' THEN
        UPDATE scan_tokens t SET used_at = p_now
         WHERE t.token_hash = p_token_hash AND t.institution_id = p_institution_id
           AND t.used_at IS NULL AND t.expires_at > p_now
        RETURNING t.person_id, t.presented_by_user_id,
                  EXISTS (SELECT FROM mutual_aid_filings f
                           WHERE f.beneficiary_person_id = t.person_id)
             INTO v_person, v_presented, v_filed;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'SCAN_TOKEN_INVALID';
        END IF;
    ELSE
        SELECT c.person_id, c.status,
               EXISTS (SELECT FROM mutual_aid_filings f
                        WHERE f.beneficiary_person_id = c.person_id)
          INTO v_person, v_card_status, v_filed
          FROM cards c WHERE c.card_no = p_card_no;
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

    -- 4. The mutual-aid sources in the beneficiary's order (only when there is a burden and
    -- they may pay: p_accounts 'all'; 'own_only' leaves them out, 'none' every account).
    IF v_burden > 0 AND v_filed AND p_accounts = 'all' THEN
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

    -- 5. Every account that may pay, locked in ascending id order: most patients have no
    -- mutual-aid source, and their own account is then locked by one plain read.
    IF v_src_ids = '{}' THEN
        SELECT a.id, a.balance_fen, a.password_hash, a.password_free_limit_fen,
               ec_mask_name(p.name)
          INTO v_own_id, v_own_balance, v_own_hash, v_own_limit, v_own_masked
          FROM accounts a JOIN persons p ON p.id = a.person_id
         WHERE a.person_id = v_person
           FOR UPDATE OF a;
        v_bal_ids := ARRAY[v_own_id];
        v_bals := ARRAY[v_own_balance];
    ELSE
        FOR v_row IN
            SELECT a.id, a.person_id, a.balance_fen, a.password_hash,
                   a.password_free_limit_fen, p.name
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
    END IF;
    IF v_own_id IS NULL THEN
        RAISE EXCEPTION 'NOT_FOUND' USING HINT = 'This insured person has no personal account';
    END IF;

    -- 6. The password table decides; the password itself is checked outside, in Python. Asking
    -- for it writes nothing: the scan token is given back (the year and accounts stay as read).
    -- No account debited (p_accounts 'none': all cash), no password.
    v_needs := v_burden > 0 AND p_accounts <> 'none' AND (p_password_rule = 'always'
               OR (p_password_rule = 'over_limit' AND v_burden > v_own_limit));
    IF v_needs AND p_verified_account IS DISTINCT FROM v_own_id THEN
        IF p_medium = 'ecredential' THEN
            UPDATE scan_tokens SET used_at = NULL WHERE token_hash = p_token_hash;
        END IF;
        RETURN json_build_object('password_needed', true, 'account_id', v_own_id,
                                 'password_hash', v_own_hash);
    END IF;

    -- 7. Own account (unless 'none'), then the sources in order, each up to its balance; the
    -- rest is cash.
    v_missing := v_burden;
    v_amount := CASE WHEN p_accounts = 'none' THEN 0
                     ELSE least(v_missing, v_bals[array_position(v_bal_ids, v_own_id)]) END;
    IF v_amount > 0 THEN
        v_leg_ids := v_leg_ids || v_own_id;
        v_leg_amts := v_leg_amts || v_amount;
        v_legs := v_legs || json_build_object('account_id', v_own_id, 'source', 'self',
                                              'holder_masked', v_own_masked,
                                              'amount_fen', v_amount);
        v_missing := v_missing - v_amount;
        v_own_fen := v_amount;
    END IF;
    FOR i IN 1 .. coalesce(array_length(v_src_ids, 1), 0) LOOP
        EXIT WHEN v_missing = 0;
        -- an account pays once (a holder filed twice would otherwise be drawn twice)
        CONTINUE WHEN v_src_ids[i] = v_own_id OR v_src_ids[i] = ANY (v_leg_ids);
        v_amount := least(v_missing, v_bals[array_position(v_bal_ids, v_src_ids[i])]);
        IF v_amount > 0 THEN
            v_leg_ids := v_leg_ids || v_src_ids[i];
            v_leg_amts := v_leg_amts || v_amount;
            v_legs := v_legs || json_build_object('account_id', v_src_ids[i],
                                                  'source', v_src_rel[i],
                                                  'holder_masked', v_src_masked[i],
                                                  'amount_fen', v_amount);
            v_missing := v_missing - v_amount;
        END IF;
    END LOOP;
    v_cash := v_missing;
    v_accounts_fen := v_burden - v_cash;

    -- 8. Write: the journal and balances, the settlement, the year, the audit. The system
    -- accounts (fund, external, the institution's) come in as ids the caller knows from an
    -- earlier call; unknown (NULL), they are found or made here and returned.
    IF p_system_accounts IS NULL THEN
        v_system := ARRAY[ec_system_account('fund', 'fund', NULL, p_now),
                          ec_system_account('external', 'external', NULL, p_now),
                          ec_system_account('institution', 'institution:' || p_institution_id,
                                            p_institution_id, p_now)];
    ELSE
        v_system := p_system_accounts;
    END IF;
    INSERT INTO journal_transactions (kind, business_at, recorded_at, actor, request_id,
                                      reference, reverses_id)
    VALUES ('payment', p_now, p_now, v_actor, p_request_id, 'settlement:' || p_id, NULL)
    RETURNING id INTO v_tx;
    -- Each personal balance moves by the statement that writes its entry, so the entry's
    -- balance-after is exact (ledger.post); the accounts are locked since 5. Entries go in the
    -- reference's order: personal by account id, then system by account id.
    WITH moved AS (
        UPDATE accounts a SET balance_fen = a.balance_fen - l.amount
          FROM unnest(v_leg_ids, v_leg_amts) AS l (id, amount)
         WHERE a.id = l.id
        RETURNING a.id, l.amount, a.balance_fen
    )
    INSERT INTO journal_entries (transaction_id, account_id, system_account_id, kind, amount_fen,
                                 balance_after_fen, business_at, recorded_at, actor, request_id)
    SELECT v_tx, e.account_id, e.system_account_id, e.kind, e.amount, e.after,
           p_now, p_now, v_actor, p_request_id
      FROM (SELECT m.id AS account_id, NULL::int AS system_account_id,
                   CASE WHEN m.id = v_own_id THEN 'payment' ELSE 'mutual_aid_out' END AS kind,
                   -m.amount AS amount, m.balance_fen AS after, 0 AS side, m.id AS sort_id
              FROM moved m
            UNION ALL
            SELECT NULL, s.id, 'payment', s.amount, NULL, 1, s.id
              FROM (VALUES (v_system[1], -v_fund), (v_system[2], -v_cash),
                           (v_system[3], p_total)) AS s (id, amount)
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
            array_to_json(v_legs), v_needs, v_tx, p_now, p_request_id, v_pool, v_year, v_applied,
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
        'cash_fen', v_cash, 'legs', array_to_json(v_legs), 'password_checked', v_needs,
        'benefit_pool', v_pool, 'benefit_year', v_year, 'deductible_used_delta_fen', v_applied,
        'fund_paid_delta_fen', CASE WHEN v_pool IS NULL THEN 0 ELSE v_fund END,
        'fund_detail', v_detail,
        'system_accounts', CASE WHEN p_system_accounts IS NULL THEN v_system END);
END
$fn$
"""
