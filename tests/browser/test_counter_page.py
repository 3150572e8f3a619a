"""The till in Chromium: sign-in, a scanner typing the code and Enter, the bill, the password
when the table asks for one, the receipt, look-up by order number, refund, reconciliation."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.actors import Clerk, Terminal
from tests.api.money_steps import balance, insured_with_money
from tests.browser.steps import snap

pytestmark = pytest.mark.browser


def sign_in(page: Any, terminal: Terminal) -> None:
    page.goto("/counter/")
    page.get_by_label("终端编号", exact=True).fill(terminal.terminal_id)
    page.get_by_label("终端密钥", exact=True).fill(terminal.secret)
    page.get_by_role("button", name="登录").click()
    page.get_by_label("扫码", exact=True).wait_for()


def scan(page: Any, qr_text: str) -> None:
    """What a USB scanner does: types the whole text into the focused field, then Enter."""
    page.wait_for_function("document.activeElement === document.getElementById('scan')")
    page.keyboard.type(qr_text)
    page.keyboard.press("Enter")
    page.get_by_text("扫码成功").wait_for()


def bill(page: Any, total: str, fund: str, scene: str = "outpatient") -> None:
    page.get_by_label("场景", exact=True).select_option(scene)
    page.get_by_label("总金额（元）", exact=True).fill(total)
    page.get_by_label("统筹支付（元）", exact=True).fill(fund)
    page.get_by_role("button", name="结算").click()


def test_the_till_scans_settles_prints_looks_up_and_refunds(
    context: Any, client: FlaskClient, clerk: Clerk
) -> None:
    insured = insured_with_money(client, clerk, "周强", "13900000031", 100_000)
    terminal = clerk.hospital_with_terminal()
    page = context.new_page()
    sign_in(page, terminal)

    scan(page, insured.phone.get("/credential/qr").get_json()["qr_text"])
    assert page.locator("#p-name").inner_text() == "周*"
    assert page.locator("#p-presenter").inner_text() == "本人"
    assert page.locator("#p-type").inner_text() == "职工医保（在职）"  # not the API's code
    bill(page, "120.50", "80")
    page.get_by_text("结算完成").wait_for()
    receipt = page.locator("#receipt").inner_text()
    assert "40.50" in receipt  # paid from the personal account
    assert "应收现金（元）\t0.00" in receipt
    assert balance(insured) == 100_000 - 4_050
    order_no = page.locator("#order-no").inner_text()
    snap(page, "counter")

    # The receipt prints alone (the print stylesheet hides the rest).
    page.emulate_media(media="print")
    assert not page.get_by_label("扫码", exact=True).is_visible()
    assert page.locator("#receipt").is_visible()
    page.emulate_media(media="screen")

    # Whatever had the focus, the scanner's keystrokes land in the scan field.
    page.evaluate("document.activeElement.blur()")
    page.keyboard.type(insured.phone.get("/credential/qr").get_json()["qr_text"])
    page.keyboard.press("Enter")
    page.get_by_text("扫码成功").wait_for()

    page.get_by_label("订单号", exact=True).fill(order_no)
    page.get_by_role("button", name="查询").click()
    page.get_by_text("已找到该笔结算").wait_for()
    page.get_by_role("button", name="退款").click()
    page.get_by_text("已退款，款项原路退回").wait_for()
    assert "已退款" in page.locator("#receipt").inner_text()
    assert balance(insured) == 100_000

    page.get_by_role("button", name="对账").click()
    page.locator("#recon").get_by_text("退款笔数").wait_for()


def test_a_bill_above_the_password_free_limit_asks_for_the_password(
    context: Any, client: FlaskClient, clerk: Clerk
) -> None:
    insured = insured_with_money(client, clerk, "吴磊", "13900000032", 500_000)
    terminal = clerk.hospital_with_terminal()
    page = context.new_page()
    sign_in(page, terminal)
    scan(page, insured.phone.get("/credential/qr").get_json()["qr_text"])
    bill(page, "3000", "0", scene="inpatient_discharge")  # over the limit: asks
    password = page.get_by_label("支付密码", exact=True)
    password.wait_for()
    wrong = "000000" if insured.password != "000000" else "111111"
    password.fill(wrong)
    page.get_by_role("button", name="结算").click()
    page.get_by_text("还可尝试").wait_for()
    password.fill(insured.password)
    page.get_by_role("button", name="结算").click()
    page.get_by_text("结算完成").wait_for()
    assert balance(insured) == 500_000 - 300_000


def test_an_empty_fund_share_is_computed_and_previewed_before_settling(
    context: Any, client: FlaskClient, clerk: Clerk
) -> None:
    insured = insured_with_money(client, clerk, "郑洁", "13900000033", 100_000)
    terminal = clerk.hospital_with_terminal()
    page = context.new_page()
    sign_in(page, terminal)
    scan(page, insured.phone.get("/credential/qr").get_json()["qr_text"])
    page.get_by_label("总金额（元）", exact=True).fill("500")
    assert page.get_by_label("统筹支付（元）", exact=True).input_value() == ""
    page.get_by_role("button", name="试算").click()
    preview = page.get_by_role("region", name="试算结果")
    preview.get_by_text("计算规则").wait_for()
    assert balance(insured) == 100_000  # a preview takes nothing
    shown = dict(
        line.split("\t", 1) for line in preview.locator("tr").all_inner_texts() if "\t" in line
    )
    fund = shown["统筹支付（元）"]
    snap(page, "counter-preview")

    page.get_by_role("button", name="结算").click()
    page.get_by_text("结算完成").wait_for()
    receipt = dict(
        line.split("\t", 1)
        for line in page.locator("#receipt tr").all_inner_texts()
        if "\t" in line
    )
    assert receipt["统筹支付（元）"] == fund
    paid = 50_000 - round(float(fund) * 100)
    assert balance(insured) == 100_000 - paid
