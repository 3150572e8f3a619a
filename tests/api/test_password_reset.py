"""The counter's payment-password reset for a person without a phone (a relative at the desk)."""

from __future__ import annotations

import logging

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from server.db.models import Account, Person
from server.privacy import mask_id_number
from tests.actors import Clerk, PersonSpec, Phone, error_code


def _password_is(app: Flask, id_number: str, password: str) -> bool:
    w = app.extensions["wiring"]
    with w.unit_of_work() as uow, uow.session.begin():
        stored = uow.session.scalar(
            select(Account.password_hash).join(Person).where(Person.id_number == id_number)
        )
    return bool(w.hasher.verify(stored, password))


def _reset(clerk: Clerk, id_number: str, body: dict[str, object]) -> object:
    return clerk.post(f"/insured/{id_number}/password-reset", body)


def test_a_person_without_a_phone_cannot_get_a_password_by_sms(client, clerk):
    grandma = PersonSpec("周奶奶", None)
    clerk.enrol(grandma)
    r = clerk.reset_password(grandma.id_number)
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR"
    assert "screen" in r.get_json()["error"]["message"]


def test_the_desk_shows_a_reset_password_once_and_never_logs_it(
    app: Flask, client: FlaskClient, clerk: Clerk, caplog: pytest.LogCaptureFixture
) -> None:
    grandma = PersonSpec("周奶奶", None)
    clerk.enrol(grandma)
    with caplog.at_level(logging.DEBUG):
        r = _reset(clerk, grandma.id_number, {"deliver": "screen"})
    assert r.status_code == 200
    body = r.get_json()
    password = body["password"]
    assert body == {"ok": True, "password": password}
    assert len(password) == 6 and password.isdigit()
    assert password not in caplog.text
    assert _password_is(app, grandma.id_number, password)
    # a second reset makes another password; the first one is gone
    again = _reset(clerk, grandma.id_number, {"deliver": "screen"}).get_json()["password"]
    assert _password_is(app, grandma.id_number, again)
    assert again == password or not _password_is(app, grandma.id_number, password)


def test_a_reset_can_go_to_a_phone_given_for_it_naming_the_masked_holder(
    app: Flask, client: FlaskClient, clerk: Clerk
) -> None:
    grandma = PersonSpec("周奶奶", None)
    clerk.enrol(grandma)
    son = Phone(client, "13900000301")
    r = _reset(clerk, grandma.id_number, {"deliver": "sms", "phone": son.number})
    assert r.status_code == 200 and r.get_json() == {"ok": True}
    [message] = son.outbox("payment_password_reset")
    assert "周**" in message["text"] and mask_id_number(grandma.id_number) in message["text"]
    assert grandma.id_number not in message["text"] and "周奶奶" not in message["text"]
    assert _password_is(app, grandma.id_number, message["code"])
    # the phone was for this reset only: the roster still has none
    assert error_code(clerk.reset_password(grandma.id_number)) == "VALIDATION_ERROR"


def test_a_phone_alone_means_sms_and_a_reset_with_no_body_is_todays(
    app: Flask, client: FlaskClient, clerk: Clerk
) -> None:
    person = PersonSpec("吴六", "13900000302")
    clerk.enrol(person)
    own = Phone(client, person.phone)
    assert clerk.reset_password(person.id_number).get_json() == {"ok": True}
    assert len(own.outbox("payment_password")) == 2
    daughter = Phone(client, "13900000303")
    assert _reset(clerk, person.id_number, {"phone": daughter.number}).status_code == 200
    assert len(daughter.outbox("payment_password_reset")) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"deliver": "screen", "phone": "13900000304"},
        {"deliver": "sms", "phone": "1390000"},
        {"deliver": "sms", "phone": "23900000304"},
        {"deliver": "fax"},
        {"deliver": "screen", "extra": 1},
    ],
)
def test_a_bad_reset_body_is_a_validation_error(
    client: FlaskClient, clerk: Clerk, body: dict[str, object]
) -> None:
    person = PersonSpec("郑七", None)
    clerk.enrol(person)
    r = _reset(clerk, person.id_number, body)
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR"


def test_a_reset_for_an_unknown_person_is_not_found(client: FlaskClient, clerk: Clerk) -> None:
    r = _reset(clerk, PersonSpec("无", None).id_number, {"deliver": "screen"})
    assert r.status_code == 404 and error_code(r) == "NOT_FOUND"
