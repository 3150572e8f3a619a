"""The phone page in Chromium: SMS login, activation, and codes made in the browser that the
terminal API accepts, online and then offline. CONTRACT.md: /app/; docs/qr-format.md."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from server.clock import FrozenClock
from tests.actors import Clerk, PersonSpec, Phone, Terminal, face
from tests.api.money_steps import credit, new_order_no
from tests.browser.steps import shown_code, snap

pytestmark = pytest.mark.browser


def sign_in_and_activate(page: Any, client: FlaskClient, person: PersonSpec) -> None:
    assert person.phone is not None
    outbox = Phone(client, person.phone)
    page.goto("/app/")
    page.get_by_label("手机号", exact=True).fill(person.phone)
    page.get_by_role("button", name="获取验证码").click()
    page.get_by_text("验证码已发送").wait_for()
    page.get_by_label("验证码", exact=True).fill(outbox.latest_code())
    page.get_by_role("button", name="登录").click()
    page.get_by_label("身份证号", exact=True).fill(person.id_number)
    page.get_by_label("姓名", exact=True).fill(person.name)
    page.get_by_label("支付密码", exact=True).fill(outbox.initial_password())
    page.get_by_label("人脸照片", exact=True).set_input_files(
        {"name": "face.jpg", "mimeType": "image/jpeg", "buffer": _face_bytes(person.name)}
    )
    page.get_by_label("同意", exact=True).check()
    page.get_by_role("button", name="激活").click()


def _face_bytes(name: str) -> bytes:
    import base64

    return base64.b64decode(face(name))


def settle(terminal: Terminal, qr_text: str, total_fen: int, fund_fen: int) -> dict[str, Any]:
    r = terminal.post("/scan", {"qr_text": qr_text})
    assert r.status_code == 200, r.get_json()
    r = terminal.post(
        "/settlements",
        {
            "order_no": new_order_no(),
            "scene": "outpatient",
            "medium": "ecredential",
            "scan_token": r.get_json()["scan_token"],
            "total_fen": total_fen,
            "fund_fen": fund_fen,
        },
    )
    assert r.status_code == 201, r.get_json()
    body: dict[str, Any] = r.get_json()
    return body


def test_a_code_made_in_the_browser_settles_and_a_fresh_one_is_made_offline(
    context: Any, client: FlaskClient, clerk: Clerk, clock: FrozenClock
) -> None:
    person = PersonSpec("王芳", "13900000011")
    clerk.enrol(person)
    assert credit(clerk, "2026-11", (person, 50_000)).status_code == 201
    terminal = clerk.hospital_with_terminal().sign_in()
    page = context.new_page()
    page.clock.install(time=clock.now().timestamp())

    sign_in_and_activate(page, client, person)
    first = shown_code(page)
    assert first.startswith("EC1:")
    page.get_by_text("秒后自动刷新").wait_for()
    snap(page, "phone-code")
    paid = settle(terminal, first, total_fen=10_000, fund_fen=6_000)
    assert paid["cash_due_fen"] == 0
    assert paid["paid_from_accounts"][0]["amount_fen"] == 4_000

    # No network, and the clock past the step: the page still makes a new, accepted code.
    context.set_offline(True)
    clock.advance(35)
    page.clock.fast_forward(35_000)
    second = shown_code(page, previous=first)
    page.get_by_text("当前离线").wait_for()
    assert settle(terminal, second, total_fen=1_000, fund_fen=0)["cash_due_fen"] == 0

    # The page itself comes from the service worker's cache while offline.
    page.reload()
    third = shown_code(page, previous=second)
    assert third != second
    context.set_offline(False)

    # The account tab's year comes from the server: the year so far and this year's expenses.
    page.get_by_role("button", name="账户").click()
    page.get_by_text("共 2 次就诊").wait_for()
    assert "总费用 110.00 元" in page.locator("#own-expenses").inner_text()
    assert "年度累计" in page.locator("#year-so-far").inner_text()
    snap(page, "phone-account")


def test_a_relative_bound_on_the_page_gets_a_code_the_till_sees_as_presented(
    context: Any, client: FlaskClient, clerk: Clerk, clock: FrozenClock
) -> None:
    holder = PersonSpec("刘洋", "13900000051")
    mother = PersonSpec("刘母", None)
    clerk.enrol(holder, mother)
    terminal = clerk.hospital_with_terminal().sign_in()
    page = context.new_page()
    page.clock.install(time=clock.now().timestamp())
    sign_in_and_activate(page, client, holder)
    own = shown_code(page)

    page.get_by_role("button", name="家庭").click()
    page.get_by_label("亲属身份证号", exact=True).fill(mother.id_number)
    page.get_by_label("亲属姓名", exact=True).fill(mother.name)
    page.get_by_label("关系", exact=True).select_option("parent")
    page.get_by_label("亲属人脸照片", exact=True).set_input_files(
        {"name": "mother.jpg", "mimeType": "image/jpeg", "buffer": _face_bytes(mother.name)}
    )
    page.get_by_role("button", name="绑定亲属").click()
    page.get_by_text("绑定成功").wait_for()
    page.get_by_role("button", name="出示TA的医保码").click()
    code = shown_code(page, previous=own)

    r = terminal.post("/scan", {"qr_text": code})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["person"]["name_masked"] == "刘*"
    assert r.get_json()["presented_by"] is not None

    page.get_by_role("button", name="家庭").click()
    page.get_by_role("button", name="今年费用").click()
    page.get_by_text("共 0 次就诊").wait_for()
    assert credit(clerk, "2026-01", (mother, 12_345)).status_code == 201
    page.get_by_role("button", name="刘*的账户余额").click()
    page.get_by_text("刘*的个人账户余额：123.45 元").wait_for()
    snap(page, "phone-family")
