"""acct_used_flag through the HIS interface (docs/his-interface.md, "acct_used_flag"): the
fund's share is the same whatever the flag; `2` draws the own account, then the family's
mutual-aid account, then cash; `1` the own account, then cash (the family's account untouched);
`0` no account at all: the patient pays the whole burden in cash (as a cashier sends it when the
patient chooses to), with no payment password asked. 2206 answers what 2207 then does."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from server.clock import FrozenClock
from tests.actors import Clerk
from tests.api.his_steps import His
from tests.api.money_steps import credit
from tests.api.test_his_visit import account_fen, check_identities, qr, settlement_input
from tests.households import app_user

D = Decimal
PAYERS = ("fund_pay_sumamt", "acct_pay", "acct_mulaid_pay", "psn_cash_pay", "balc")


def test_each_flag_pays_the_burden_from_the_accounts_it_allows_and_the_rest_in_cash(
    app: Flask, client: FlaskClient, clerk: Clerk, clock: FrozenClock
) -> None:
    his = His.of_new_hospital(client, clock, clerk, "H11010800071")
    his.sign_in()
    wife, wife_phone = app_user(client, clerk, "王芳", birth="19880101")
    husband, husband_phone = app_user(client, clerk, "张伟", birth="19870101")
    assert credit(clerk, "2026-11", (wife, 30000), (husband, 50000)).status_code == 201
    assert husband_phone.file_beneficiary(wife, "spouse").status_code == 201

    def bill(flag: str) -> dict[str, Any]:
        token = his.decode(qr(wife_phone))
        base = {"data": {"mdtrt_cert_type": "01", "mdtrt_cert_no": token}}
        psn_no = his.ok("1101", base)["baseinfo"]["psn_no"]
        return settlement_input(
            token, psn_no, medfee_sumamt=1000, inscp_scp_amt=1000, acct_used_flag=flag
        )

    def figures(setlinfo: dict[str, Any]) -> tuple[Decimal, ...]:
        check_identities(setlinfo)
        return tuple(setlinfo[k] for k in PAYERS)

    # 2206 for each flag: one fund share (inside the deductible: 0), three ways to pay 1,000.00.
    expected = {
        "2": (D("0.00"), D("800.00"), D("500.00"), D("200.00"), D("0.00")),
        "1": (D("0.00"), D("300.00"), D("0.00"), D("700.00"), D("0.00")),
        "0": (D("0.00"), D("0.00"), D("0.00"), D("1000.00"), D("300.00")),
    }
    for flag, paid in expected.items():
        assert figures(his.ok("2206", bill(flag))["setlinfo"]) == paid, flag
    assert (account_fen(wife_phone), account_fen(husband_phone)) == (30000, 50000)

    # 2207 with 0: all cash, no account touched (the deductible counts all the same).
    assert figures(his.ok("2207", bill("0"))["setlinfo"]) == expected["0"]
    assert (account_fen(wife_phone), account_fen(husband_phone)) == (30000, 50000)
    # 2207 with 1: the own account, then cash; the husband's account untouched. The deductible
    # (1,800.00) has 800.00 left: the fund pays 70 % of the other 200.00.
    paid = (D("140.00"), D("300.00"), D("0.00"), D("560.00"), D("0.00"))
    assert figures(his.ok("2207", bill("1"))["setlinfo"]) == paid
    assert (account_fen(wife_phone), account_fen(husband_phone)) == (0, 50000)
    # 2207 with 2: past the deductible the fund pays 700.00; the own account is empty, the
    # husband's pays the 300.00.
    paid = (D("700.00"), D("300.00"), D("300.00"), D("0.00"), D("0.00"))
    assert figures(his.ok("2207", bill("2"))["setlinfo"]) == paid
    assert (account_fen(wife_phone), account_fen(husband_phone)) == (0, 20000)
