"""The agency desk in Chromium: a roster file with bad rows is listed row by row and nothing is
written; the clean file then imports in batches with both progress bars reaching the end."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.actors import Clerk, PersonSpec, Phone, error_code
from tests.browser.steps import snap

pytestmark = pytest.mark.browser

FIELDS = ["id_number", "name", "phone", "region", "insurance_type", "person_type", "face_template"]


def roster_csv(rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "phone": row["phone"] or "", "person_type": ""})
    return ("\ufeff" + out.getvalue()).encode()


def upload(page: Any, name: str, data: bytes) -> None:
    page.get_by_label("花名册文件", exact=True).set_input_files(
        {"name": name, "mimeType": "text/csv", "buffer": data}
    )
    page.get_by_role("button", name="上传").click()


def test_a_roster_with_bad_rows_is_refused_whole_then_the_clean_one_imports(
    context: Any, client: FlaskClient, clerk: Clerk
) -> None:
    people = [PersonSpec(f"测试{i}", f"139{i:08d}") for i in range(210)]
    rows = [p.row() for p in people]
    bad = [dict(r) for r in rows]
    bad[3]["id_number"] = bad[3]["id_number"][:17] + (
        "0" if bad[3]["id_number"][17] != "0" else "1"
    )
    bad[7]["region"] = "999999"

    page = context.new_page()
    sign_in(page)

    upload(page, "roster.csv", roster_csv(bad))
    page.get_by_text("未导入任何数据").first.wait_for()
    listed = page.locator("#problem-rows tr").all_inner_texts()
    assert listed == [
        "5\tid_number\twrong check digit",  # data row 3 is the file's row 5 (header is row 1)
        "9\tregion\tunknown region code",
    ]
    assert error_code(clerk.fix_phone(people[0].id_number, "13800009999")) == "NOT_FOUND"
    snap(page, "agency-bad-rows")

    upload(page, "roster.csv", roster_csv(rows))
    page.get_by_text("导入完成：新增 210 人").wait_for(timeout=90_000)  # 210 argon2 hashes
    assert page.locator("#problems").is_hidden()
    for bar in ("导入进度", "初始密码发送"):
        progress = page.get_by_label(bar, exact=True)
        assert progress.evaluate("el => [el.value, el.max]") == [210, 210]
    assert Phone(client, people[209].phone or "").initial_password()
    snap(page, "agency-imported")


def sign_in(page: Any) -> None:
    page.goto("/agency/")
    page.get_by_label("用户名", exact=True).fill(Clerk.ADMIN[0])
    page.get_by_label("密码", exact=True).fill(Clerk.ADMIN[1])
    page.get_by_role("button", name="登录").click()
    # The desk opens once the sign-in answered: an upload before that would go without a token.
    page.get_by_role("button", name="退出").wait_for()


def roster_xlsx(rows: list[dict[str, Any]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(FIELDS)
    for row in rows:
        sheet.append([row[f] if f != "person_type" else None for f in FIELDS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_excel_roster_is_read_on_the_server_and_its_passwords_followed(
    context: Any, client: FlaskClient
) -> None:
    people = [PersonSpec(f"表格{i}", f"137{i:08d}") for i in range(5)]
    page = context.new_page()
    sign_in(page)
    page.get_by_label("花名册文件", exact=True).set_input_files(
        {
            "name": "roster.xlsx",
            "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "buffer": roster_xlsx([p.row() for p in people]),
        }
    )
    page.get_by_role("button", name="上传").click()
    page.get_by_text("导入完成：新增 5 人").wait_for(timeout=30_000)
    progress = page.get_by_label("初始密码发送", exact=True)
    assert progress.evaluate("el => [el.value, el.max]") == [5, 5]
    assert Phone(client, people[4].phone or "").initial_password()


def test_the_desk_looks_a_person_up_and_revokes_a_terminal(
    context: Any, client: FlaskClient, clerk: Clerk
) -> None:
    person = PersonSpec("查询人", "13600000001")
    clerk.enrol(person)
    terminal = clerk.hospital_with_terminal("H901").sign_in()

    page = context.new_page()
    sign_in(page)
    page.get_by_label("身份证号（查询）", exact=True).fill(person.id_number)
    page.get_by_role("button", name="查询").click()
    result = page.get_by_label("查询结果")
    result.get_by_text("136****0001").wait_for()
    text = result.inner_text()
    assert "查**" in text and "未激活" in text and person.id_number not in text

    page.get_by_label("机构编码（可空）", exact=True).fill("H901")
    page.get_by_role("button", name="查看终端").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name=f"撤销终端 {terminal.terminal_id}").click()
    page.get_by_text(f"终端 {terminal.terminal_id} 已撤销").wait_for()
    page.get_by_role("table", name="终端列表").get_by_text("已撤销").wait_for()
    snap(page, "agency-desk")
    assert error_code(terminal.get("/reconciliation?date=2026-11-30")) == "TOKEN_REVOKED"
