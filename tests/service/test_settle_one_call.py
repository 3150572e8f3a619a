"""The one-call settlement and refund (`ec_settle`, `ec_refund`, PostgreSQL) write exactly what
the Python reference does.

Issue 14. Each example builds the same random world twice on a freshly emptied database (ids
restart at 1; tests/service/settle_worlds.py): an institution of some level, a patient with a
card, an e-credential scan token (the patient's own code or a family member's proxy code, valid
or not), a balance, a password-free limit and maybe a year already counted in a pool, and
mutual-aid holders filed for them. It runs the same random bills once with the reference
(`is_postgres=False`: service.py, pricing.py, fund.py, refunds.py) and once with the functions,
then compares every answer (the settlement, the refund, or the error code and details) and
every row of every table.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from server.settlement.rules import AccountUse, Medium, Scene
from tests.service.settle_worlds import (
    Bill,
    Holder,
    World,
    bills,
    fresh,
    refund,
    rows,
    settle,
    unit,
    worlds,
)

pytestmark = pytest.mark.postgres

# Two fresh databases an example: shrinking a failure would take many minutes.
EXAMPLES = settings(
    max_examples=40,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _settle(app: Flask, world: World, bill: Bill, *, one_call: bool) -> tuple[Any, Any]:
    fresh(app, world)
    with unit(app, world, one_call=one_call) as uow:
        answer = settle(uow, bill, order_no="O1", settlement_uuid=1)
    return answer, rows(app)


@EXAMPLES
@given(world=worlds(), bill=bills())
def test_the_one_call_writes_every_row_the_python_reference_writes(
    app: Flask, world: World, bill: Bill
) -> None:
    """Card and e-credential bills (own and proxy codes, scan tokens valid or not, the password
    needed or not): the same answer and the same rows."""
    reference = _settle(app, world, bill, one_call=False)
    event(f"{bill.medium.value}: {_said(reference[0])}")
    one_call = _settle(app, world, bill, one_call=True)
    assert one_call[0] == reference[0]
    assert one_call[1] == reference[1]


Plan = tuple[Bill, Bill | None, int, bool, bool]


@st.composite
def refund_plans(draw: st.DrawFn) -> Plan:
    """The bill to refund (often with the policy's share, so its year delta comes off), maybe a
    later bill of the same person settled before the refund, the refunding institution (2: not
    the settling one), whether the refund is asked twice, and whether a revoked terminal of the
    settling institution asks first (refused, nothing written)."""
    first = draw(bills(paying=True))
    later = draw(st.none() | bills(media=(Medium.CARD,), paying=True))
    institution_id = draw(st.sampled_from([1, 1, 1, 2]))
    return first, later, institution_id, draw(st.booleans()), draw(st.booleans())


def _settle_and_refund(
    app: Flask, world: World, plan: Plan, *, one_call: bool
) -> tuple[list[Any], Any]:
    first, later, institution_id, twice, revoked_first = plan
    fresh(app, world)
    answers: list[Any] = []
    with unit(app, world, one_call=one_call) as uow:
        answers.append(settle(uow, first, order_no="O1", settlement_uuid=1))
        if later is not None:
            answers.append(settle(uow, later, order_no="O2", settlement_uuid=2))
        settlement_id = "00000000-0000-0000-0000-000000000001"
        if revoked_first:
            answers.append(refund(uow, settlement_id, revoked=True))
        answers.append(refund(uow, settlement_id, institution_id=institution_id))
        if twice:
            answers.append(refund(uow, settlement_id, institution_id=institution_id))
    return answers, rows(app)


@EXAMPLES
@given(world=worlds(paying=True), plan=refund_plans())
def test_the_one_call_refund_writes_every_row_the_python_reference_writes(
    app: Flask, world: World, plan: Plan
) -> None:
    """Settle, maybe settle another bill of the same person, refund the first (from its own
    institution or another), maybe twice: the same answers and the same rows (journal,
    balances, the refund row, the person's year, the audit rows)."""
    reference = _settle_and_refund(app, world, plan, one_call=False)
    event(" then ".join(_said(answer) for answer in reference[0]))
    event(f"year: {_year_taken_off(reference[0])}")
    one_call = _settle_and_refund(app, world, plan, one_call=True)
    assert one_call[0] == reference[0]
    assert one_call[1] == reference[1]


def _said(answer: Any) -> str:
    """What an answer was, for the statistics (`--hypothesis-show-statistics`)."""
    return str(answer[0]) if answer[0] != "refused" else str(answer[1])


def _year_taken_off(answers: list[Any]) -> str:
    """Which of the refunded settlement's year deltas the refund took off."""
    settled = answers[0]
    refunded = any(a[0] == "refunded" for a in answers)
    if settled[0] != "settled" or not refunded:
        return "nothing refunded"
    names = ("deductible_used_delta_fen", "fund_paid_delta_fen")
    return " and ".join(n for n in names if settled[2][n]) or "no delta"


PLAIN = World("3", "employee", "张三", True, 100_000, 1_000_000, "active", None, ())


def test_the_reference_and_the_call_both_settle_a_plain_bill(app: Flask) -> None:
    """A sanity anchor for the property: a funded bill paid from the own account settles."""
    bill = Bill(Scene.OUTPATIENT, 50_000, None, (0, 0, 0), False)
    reference = _settle(app, PLAIN, bill, one_call=False)
    assert reference[0][0] == "settled", reference[0]
    assert _settle(app, PLAIN, bill, one_call=True) == reference


def test_both_settle_a_proxy_code_from_the_family_with_mutual_aid(app: Flask) -> None:
    """An anchor for the e-credential path: a relative's phone shows the patient's code, the
    own account and then a holder's pay; the settlement names the presenter."""
    world = replace(
        PLAIN,
        holders=(Holder(30_000, "parent", "effective", "李"),),
        balance_fen=1_000,
        presenter="relative",
    )
    bill = Bill(Scene.OUTPATIENT, 50_000, None, (0, 0, 0), False, Medium.ECREDENTIAL)
    reference = _settle(app, world, bill, one_call=False)
    state, _replayed, settled = reference[0]
    assert state == "settled", reference[0]
    assert settled["presented_by_user_id"] == 3  # the relative's phone user
    assert [leg["source"] for leg in settled["legs"]] == ["self", "child"]
    assert _settle(app, world, bill, one_call=True) == reference


def test_both_refund_a_policy_share_and_give_its_year_back(app: Flask) -> None:
    """An anchor for the refund: the policy's share counted in the year comes off again."""
    world = replace(PLAIN, year=("outpatient", 0, 0))
    bill = Bill(Scene.OUTPATIENT, 500_000, None, (0, 0, 0), True)
    plan = (bill, None, 1, True, False)
    reference = _settle_and_refund(app, world, plan, one_call=False)
    settled, refunded, again = reference[0]
    assert settled[0] == "settled" and settled[2]["fund_paid_delta_fen"] > 0, settled
    assert refunded[0] == "refunded", refunded
    assert again[:2] == ("refused", "ALREADY_REFUNDED")
    years = reference[1]["benefit_years"]
    assert [(y["deductible_used_fen"], y["fund_paid_fen"]) for y in years] == [(0, 0)]
    assert _settle_and_refund(app, world, plan, one_call=True) == reference


@pytest.mark.parametrize("terminal", ["revoked", "unknown"])
def test_both_refuse_a_revoked_or_unknown_terminal_first_and_write_nothing(
    app: Flask, terminal: str
) -> None:
    """An anchor for the terminal's own row: refused before the token is used up or any row
    written, with the token check's TOKEN_REVOKED."""
    world = replace(PLAIN, terminal=terminal)
    bill = Bill(Scene.OUTPATIENT, 50_000, None, (0, 0, 0), False, Medium.ECREDENTIAL)
    reference = _settle(app, world, bill, one_call=False)
    assert reference[0] == ("refused", "TOKEN_REVOKED", {}), reference[0]
    assert reference[1]["settlements"] == [] and reference[1]["journal_transactions"] == []
    assert [t["used_at"] for t in reference[1]["scan_tokens"]] == [None]
    assert _settle(app, world, bill, one_call=True) == reference


@pytest.mark.parametrize("accounts", [AccountUse.OWN_ONLY, AccountUse.NONE])
def test_both_leave_out_the_accounts_the_bill_does_not_allow(
    app: Flask, accounts: AccountUse
) -> None:
    """An anchor for the accounts option: the same fund share; OWN_ONLY leaves the holder out,
    NONE every account (all cash, and no password asked though the table says always)."""
    world = replace(
        PLAIN,
        holders=(Holder(30_000, "parent", "effective", "李"),),
        balance_fen=1_000,
        password_rule="always",
    )
    bill = Bill(Scene.OUTPATIENT, 50_000, 20_000, (0, 0, 0), False, Medium.CARD, accounts)
    reference = _settle(app, world, bill, one_call=False)
    if accounts is AccountUse.OWN_ONLY:
        assert reference[0][:2] == ("refused", "PASSWORD_REQUIRED"), reference[0]
        bill = replace(bill, password=True)
        reference = _settle(app, world, bill, one_call=False)
    state, _replayed, settled = reference[0]
    assert state == "settled", reference[0]
    own = 1_000 if accounts is AccountUse.OWN_ONLY else 0
    assert (settled["fund_fen"], settled["personal_account_fen"]) == (20_000, own)
    assert (settled["mutual_aid_fen"], settled["cash_fen"]) == (0, 30_000 - own)
    assert settled["password_checked"] is (accounts is AccountUse.OWN_ONLY)
    assert _settle(app, world, bill, one_call=True) == reference


def test_both_refuse_a_refund_asked_by_a_revoked_terminal(app: Flask) -> None:
    bill = Bill(Scene.OUTPATIENT, 50_000, None, (0, 0, 0), False)
    plan = (bill, None, 1, False, True)
    reference = _settle_and_refund(app, PLAIN, plan, one_call=False)
    settled, refused, refunded = reference[0]
    assert settled[0] == "settled" and refunded[0] == "refunded", reference[0]
    assert refused == ("refused", "TOKEN_REVOKED", {})
    assert len(reference[1]["settlement_refunds"]) == 1
    assert _settle_and_refund(app, PLAIN, plan, one_call=True) == reference
