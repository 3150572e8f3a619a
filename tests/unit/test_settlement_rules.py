"""Settlement rules with DOMAIN.md's worked examples (source 003), in fen."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.errors import InvalidAmountError
from server.money import MAX_AMOUNT_FEN
from server.settlement.pricing import SettleRequest
from server.settlement.rules import (
    DEFAULT_PASSWORD_POLICY,
    AccountUse,
    Leg,
    Medium,
    PasswordRule,
    Scene,
    Source,
    load_password_policy,
    needs_password,
    plan_payment,
    split_burden,
)

# (scene, total, fund, personal burden) from 003: 50.00 = 40.00 + 10.00, and so on.
WORKED_EXAMPLES = [
    (Scene.REGISTRATION, 5000, 4000, 1000),
    (Scene.OUTPATIENT, 126092, 88264, 37828),
    (Scene.INPATIENT_DISCHARGE, 302614, 130854, 171760),
    (Scene.PHARMACY_PRESCRIPTION, 84077, 58854, 25223),
]


@pytest.mark.parametrize(("scene", "total", "fund", "burden"), WORKED_EXAMPLES)
def test_personal_burden_is_the_total_less_the_funds_share(
    scene: Scene, total: int, fund: int, burden: int
) -> None:
    split = split_burden(scene=scene, total_fen=total, fund_fen=fund)
    assert split.personal_burden_fen == burden
    assert split.fund_fen + split.personal_burden_fen == split.total_fen == total


@pytest.mark.parametrize(
    ("scene", "total", "fund", "reason"),
    [
        (Scene.OUTPATIENT, 5000, 5001, "fund_exceeds_total"),
        (Scene.OUTPATIENT, 5000, -1, "fund_negative"),
        (Scene.OUTPATIENT, -100, 0, "total_not_positive"),
        (Scene.OUTPATIENT, 0, 0, "total_not_positive"),
        (Scene.OUTPATIENT, MAX_AMOUNT_FEN, 0, "too_large"),
        (Scene.PHARMACY_SELF_PURCHASE, 84077, 1, "no_fund_share_for_scene"),
    ],
)
def test_impossible_amounts_are_invalid_amount(
    scene: Scene, total: int, fund: int, reason: str
) -> None:
    with pytest.raises(InvalidAmountError) as caught:
        split_burden(scene=scene, total_fen=total, fund_fen=fund)
    assert caught.value.code == "INVALID_AMOUNT"
    assert caught.value.details["reason"] == reason


def test_amounts_just_below_ten_to_the_tenth_fen_are_accepted() -> None:
    split = split_burden(scene=Scene.OUTPATIENT, total_fen=MAX_AMOUNT_FEN - 1, fund_fen=0)
    assert split.personal_burden_fen == MAX_AMOUNT_FEN - 1


def test_a_pharmacy_self_purchase_is_paid_whole_by_the_patient() -> None:
    split = split_burden(scene=Scene.PHARMACY_SELF_PURCHASE, total_fen=84077, fund_fen=0)
    assert split.personal_burden_fen == 84077


def test_a_boolean_is_not_an_amount() -> None:
    with pytest.raises(InvalidAmountError):
        split_burden(scene=Scene.OUTPATIENT, total_fen=True, fund_fen=0)


# --- payment order --------------------------------------------------------------------------------
OWN = 1
SPOUSE, PARENT = 2, 3


@pytest.mark.parametrize(("scene", "total", "fund", "burden"), WORKED_EXAMPLES)
def test_own_account_pays_the_whole_burden_when_it_can(
    scene: Scene, total: int, fund: int, burden: int
) -> None:
    plan = plan_payment(burden_fen=burden, own=Source(OWN, 1_000_000))
    assert plan.legs == (Leg(OWN, burden),)
    assert plan.cash_fen == 0


def test_outpatient_burden_uses_own_account_then_mutual_aid_in_filed_order_then_cash() -> None:
    # 378.28 to pay; own account holds 100.00, spouse 200.00, parent 50.00: 28.28 is cash.
    plan = plan_payment(
        burden_fen=37828,
        own=Source(OWN, 10000),
        mutual_aid=[Source(SPOUSE, 20000), Source(PARENT, 5000)],
    )
    assert plan.legs == (Leg(OWN, 10000), Leg(SPOUSE, 20000), Leg(PARENT, 5000))
    assert plan.cash_fen == 2828


def test_the_beneficiarys_order_decides_which_family_account_pays_first() -> None:
    plan = plan_payment(
        burden_fen=25223,
        own=Source(OWN, 0),
        mutual_aid=[Source(PARENT, 30000), Source(SPOUSE, 30000)],
    )
    assert plan.legs == (Leg(PARENT, 25223),)
    assert plan.cash_fen == 0


def test_an_empty_own_account_and_no_family_means_cash() -> None:
    plan = plan_payment(burden_fen=171760, own=Source(OWN, 0))
    assert plan.legs == ()
    assert plan.cash_fen == 171760


def test_a_bill_the_fund_pays_whole_takes_nothing_from_any_account() -> None:
    plan = plan_payment(burden_fen=0, own=Source(OWN, 5000), mutual_aid=[Source(SPOUSE, 5000)])
    assert plan.legs == ()
    assert plan.cash_fen == 0


def test_own_only_leaves_the_family_out_and_none_leaves_every_account_out() -> None:
    """The HIS's acct_used_flag 1 and 0: what the allowed accounts do not pay is cash."""
    own, family = Source(OWN, 10000), [Source(SPOUSE, 20000), Source(PARENT, 5000)]
    only = plan_payment(burden_fen=37828, own=own, mutual_aid=family, accounts=AccountUse.OWN_ONLY)
    assert (only.legs, only.cash_fen) == ((Leg(OWN, 10000),), 27828)
    cash = plan_payment(burden_fen=37828, own=own, mutual_aid=family, accounts=AccountUse.NONE)
    assert (cash.legs, cash.cash_fen) == ((), 37828)
    every = plan_payment(burden_fen=37828, own=own, mutual_aid=family, accounts=AccountUse.ALL)
    assert every == plan_payment(burden_fen=37828, own=own, mutual_aid=family)


def test_a_burden_paid_all_in_cash_never_asks_the_password() -> None:
    always = load_password_policy({"outpatient": {"card": "always"}})
    asked = {
        accounts: needs_password(
            always,
            scene=Scene.OUTPATIENT,
            medium=Medium.CARD,
            personal_burden_fen=37828,
            password_free_limit_fen=0,
            accounts=accounts,
        )
        for accounts in AccountUse
    }
    assert asked == {AccountUse.ALL: True, AccountUse.OWN_ONLY: True, AccountUse.NONE: False}


def test_the_same_account_twice_is_a_bug() -> None:
    with pytest.raises(ValueError, match="twice"):
        plan_payment(burden_fen=10, own=Source(OWN, 5), mutual_aid=[Source(OWN, 5)])


@given(
    burden=st.integers(0, 10**9),
    balances=st.lists(st.integers(0, 10**8), min_size=1, max_size=6),
)
def test_legs_and_cash_add_up_to_the_burden_and_never_exceed_a_balance(
    burden: int, balances: list[int]
) -> None:
    sources = [Source(i, b) for i, b in enumerate(balances)]
    plan = plan_payment(burden_fen=burden, own=sources[0], mutual_aid=sources[1:])
    assert plan.accounts_fen + plan.cash_fen == burden
    held = dict(enumerate(balances))
    for leg in plan.legs:
        assert 0 < leg.amount_fen <= held[leg.account_id]
    # cash only when every account is used up
    if plan.cash_fen:
        assert plan.accounts_fen == sum(balances)


# --- when a password is needed --------------------------------------------------------------------
POLICY = load_password_policy()

# DOMAIN.md's table, one row per scene: (ecredential, card) with a burden above a limit of 0.
TABLE = {
    Scene.REGISTRATION: (False, False),
    Scene.OUTPATIENT: (False, True),
    Scene.INPATIENT_DISCHARGE: (True, True),
    Scene.PHARMACY_PRESCRIPTION: (False, True),
    Scene.PHARMACY_SELF_PURCHASE: (False, True),
    Scene.CROSS_REGION: (False, False),
}


@pytest.mark.parametrize("scene", list(Scene))
@pytest.mark.parametrize("medium", list(Medium))
def test_password_table_follows_domain(scene: Scene, medium: Medium) -> None:
    expected = TABLE[scene][0 if medium is Medium.ECREDENTIAL else 1]
    assert (
        needs_password(
            POLICY,
            scene=scene,
            medium=medium,
            personal_burden_fen=1000,
            password_free_limit_fen=0,
        )
        is expected
    )


def test_inpatient_discharge_asks_the_password_even_with_the_ecredential() -> None:
    # 003 (2023) is later and more specific than 002 (2022): the later rule wins.
    assert needs_password(
        POLICY,
        scene=Scene.INPATIENT_DISCHARGE,
        medium=Medium.ECREDENTIAL,
        personal_burden_fen=171760,
        password_free_limit_fen=0,
    )


@pytest.mark.parametrize(
    ("burden", "limit", "expected"),
    [(37828, 37828, False), (37828, 37827, True), (37828, 50000, False), (37828, 0, True)],
)
def test_card_outpatient_burden_up_to_the_password_free_limit_needs_no_password(
    burden: int, limit: int, expected: bool
) -> None:
    assert (
        needs_password(
            POLICY,
            scene=Scene.OUTPATIENT,
            medium=Medium.CARD,
            personal_burden_fen=burden,
            password_free_limit_fen=limit,
        )
        is expected
    )


def test_a_burden_of_zero_never_asks_the_password() -> None:
    always = load_password_policy({"outpatient": {"card": "always"}})
    assert not needs_password(
        always,
        scene=Scene.OUTPATIENT,
        medium=Medium.CARD,
        personal_burden_fen=0,
        password_free_limit_fen=0,
    )


def test_an_agency_changes_one_cell_by_setting_and_the_rest_stay() -> None:
    policy = load_password_policy(json.dumps({"outpatient": {"ecredential": "always"}}))
    assert policy.rule(Scene.OUTPATIENT, Medium.ECREDENTIAL) is PasswordRule.ALWAYS
    assert needs_password(
        policy,
        scene=Scene.OUTPATIENT,
        medium=Medium.ECREDENTIAL,
        personal_burden_fen=1,
        password_free_limit_fen=10**6,
    )
    table = policy.as_table()
    table["outpatient"]["ecredential"] = DEFAULT_PASSWORD_POLICY["outpatient"]["ecredential"]
    assert table == {s: dict(row) for s, row in DEFAULT_PASSWORD_POLICY.items()}


@pytest.mark.parametrize(
    "override",
    [
        '{"surgery": {"card": "never"}}',
        '{"outpatient": {"fingerprint": "never"}}',
        '{"outpatient": {"card": "sometimes"}}',
        '{"outpatient": "never"}',
        "[1, 2]",
    ],
)
def test_a_mistyped_password_table_setting_is_refused(override: str) -> None:
    with pytest.raises(ValueError, match="PASSWORD_POLICY"):
        load_password_policy(override)


def test_the_accounts_option_is_part_of_the_body_a_retry_must_repeat() -> None:
    """A retry with other accounts is another body (ORDER_NO_CONFLICT); ALL, the till's, keeps
    the digest a body had before the option existed."""
    till = SettleRequest("O1", Scene.OUTPATIENT, Medium.CARD, None, "C1", 126092, None)
    body = {
        "order_no": "O1",
        "scene": "outpatient",
        "medium": "card",
        "scan_token": None,
        "card_no": "C1",
        "total_fen": 126092,
        "fund_fen": None,
    }
    before = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    assert till.digest() == before
    digests = {replace(till, accounts=a).digest() for a in AccountUse}
    assert len(digests) == 3
