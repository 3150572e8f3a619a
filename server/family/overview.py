"""What the phone's Family and Account tabs read beyond the bindings: a bound relative's
personal-account balance, and the user's own medical expenses of a year.

DOMAIN.md: "Family proxy accounts" (a proxy sees the relative's account and expenses),
"The personal account (个人账户) and who pays what".
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from server.accounts.service import holder_of
from server.db.models import Account, Person
from server.family.queries import proxy_member, yearly_visits
from server.family.rules import Visit, YearTotals, year_totals
from server.privacy import mask_name
from server.uow import UnitOfWork


@dataclass(frozen=True)
class MemberAccount:
    member_id: str
    name_masked: str
    relation: str
    balance_fen: int


def member_account(uow: UnitOfWork, *, user_id: int, member_id: str) -> MemberAccount:
    """A bound relative's personal-account balance. NOT_FOUND unless the binding is live."""
    session = uow.session
    with uow.transaction():
        member = proxy_member(session, user_id=user_id, member_id=member_id)
        name, balance = session.execute(
            select(Person.name, Account.balance_fen)
            .join(Account, Account.person_id == Person.id)
            .where(Person.id == member.person_id)
        ).one()
    return MemberAccount(member_id, mask_name(name), member.relation, int(balance))


@dataclass(frozen=True)
class OwnExpenses:
    year: int
    totals: YearTotals
    visits: list[Visit]


def own_expenses(uow: UnitOfWork, *, user_id: int, year: int) -> OwnExpenses:
    """The user's own medical expenses in a Beijing calendar year. NOT_ACTIVATED before
    activation."""
    session = uow.session
    person_id = holder_of(session, user_id).person_id
    with uow.transaction():
        visits = yearly_visits(session, person_id=person_id, year=year)
    return OwnExpenses(year=year, totals=year_totals(visits), visits=visits)
