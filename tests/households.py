"""Families for tests: relatives on the agency's roster, some of them with an activated phone.

`relative(...)` is a person the clerk enrolled (no phone, no app: a grandmother, a child);
`app_user(...)` is one who also signed in and activated the e-credential.
"""

from __future__ import annotations

import itertools

from flask.testing import FlaskClient

from tests.actors import Clerk, PersonSpec, Phone, id_number

_phones = itertools.count(13700000001)


def relative(
    clerk: Clerk, name: str, *, birth: str = "19900307", with_phone: bool = False
) -> PersonSpec:
    person = PersonSpec(
        name, str(next(_phones)) if with_phone else None, id_number=id_number(birth)
    )
    clerk.enrol(person)
    return person


def app_user(
    client: FlaskClient, clerk: Clerk, name: str, *, birth: str = "19900307"
) -> tuple[PersonSpec, Phone]:
    person = relative(clerk, name, birth=birth, with_phone=True)
    phone = Phone(client, str(person.phone)).sign_in()
    r = phone.activate(person)
    assert r.status_code == 201, r.get_json()
    return person, phone
