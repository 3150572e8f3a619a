-- The refund as one PL/pgSQL call (issue 14): `ec_refund`, PostgreSQL only.
--
-- server/settlement/refund_call.py reads this file at import, as one_call.py reads ec_settle.sql
-- (server/settlement/plpgsql.py): every statement starts at its `-- statement: <name>` line and
-- ends at the `$fn$` line that closes its body; the comments between statements are not sent.
-- Installed by the migrations 0011_refund_function and 0013_terminal_and_accounts (the text of
-- now) and, for tables made by create_all, by the hook in refund_call.py.
--
-- The rules of the Python reference (server/settlement/refunds.py, benefits/service.py's
-- take_off, ledger/service.py's lock_balances, reverse and post) in the same order: the
-- settlement locked, the already-refunded check, the benefit year's recorded delta taken off
-- (before the balances, in the order a settlement locks them), the accounts locked in ascending
-- id order, the reversing journal transaction (every fen back to the account it came from,
-- personal balances moved in account-id order, each entry's balance-after exact), the refund row
-- and the audit row. A refusal is `RAISE` with the contract code as the message and a human
-- message as the hint, as ec_settle does.

-- statement: ec_refund
CREATE OR REPLACE FUNCTION ec_refund(p_settlement_id text, p_institution_id int,
                                     p_terminal_id text, p_now timestamptz,
                                     p_request_id text, p_check_terminal boolean) RETURNS json
LANGUAGE plpgsql AS $fn$
DECLARE
    v_actor text := 'terminal:' || p_terminal_id;
    v_s record;
    v_used bigint;
    v_paid bigint;
    v_tx bigint;
    v_refund int;
    v_row record;
    v_after bigint;
    v_e_acc int[] := '{}';
    v_e_amt bigint[] := '{}';
    v_e_after bigint[] := '{}';
    v_written int;
BEGIN
    -- 0. The terminal's own row (0013_terminal_and_accounts), as ec_settle reads it: a revoked
    -- or unknown terminal is refused first, having learnt nothing of the settlement. The HIS
    -- interface's terminal has no row (p_check_terminal false).
    IF p_check_terminal THEN
        PERFORM FROM terminals WHERE id = p_terminal_id AND revoked_at IS NULL;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'TOKEN_REVOKED';
        END IF;
    END IF;

    -- 1. The settlement, locked: refunds of one settlement queue here, each then sees the last.
    SELECT * INTO v_s FROM settlements
     WHERE id = p_settlement_id AND institution_id = p_institution_id
       FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'NOT_FOUND' USING HINT = 'No settlement with this id at this institution';
    END IF;

    -- 2. Once (the unique refund row is the last guard).
    PERFORM 1 FROM settlement_refunds WHERE settlement_id = p_settlement_id;
    IF FOUND THEN
        RAISE EXCEPTION 'ALREADY_REFUNDED';
    END IF;

    -- 3. The settlement's own recorded delta off its pool and year (benefits.service.take_off):
    --    the year row is made at zero if missing, then locked, before the accounts.
    IF v_s.benefit_pool IS NOT NULL AND v_s.benefit_year IS NOT NULL
       AND (v_s.deductible_used_delta_fen <> 0 OR v_s.fund_paid_delta_fen <> 0) THEN
        INSERT INTO benefit_years (person_id, pool, year, deductible_used_fen, fund_paid_fen)
        VALUES (v_s.person_id, v_s.benefit_pool, v_s.benefit_year, 0, 0)
        ON CONFLICT DO NOTHING;
        SELECT deductible_used_fen, fund_paid_fen INTO v_used, v_paid FROM benefit_years
         WHERE person_id = v_s.person_id AND pool = v_s.benefit_pool AND year = v_s.benefit_year
           FOR UPDATE;
        IF v_used < v_s.deductible_used_delta_fen OR v_paid < v_s.fund_paid_delta_fen THEN
            RAISE EXCEPTION 'ec_refund: this delta was never added to these accumulators';
        END IF;
        UPDATE benefit_years SET deductible_used_fen = v_used - v_s.deductible_used_delta_fen,
                                 fund_paid_fen = v_paid - v_s.fund_paid_delta_fen
         WHERE person_id = v_s.person_id AND pool = v_s.benefit_pool AND year = v_s.benefit_year;
    END IF;

    -- 4. The accounts the settlement debited, locked in ascending id order (ledger.lock_balances).
    PERFORM 1 FROM accounts
     WHERE id IN (SELECT (l.leg ->> 'account_id')::int
                    FROM json_array_elements(v_s.legs::json) AS l (leg))
     ORDER BY id
       FOR UPDATE;

    -- 5. The transaction undoing the settlement's, entry by entry (ledger.reverse and post):
    --    each account's entries merged, every amount negated; personal balances move in
    --    account-id order, then the system accounts' entries follow in id order.
    INSERT INTO journal_transactions (kind, business_at, recorded_at, actor, request_id,
                                      reference, reverses_id)
    VALUES ('refund', p_now, p_now, v_actor, p_request_id, 'settlement:' || p_settlement_id,
            v_s.transaction_id)
    RETURNING id INTO v_tx;
    FOR v_row IN
        SELECT account_id, (-sum(amount_fen))::bigint AS amount FROM journal_entries
         WHERE transaction_id = v_s.transaction_id AND account_id IS NOT NULL
         GROUP BY account_id HAVING sum(amount_fen) <> 0
         ORDER BY account_id
    LOOP
        UPDATE accounts SET balance_fen = balance_fen + v_row.amount WHERE id = v_row.account_id
        RETURNING balance_fen INTO v_after;
        v_e_acc := v_e_acc || v_row.account_id;
        v_e_amt := v_e_amt || v_row.amount;
        v_e_after := v_e_after || v_after;
    END LOOP;
    INSERT INTO journal_entries (transaction_id, account_id, system_account_id, kind, amount_fen,
                                 balance_after_fen, business_at, recorded_at, actor, request_id)
    SELECT v_tx, e.account_id, e.system_account_id, 'refund', e.amount, e.after,
           p_now, p_now, v_actor, p_request_id
      FROM (SELECT a.account_id, NULL::int AS system_account_id, a.amount, a.after,
                   0 AS side, a.account_id AS sort_id
              FROM unnest(v_e_acc, v_e_amt, v_e_after) AS a (account_id, amount, after)
            UNION ALL
            SELECT NULL, j.system_account_id, (-sum(j.amount_fen))::bigint, NULL, 1,
                   j.system_account_id
              FROM journal_entries j
             WHERE j.transaction_id = v_s.transaction_id AND j.system_account_id IS NOT NULL
             GROUP BY j.system_account_id HAVING sum(j.amount_fen) <> 0) AS e
     ORDER BY e.side, e.sort_id;
    GET DIAGNOSTICS v_written = ROW_COUNT;
    IF v_written < 2 THEN
        RAISE EXCEPTION 'ec_refund: no journal transaction to reverse';
    END IF;

    -- 6. The refund row (unique per settlement) and the audit row.
    INSERT INTO settlement_refunds (settlement_id, institution_id, terminal_id, amount_fen,
                                    transaction_id, refunded_at)
    VALUES (p_settlement_id, p_institution_id, p_terminal_id, v_s.total_fen, v_tx, p_now)
    RETURNING id INTO v_refund;
    INSERT INTO audit_events (at, actor, action, subject, request_id, details)
    VALUES (p_now, v_actor, 'settlement.refunded', 'settlement:' || p_settlement_id,
            p_request_id, json_build_object('amount_fen', v_s.total_fen));
    RETURN json_build_object('settlement', row_to_json(v_s), 'refund_id', v_refund,
                             'transaction_id', v_tx);
END
$fn$
