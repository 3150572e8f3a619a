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
    page.goto("/agency/")
    page.get_by_label("用户名", exact=True).fill(Clerk.ADMIN[0])
    page.get_by_label("密码", exact=True).fill(Clerk.ADMIN[1])
    page.get_by_role("button", name="登录").click()

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
