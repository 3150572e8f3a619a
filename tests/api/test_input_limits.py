"""Bad input is a 400 or a 413 in the envelope, never a 500 (issue 10, findings 6 and 7).

A NUL character reached PostgreSQL (which refuses it: a 500), JSON nested 1,000 deep in a 2 KB
anonymous body was a 500, each such 500 logged the SQL parameters, and 64 MiB bodies were read on
every route.
"""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from server.http import MAX_JSON_DEPTH
from tests.actors import PersonSpec, error_code


@pytest.mark.parametrize(
    "body",
    [
        {"username": "ad\u0000min", "password": "x"},
        {"username": "admin", "password": "x", "\u0000": "y"},
    ],
)
def test_a_nul_character_in_a_body_is_a_validation_error(client, body):
    r = client.post("/api/v1/admin/login", json=body)
    assert (r.status_code, error_code(r)) == (400, "VALIDATION_ERROR")


def test_a_nul_character_in_a_roster_row_never_reaches_the_database(clerk):
    row = PersonSpec("张\u0000三", "13900000401").row()
    r = clerk.post("/insured", {"persons": [row]})
    assert (r.status_code, error_code(r)) == (400, "VALIDATION_ERROR")


def test_a_nul_character_in_the_address_is_a_validation_error(client, clerk):
    r = client.patch(
        "/api/v1/admin/insured/11010119900307%00",
        json={"phone": "13900000402"},
        headers={"Authorization": f"Bearer {clerk.token}"},
    )
    assert (r.status_code, error_code(r)) == (400, "VALIDATION_ERROR")
    r = client.get("/api/v1/dev/sms-outbox?phone=139%0000")
    assert (r.status_code, error_code(r)) == (400, "VALIDATION_ERROR")


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 1000, 100_000])
def test_deep_nesting_in_an_anonymous_body_is_a_validation_error(client, depth):
    body = '{"phone": ' + "[" * depth + "]" * depth + "}"
    r = client.post(
        "/api/v1/auth/sms-code", data=body, headers={"Content-Type": "application/json"}
    )
    assert (r.status_code, error_code(r)) == (400, "VALIDATION_ERROR")


def test_an_anonymous_body_over_256_kib_is_refused_unread(client):
    body = json.dumps({"phone": "1" * (300 * 1024)})
    r = client.post(
        "/api/v1/auth/sms-code", data=body, headers={"Content-Type": "application/json"}
    )
    assert (r.status_code, error_code(r)) == (413, "PAYLOAD_TOO_LARGE")


def test_the_roster_import_alone_takes_a_large_body(clerk):
    people = [PersonSpec(f"大{i}", None).row() for i in range(5)]
    for row in people:
        row["face_template"] = "A" * (200 * 1024)  # 1 MiB of reference photos in all
    r = clerk.post("/insured", {"persons": people})
    assert r.status_code == 201


def test_the_engine_never_puts_parameters_in_an_error(app):
    with pytest.raises(DBAPIError) as info, app.extensions["wiring"].db.engine.connect() as conn:
        conn.execute(text("SELECT * FROM no_such_table WHERE name = :n"), {"n": "王秘密"})
    assert "王秘密" not in str(info.value)


def test_a_500_logs_the_request_id_and_the_type_never_the_message(app, caplog):
    def boom() -> str:
        raise ValueError("张三 110101199003070014")

    app.add_url_rule("/boom", view_func=boom)
    with caplog.at_level(logging.INFO):
        r = app.test_client().get("/boom", headers={"X-Request-ID": "req-500"})
    assert (r.status_code, error_code(r)) == (500, "INTERNAL_ERROR")
    (record,) = [rec for rec in caplog.records if rec.getMessage() == "unhandled error"]
    assert record.__dict__["error"] == "ValueError"
    assert r.headers["X-Request-ID"] == "req-500"
    assert "110101199003070014" not in caplog.text
    assert "张三" not in caplog.text


def test_an_oversized_request_line_or_header_set_is_refused_in_the_envelope(client):
    r = client.get("/healthz?" + "a" * 5000)
    assert r.status_code == 414 and r.get_json()["error"]["code"] == "URI_TOO_LONG"
    many = {f"X-H{i}": "1" for i in range(101)}
    r = client.get("/healthz", headers=many)
    assert r.status_code == 431 and r.get_json()["error"]["code"] == "HEADERS_TOO_LARGE"
    r = client.get("/healthz", headers={"X-Big": "a" * 9000})
    assert r.status_code == 431 and r.get_json()["error"]["code"] == "HEADERS_TOO_LARGE"
    assert client.get("/healthz", headers={"X-Ok": "a" * 8000}).status_code == 200


def test_the_request_line_and_header_limits_hold_to_the_byte(client):
    from server.http import MAX_HEADER_BYTES, MAX_HEADERS, MAX_REQUEST_LINE_BYTES

    # "GET /healthz?a...a HTTP/1.1": the line is the method, target and protocol with 2 spaces.
    fixed = len("GET /healthz? HTTP/1.1")
    fits = "a" * (MAX_REQUEST_LINE_BYTES - fixed)
    assert client.get("/healthz?" + fits).status_code == 200
    r = client.get("/healthz?" + fits + "a")
    assert (r.status_code, error_code(r)) == (414, "URI_TOO_LONG")
    # A header is "Name: value"; the test client sends a few of its own (Host, User-Agent).
    value = "a" * (MAX_HEADER_BYTES - len("X-Big: "))
    assert client.get("/healthz", headers={"X-Big": value}).status_code == 200
    r = client.get("/healthz", headers={"X-Big": value + "a"})
    assert (r.status_code, error_code(r)) == (431, "HEADERS_TOO_LARGE")
    own = len(client.get("/healthz").request.headers)
    many = {f"X-H{i}": "1" for i in range(MAX_HEADERS - own)}
    assert client.get("/healthz", headers=many).status_code == 200
    r = client.get("/healthz", headers={**many, "X-One-More": "1"})
    assert (r.status_code, error_code(r)) == (431, "HEADERS_TOO_LARGE")
    # Content-Type and Content-Length are headers too, when they are sent.
    r = client.post("/healthz", data="{}", headers=many, content_type="application/json")
    assert (r.status_code, error_code(r)) == (431, "HEADERS_TOO_LARGE")


def test_only_a_decoded_nul_in_the_query_is_refused(client):
    assert client.get("/healthz?x=%2500").status_code == 200  # the text "%00", not a NUL
    r = client.get("/healthz?x%00=1")  # a NUL in a name
    assert (r.status_code, error_code(r)) == (400, "VALIDATION_ERROR")
