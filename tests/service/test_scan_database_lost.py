"""A scan that loses PostgreSQL (issue 14: its two statements run on the psycopg connection itself,
server/credentials/scan_statements.py): SERVICE_UNAVAILABLE as before, nothing claimed, and the
lost connection never serves again."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, text

from tests.actors import PersonSpec, Phone, error_code

pytestmark = pytest.mark.postgres


def test_a_scan_that_loses_its_connection_answers_503_and_the_code_scans_later(app, client, clerk):
    clerk.enrol(person := PersonSpec("冯十五", "13900000901"))
    phone = Phone(client, person.phone).sign_in()
    assert phone.activate(person).status_code == 201
    terminal = clerk.hospital_with_terminal("H901").sign_in()
    r = phone.get("/credential/qr")
    assert r.status_code == 200, r.get_json()
    code = r.get_json()["qr_text"]

    # Every idle connection of the app's pool is killed on the server (a restart, a failover).
    pool = app.extensions["wiring"].db.engine.pool
    pids = [record.dbapi_connection.info.backend_pid for record in pool._pool.queue]
    assert pids
    admin = create_engine(os.environ["DATABASE_URL"])
    try:
        with admin.begin() as conn:
            for pid in pids:
                conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        admin.dispose()

    answers = []
    for _ in range(len(pids) + 1):  # each refusal drops at least one dead connection
        r = terminal.post("/scan", {"qr_text": code})
        answers.append((r.status_code, error_code(r) if r.status_code != 200 else None))
        if r.status_code == 200:
            break
    # Refused honestly while dead connections come up (never a 500), and the code was not
    # claimed by a refused scan: it is accepted once the pool has live connections again.
    assert answers[0] == (503, "SERVICE_UNAVAILABLE"), answers
    assert set(answers[:-1]) == {(503, "SERVICE_UNAVAILABLE")} and answers[-1][0] == 200, answers
