"""The person's year as the phone shows it: per pool, the deductible used and left, the fund paid.

Issue 11, GET /api/v1/account/year. The deductible shown is the person's rule's at a level-3
hospital in the version of the policy in force on the day asked about (today, or 31 December of
a past year).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from server.accounts.service import holder_of
from server.benefits import service as years
from server.benefits.policy import Level, Policy, PooledRule, person_of
from server.clock import beijing_date
from server.db.models import Person
from server.family.queries import proxy_member
from server.uow import UnitOfWork


@dataclass(frozen=True)
class PoolView:
    pool: str
    name: str
    deductible_fen: int | None
    deductible_used_fen: int
    fund_paid_fen: int

    @property
    def deductible_left_fen(self) -> int | None:
        if self.deductible_fen is None:
            return None
        return max(0, self.deductible_fen - self.deductible_used_fen)


def _deductibles(policy: Policy, insurance_type: str, person_type: str, on: date) -> dict[str, int]:
    scheme, _ = person_of(insurance_type)
    found: dict[str, int] = {}
    for version in policy.versions:
        if version.is_in_force(on):
            for (kind, ptype, _, level), rule in version.rules.items():
                if (
                    kind == scheme
                    and ptype.value == person_type
                    and level is Level.THIRD
                    and isinstance(rule, PooledRule)
                ):
                    found.setdefault(rule.pool, rule.deductible_fen)
    return found


def year_view(
    uow: UnitOfWork, *, user_id: int, member_id: str | None, year: int | None
) -> tuple[int, list[PoolView]]:
    """The year asked (this Beijing year by default) and its pools, for the user or a member.

    Raises NotActivatedError (the user), NotFoundError (no such bound member).
    """
    session, policy = uow.session, uow.policy
    today = beijing_date(uow.clock.now())
    year = year or today.year
    on = today if year == today.year else date(year, 12, 31)
    if member_id is None:
        person_id = holder_of(session, user_id).person_id
    with session.begin():
        if member_id is not None:
            person_id = proxy_member(session, user_id=user_id, member_id=member_id).person_id
        insurance_type, person_type = session.execute(
            select(Person.insurance_type, Person.person_type).where(Person.id == person_id)
        ).one()
        counted = {row.pool: row for row in years.years_of(session, person_id=person_id, year=year)}
    deductibles = _deductibles(policy, insurance_type, person_type, on)
    pools = sorted(set(deductibles) | set(counted))
    return year, [
        PoolView(
            pool=pool,
            name=policy.pools[pool].name if pool in policy.pools else pool,
            deductible_fen=deductibles.get(pool),
            deductible_used_fen=counted[pool].deductible_used_fen if pool in counted else 0,
            fund_paid_fen=counted[pool].fund_paid_fen if pool in counted else 0,
        )
        for pool in pools
    ]
