"""Health, readiness, fail-closed behaviour, the OpenAPI document and what the logs may hold."""

import logging

from server.observability import RedactingJsonFormatter
from tests.actors import PersonSpec, Phone, error_code


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


def test_no_log_line_holds_an_id_number_password_code_or_token(client, clerk, caplog):
    formatter = RedactingJsonFormatter()
    person = PersonSpec("日志", "13900000303")
    with caplog.at_level(logging.DEBUG):
        clerk.enrol(person)
        phone = Phone(client, person.phone).sign_in()
        password = phone.initial_password()
        phone.activate(person, password=password)
        code = phone.latest_code()
        logging.getLogger("test").warning("careless line with %s", person.id_number)
    lines = [formatter.format(record) for record in caplog.records]
    text = "\n".join(lines)
    assert lines
    for secret in (person.id_number, password, code, phone.access, phone.refresh, person.phone):
        assert secret not in text
    assert person.id_number[:3] + "***********" + person.id_number[-4:] in text


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
