"""A roster uploaded as an Excel workbook: the same checks as a CSV's rows, then one import."""

import base64
import io

from openpyxl import Workbook

from tests.actors import PersonSpec, Phone, bearer, error_code

HEADER = ["id_number", "name", "phone", "region", "insurance_type", "person_type", "face_template"]


def workbook(*people: PersonSpec, numeric: bool = False) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for p in people:
        row = p.row()
        phone = int(row["phone"]) if numeric and row["phone"] else row["phone"]
        sheet.append(
            [
                row["id_number"],
                row["name"],
                phone,
                int(row["region"]) if numeric else row["region"],
                row["insurance_type"],
                None,
                row["face_template"],
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(clerk, data: bytes, **form):
    return clerk.client.post(
        "/api/v1/admin/insured/xlsx",
        data={"file": (io.BytesIO(data), "roster.xlsx"), **form},
        headers=bearer(clerk.token),
        content_type="multipart/form-data",
    )


def test_a_clean_workbook_is_imported_and_its_passwords_are_sent(client, clerk):
    a, b = PersonSpec("甲", "13900000901"), PersonSpec("乙", None)
    r = upload(clerk, workbook(a, b, numeric=True))
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert (body["imported"], body["count"], body["created"], body["updated"]) == (True, 2, 2, 0)
    assert body["job_id"] and Phone(client, a.phone).initial_password()


def test_a_dry_run_writes_nothing(client, clerk):
    a = PersonSpec("丙", "13900000902")
    r = upload(clerk, workbook(a), dry_run="true")
    assert r.status_code == 200 and r.get_json()["imported"] is False
    assert Phone(client, a.phone).outbox("payment_password") == []


def test_bad_rows_are_listed_and_nothing_is_written(client, clerk):
    good, bad = PersonSpec("丁", "13900000903"), PersonSpec("戊", "1390000")
    r = upload(clerk, workbook(good, bad))
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert (body["imported"], body["invalid_count"]) == (False, 1)
    assert [(p["index"], p["field"]) for p in body["problems"]] == [(1, "phone")]
    assert Phone(client, good.phone).outbox("payment_password") == []


def test_the_workbook_may_come_as_base64_json(clerk):
    data = workbook(PersonSpec("己", None))
    r = clerk.post("/insured/xlsx", {"file_base64": base64.b64encode(data).decode()})
    assert r.status_code == 201 and r.get_json()["created"] == 1


def test_a_file_that_is_not_a_workbook_or_lacks_columns_is_refused(clerk):
    r = upload(clerk, b"id_number,name\n1,2\n")
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR"
    book = Workbook()
    book.active.append(["id_number", "name"])
    out = io.BytesIO()
    book.save(out)
    r = upload(clerk, out.getvalue())
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR"
    assert "person_type" not in r.get_json()["error"]["details"]["missing"]
    assert "region" in r.get_json()["error"]["details"]["missing"]
