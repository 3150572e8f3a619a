"""The reads other packages rely on: `drawable_sources` (settlement) and `proxy_member` (QR).

Set up through the app as people would, then read with a plain session as the callers do.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.clock import BEIJING
from server.db.models import Account, Person, User
from server.errors import NotFoundError
from server.family.queries import member_views, proxy_member
from server.mutual_aid.queries import drawable_sources
from tests.actors import PersonSpec
from tests.households import app_user, relative


@pytest.fixture
def db(app) -> Iterator[Session]:
    with app.extensions["wiring"].db.sessions() as session:
        yield session


def person_id(db: Session, person: PersonSpec) -> int:
    found = db.scalar(select(Person.id).where(Person.id_number == person.id_number))
    assert found is not None
    db.rollback()
    return found


def account_id(db: Session, person: PersonSpec) -> int:
    found = db.scalar(select(Account.id).join(Person).where(Person.id_number == person.id_number))
    assert found is not None
    db.rollback()
    return found


def sources(db: Session, beneficiary: PersonSpec, at: datetime) -> list[tuple[int, str, str]]:
    found = drawable_sources(db, beneficiary_person_id=person_id(db, beneficiary), at=at)
    db.rollback()
    return [(s.account_id, s.relation, s.holder_masked) for s in found]


def test_drawable_sources_follow_the_beneficiarys_order(client, clerk, clock, db):
    wife, wife_phone = app_user(client, clerk, "王芳")
    husband, husband_phone = app_user(client, clerk, "张伟")
    grandmother, grandmother_phone = app_user(client, clerk, "李秀兰", birth="19500101")
    husband_phone.file_beneficiary(wife, "spouse")
    grandmother_phone.file_beneficiary(wife, "child")
    now = clock.now()

    assert sources(db, wife, now) == [
        (account_id(db, husband), "spouse", "张*"),
        (account_id(db, grandmother), "parent", "李**"),
    ]

    wife_phone.reorder_sources([s["source_id"] for s in reversed(wife_phone.sources())])

    assert sources(db, wife, now) == [
        (account_id(db, grandmother), "parent", "李**"),
        (account_id(db, husband), "spouse", "张*"),
    ]


def test_a_person_with_no_filings_draws_on_nothing_but_their_own(client, clerk, clock, db):
    loner = relative(clerk, "孤独")
    assert sources(db, loner, clock.now()) == []


def test_a_withdrawn_filing_counts_until_the_moment_of_withdrawal(client, clerk, clock, db):
    wife = relative(clerk, "王芳")
    husband, husband_phone = app_user(client, clerk, "张伟")
    beneficiary_id = husband_phone.file_beneficiary(wife, "spouse").get_json()["beneficiary_id"]
    before = clock.now()
    clock.advance(3600)

    husband_phone.withdraw_beneficiary(beneficiary_id)

    assert sources(db, wife, before) == [(account_id(db, husband), "spouse", "张*")]
    assert sources(db, wife, clock.now()) == []


@pytest.mark.parametrize("app_config", [{"MUTUAL_AID_DELAY_DAYS": 2}])
def test_a_delayed_filing_is_drawn_on_from_its_effective_day(client, clerk, clock, db):
    child = relative(clerk, "张小明", birth="20150101")
    _, parent_phone = app_user(client, clerk, "张伟")
    parent_phone.file_beneficiary(child, "child")
    starts = datetime(2026, 11, 26, 0, 0, tzinfo=BEIJING)

    assert sources(db, child, clock.now()) == []
    assert sources(db, child, starts - timedelta(seconds=1)) == []
    assert [relation for _, relation, _ in sources(db, child, starts)] == ["parent"]


def test_circular_filings_draw_only_on_the_other_account(client, clerk, clock, db):
    wife, wife_phone = app_user(client, clerk, "王芳")
    husband, husband_phone = app_user(client, clerk, "张伟")
    husband_phone.file_beneficiary(wife, "spouse")
    wife_phone.file_beneficiary(husband, "spouse")

    assert sources(db, wife, clock.now()) == [(account_id(db, husband), "spouse", "张*")]
    assert sources(db, husband, clock.now()) == [(account_id(db, wife), "spouse", "王*")]


def test_a_beneficiary_who_is_also_a_holder_passes_nothing_on(client, clerk, clock, db):
    grandmother, grandmother_phone = app_user(client, clerk, "李秀兰", birth="19500101")
    mother, mother_phone = app_user(client, clerk, "王芳", birth="19750101")
    child = relative(clerk, "张小明", birth="20150101")
    grandmother_phone.file_beneficiary(mother, "child")
    mother_phone.file_beneficiary(child, "child")

    assert sources(db, mother, clock.now()) == [(account_id(db, grandmother), "parent", "李**")]
    # The grandmother filed her daughter, not her grandchild: the child draws on the mother only.
    assert sources(db, child, clock.now()) == [(account_id(db, mother), "parent", "王*")]


def test_proxy_member_answers_only_live_bindings_of_that_user(client, clerk, db):
    _, son = app_user(client, clerk, "黄磊")
    _, stranger = app_user(client, clerk, "郑凯")
    mother = relative(clerk, "黄母", birth="19520101")
    member_id = son.bind_member(mother, "parent").get_json()["member_id"]
    son_user = _user_id(db, son.number)

    found = proxy_member(db, user_id=son_user, member_id=member_id)
    assert (found.member_id, found.person_id, found.relation) == (
        member_id,
        person_id(db, mother),
        "parent",
    )
    with pytest.raises(NotFoundError):
        proxy_member(db, user_id=_user_id(db, stranger.number), member_id=member_id)

    son.unbind_member(member_id)
    with pytest.raises(NotFoundError):
        proxy_member(db, user_id=son_user, member_id=member_id)

    again = son.bind_member(mother, "parent").get_json()["member_id"]
    assert again != member_id
    assert proxy_member(db, user_id=son_user, member_id=again).person_id == person_id(db, mother)
    with pytest.raises(NotFoundError):
        proxy_member(db, user_id=son_user, member_id=member_id)
    assert [m.member_id for m in member_views(db, user_id=son_user)] == [again]


def _user_id(db: Session, phone: str) -> int:
    found = db.scalar(select(User.id).where(User.phone == phone))
    assert found is not None
    db.rollback()
    return found
