-- The thin reference settlement (bench/thin_app.py): the same transaction as
-- POST /api/v1/terminal/settlements for an e-credential outpatient bill without a password, in one
-- call. Created by bench/settle.py in its scratch database only.
CREATE OR REPLACE FUNCTION bench_settle(
    p_institution_id int, p_terminal_id text, p_order_no text, p_digest text,
    p_token_hash text, p_total bigint, p_fund bigint,
    p_fund_account int, p_external_account int, p_institution_account int
) RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    v_now timestamptz := clock_timestamp();
    v_actor text := 'terminal:' || p_terminal_id;
    v_id text := gen_random_uuid()::text;
    v_existing text;
    v_person int;
    v_presented int;
    v_acc record;
    v_burden bigint := p_total - p_fund;
    v_own bigint;
    v_cash bigint;
    v_tx bigint;
    v_after bigint;
BEGIN
    -- the order check first: a retry answers the first outcome
    SELECT id INTO v_existing FROM settlements
     WHERE institution_id = p_institution_id AND order_no = p_order_no;
    IF FOUND THEN
        RETURN json_build_object('id', v_existing, 'replayed', true);
    END IF;
    -- use up the scan token
    UPDATE scan_tokens SET used_at = v_now
     WHERE token_hash = p_token_hash AND institution_id = p_institution_id
       AND used_at IS NULL AND expires_at > v_now
    RETURNING person_id, presented_by_user_id INTO v_person, v_presented;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'SCAN_TOKEN_INVALID';
    END IF;
    -- lock the accounts to debit, in id order (here: the patient's own)
    SELECT a.id, a.balance_fen, a.password_free_limit_fen, p.name INTO v_acc
      FROM accounts a JOIN persons p ON p.id = a.person_id
     WHERE a.person_id = v_person ORDER BY a.id FOR UPDATE OF a;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'NOT_FOUND';
    END IF;
    -- own account first, cash for the rest
    v_own := least(v_burden, v_acc.balance_fen);
    v_cash := v_burden - v_own;
    INSERT INTO journal_transactions (kind, business_at, recorded_at, actor, request_id, reference)
    VALUES ('payment', v_now, v_now, v_actor, NULL, 'settlement:' || v_id)
    RETURNING id INTO v_tx;
    IF v_own > 0 THEN
        UPDATE accounts SET balance_fen = balance_fen - v_own WHERE id = v_acc.id
        RETURNING balance_fen INTO v_after;
    END IF;
    INSERT INTO journal_entries (transaction_id, account_id, system_account_id, kind, amount_fen,
                                 balance_after_fen, business_at, recorded_at, actor, request_id)
    SELECT v_tx, e.account_id, e.system_account_id, 'payment', e.amount, e.after,
           v_now, v_now, v_actor, NULL
      FROM (VALUES (v_acc.id, NULL::int, -v_own, v_after),
                   (NULL::int, p_fund_account, -p_fund, NULL::bigint),
                   (NULL::int, p_external_account, -v_cash, NULL::bigint),
                   (NULL::int, p_institution_account, p_total, NULL::bigint))
           AS e (account_id, system_account_id, amount, after)
     WHERE e.amount <> 0;
    INSERT INTO settlements (id, institution_id, terminal_id, order_no, request_digest, person_id,
                             presented_by_user_id, scene, medium, total_fen, fund_fen,
                             personal_account_fen, mutual_aid_fen, cash_fen, legs,
                             password_checked, transaction_id, settled_at, request_id)
    VALUES (v_id, p_institution_id, p_terminal_id, p_order_no, p_digest, v_person, v_presented,
            'outpatient', 'ecredential', p_total, p_fund, v_own, 0, v_cash,
            json_build_array(json_build_object(
                'account_id', v_acc.id, 'source', 'self',
                'holder_masked', left(v_acc.name, 1) || repeat('*', greatest(length(v_acc.name) - 1, 1)),
                'amount_fen', v_own)),
            false, v_tx, v_now, NULL);
    INSERT INTO audit_events (at, actor, action, subject, request_id, details)
    VALUES (v_now, v_actor, 'settlement.settled', 'settlement:' || v_id, NULL,
            json_build_object('order_no', p_order_no, 'total_fen', p_total,
                              'accounts_fen', v_own, 'cash_fen', v_cash,
                              'password_checked', false));
    RETURN json_build_object('id', v_id, 'replayed', false, 'total_fen', p_total,
                             'fund_fen', p_fund, 'personal_account_fen', v_own,
                             'cash_fen', v_cash, 'transaction_id', v_tx);
END
$$;
