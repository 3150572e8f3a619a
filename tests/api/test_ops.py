"""Health, readiness, fail-closed behaviour, the OpenAPI document and what the logs may hold."""

import io
import json
import logging
from collections.abc import Iterator
from datetime import datetime

import pytest

from server import observability
from server.observability import configure_logging
from tests.actors import PersonSpec, Phone, error_code


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """What the app writes to its log stream once logging is configured as wsgi.py does (the
    access lines included); the previous configuration is restored after."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, observability._handler)
    stream = io.StringIO()
    configure_logging("DEBUG", stream=stream)
    yield stream
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    observability._handler = saved[2]


def test_healthz_and_readyz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").get_json()["status"] == "ready"


def test_redis_down_means_not_ready_and_codes_are_refused_not_skipped(make_app):
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0")
    client = app.test_client()
    r = client.get("/readyz")
    assert r.status_code == 503 and error_code(r) == "SERVICE_UNAVAILABLE"
    r = client.post("/api/v1/auth/sms-code", json={"phone": "13900000301"})
    assert r.status_code == 503 and error_code(r) == "SERVICE_UNAVAILABLE"
    assert client.get("/api/v1/dev/sms-outbox?phone=13900000301").get_json()["messages"] == []


def test_unknown_path_and_method_answer_in_the_envelope(client):
    r = client.get("/api/v1/nowhere")
    assert r.status_code == 404 and error_code(r) == "NOT_FOUND"
    r = client.delete("/api/v1/auth/login")
    assert r.status_code == 405 and error_code(r) == "METHOD_NOT_ALLOWED"


def test_openapi_is_generated_from_the_validating_models(client):
    spec = client.get("/openapi.json").get_json()
    assert spec["openapi"].startswith("3.1")
    for path in [
        "/api/v1/auth/sms-code",
        "/api/v1/auth/login",
        "/api/v1/activation",
        "/api/v1/admin/insured",
        "/api/v1/admin/insured/{id_number}",
        "/api/v1/terminal/token",
        "/api/v1/me",
    ]:
        assert path in spec["paths"], path
    activation = spec["components"]["schemas"]["ActivationRequest"]
    assert activation["additionalProperties"] is False
    assert set(activation["required"]) >= {
        "region",
        "id_number",
        "name",
        "payment_password",
        "face_image",
        "consent",
    }
    assert spec["paths"]["/api/v1/activation"]["post"]["responses"]["201"]


def test_outbox_is_not_there_when_sms_go_to_a_gateway(make_app):
    app = make_app(SMS_BACKEND="log")
    r = app.test_client().get("/api/v1/dev/sms-outbox?phone=13900000302")
    assert r.status_code == 404


def test_no_log_line_holds_an_id_number_password_code_or_token(client, clerk, log_lines):
    person = PersonSpec("日志", "13900000303")
    clerk.enrol(person)
    phone = Phone(client, person.phone).sign_in()
    password = phone.initial_password()
    phone.activate(person, password=password)
    code = phone.latest_code()
    r = clerk.fix_phone(person.id_number, person.phone)  # an ID number in the access line's path
    logging.getLogger("test").warning("careless line with %s", person.id_number)
    text = log_lines.getvalue()
    lines = text.splitlines()
    assert [json.loads(line)["logger"] for line in lines].count("server.access") >= 5
    for secret in (person.id_number, password, code, phone.access, phone.refresh, person.phone):
        assert secret not in text
    masked = person.id_number[:3] + "***********" + person.id_number[-4:]
    assert f"PATCH /api/v1/admin/insured/{masked} {r.status_code}" in text
    assert any(json.loads(line)["msg"] == f"careless line with {masked}" for line in lines)


def test_each_request_writes_one_json_access_line(client, log_lines):
    r = client.get("/healthz", headers={"X-Request-ID": "till-7-42"})
    assert r.headers["X-Request-ID"] == "till-7-42"
    (line,) = log_lines.getvalue().splitlines()
    entry = json.loads(line)
    assert set(entry) == {"ts", "level", "logger", "msg", "request_id", "status", "ms"}
    assert (entry["level"], entry["logger"], entry["msg"]) == (
        "INFO",
        "server.access",
        "GET /healthz 200",
    )
    assert (entry["request_id"], entry["status"]) == ("till-7-42", 200)
    assert isinstance(entry["ms"], float) and entry["ms"] >= 0
    assert datetime.fromisoformat(entry["ts"]).utcoffset() is not None


@pytest.mark.parametrize("given", ['a"b', "x" * 65, "a b", ""])
def test_a_request_id_that_is_not_letters_digits_and_dashes_is_replaced(client, log_lines, given):
    r = client.get("/healthz", headers={"X-Request-ID": given})
    rid = r.headers["X-Request-ID"]
    assert rid != given and len(rid) == 32 and rid.isalnum()
    (line,) = log_lines.getvalue().splitlines()
    assert json.loads(line)["request_id"] == rid


def test_database_down_is_service_unavailable_not_a_server_error(app, client):
    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker

    dead = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    app.extensions["wiring"].db.sessions = sessionmaker(dead)
    try:
        r = client.post("/api/v1/terminal/token", json={"terminal_id": "t", "secret": "s"})
    finally:
        dead.dispose()
    assert r.status_code == 503 and error_code(r) == "SERVICE_UNAVAILABLE"
    assert r.get_json()["error"]["details"] == {"dependency": "database"}


def test_at_level_warning_no_access_line_is_written(client, log_lines):
    configure_logging("WARNING", stream=log_lines)
    assert client.get("/healthz").status_code == 200
    logging.getLogger("test").warning("still written")
    assert [json.loads(line)["msg"] for line in log_lines.getvalue().splitlines()] == [
        "still written"
    ]
