"""Family bindings and filings under parallel requests (PostgreSQL: real row locks)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from server.db.models import Person, User
from server.errors import AppError
from server.family import service as family
from server.mutual_aid import service as mutual_aid
from server.mutual_aid.models import MutualAidFiling
from tests.actors import PersonSpec, face
from tests.households import app_user, relative


def _user_id(app, phone: str) -> int:
    with app.extensions["wiring"].db.sessions() as s:
        found = s.scalar(select(User.id).where(User.phone == phone))
    assert found is not None
    return found


def _outcome(call) -> str:
    try:
        call()
        return "ok"
    except AppError as exc:
        return exc.code


def _bind(app, clock, user_id: int, member: PersonSpec) -> str:
    w = app.extensions["wiring"]

    def call() -> None:
        with w.unit_of_work() as uow:
            family.bind_member(
                uow,
                user_id=user_id,
                form=family.BindingForm(member.id_number, member.name, "child", face(member.name)),
            )

    return _outcome(call)


def _file(app, clock, user_id: int, beneficiary: PersonSpec, relation: str) -> str:
    w = app.extensions["wiring"]

    def call() -> None:
        with w.unit_of_work() as uow:
            mutual_aid.file_beneficiary(
                uow,
                user_id=user_id,
                form=mutual_aid.FilingForm(beneficiary.id_number, beneficiary.name, relation),
            )

    return _outcome(call)


@pytest.mark.postgres
def test_eight_parallel_bindings_make_exactly_five_members(app, client, clerk, clock):
    person, phone = app_user(client, clerk, "陈静")
    user_id = _user_id(app, str(person.phone))
    children = [relative(clerk, f"陈子{i}", birth="20100101") for i in range(8)]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda c: _bind(app, clock, user_id, c), children))

    assert sorted(results) == ["FAMILY_LIMIT_REACHED"] * 3 + ["ok"] * 5
    assert len(phone.family_members()) == 5


@pytest.mark.postgres
def test_one_member_bound_eight_times_in_parallel_is_bound_once(app, client, clerk, clock):
    person, phone = app_user(client, clerk, "陈静")
    user_id = _user_id(app, str(person.phone))
    child = relative(clerk, "陈子", birth="20100101")

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: _bind(app, clock, user_id, child), range(8)))

    assert sorted(results) == ["ALREADY_BOUND"] * 7 + ["ok"]
    assert len(phone.family_members()) == 1


@pytest.mark.postgres
def test_parallel_filings_for_one_beneficiary_take_distinct_places(app, client, clerk, clock):
    child, child_phone = app_user(client, clerk, "张小明", birth="20000101")
    parents = [app_user(client, clerk, f"张父{i}", birth="19700101") for i in range(6)]
    holder_ids = [_user_id(app, str(p.phone)) for p, _ in parents]

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda u: _file(app, clock, u, child, "child"), holder_ids))

    assert results == ["ok"] * 6
    with app.extensions["wiring"].db.sessions() as s:
        child_id = s.scalar(select(Person.id).where(Person.id_number == child.id_number))
        positions = s.scalars(
            select(MutualAidFiling.position).where(
                MutualAidFiling.beneficiary_person_id == child_id
            )
        ).all()
    assert sorted(positions) == [1, 2, 3, 4, 5, 6]
    assert len(child_phone.sources()) == 6


@pytest.mark.postgres
def test_one_beneficiary_filed_in_parallel_is_filed_once(app, client, clerk, clock):
    person, holder = app_user(client, clerk, "张伟")
    user_id = _user_id(app, str(person.phone))
    wife = relative(clerk, "王芳")

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: _file(app, clock, user_id, wife, "spouse"), range(8)))

    assert sorted(results) == ["ALREADY_FILED"] * 7 + ["ok"]
    assert len(holder.beneficiaries()) == 1
