"""The person's year in the database: lock or create, add a settlement's delta, take a refund's off.

Issue 11; docs/benefit-policy.md, "Accumulators and refunds". Every function runs inside the
caller's transaction. Concurrent settlements for one person serialise on the row: it is created
if missing (INSERT ... ON CONFLICT DO NOTHING, so two first visits cannot both insert) and then
locked FOR UPDATE before it is read, so each adds its delta to what the other committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from sqlalchemy import ColumnElement, Table, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from server.benefits.engine import YearDelta, YearToDate
from server.benefits.models import BenefitYear

_YEARS = cast(Table, BenefitYear.__table__)


def _key(person_id: int, pool: str, year: int) -> tuple[ColumnElement[bool], ...]:
    return (_YEARS.c.person_id == person_id, _YEARS.c.pool == pool, _YEARS.c.year == year)


def lock_year(session: Session, *, person_id: int, pool: str, year: int) -> YearToDate:
    """The person's accumulators of `pool` in `year`, created at zero if missing, locked."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(_YEARS)
        .values(person_id=person_id, pool=pool, year=year, deductible_used_fen=0, fund_paid_fen=0)
        .on_conflict_do_nothing()
    )
    row = session.execute(
        select(_YEARS.c.deductible_used_fen, _YEARS.c.fund_paid_fen)
        .where(*_key(person_id, pool, year))
        .with_for_update()
    ).one()
    return YearToDate(int(row[0]), int(row[1]))


def read_year(session: Session, *, person_id: int, pool: str, year: int) -> YearToDate:
    """The accumulators as committed, without a lock or a write (a preview reads this)."""
    row = session.execute(
        select(_YEARS.c.deductible_used_fen, _YEARS.c.fund_paid_fen).where(
            *_key(person_id, pool, year)
        )
    ).first()
    return YearToDate() if row is None else YearToDate(int(row[0]), int(row[1]))


def _write(session: Session, person_id: int, pool: str, year: int, now: YearToDate) -> None:
    session.execute(
        update(_YEARS)
        .where(*_key(person_id, pool, year))
        .values(deductible_used_fen=now.deductible_used_fen, fund_paid_fen=now.fund_paid_fen)
    )


def add(
    session: Session, *, person_id: int, pool: str, year: int, before: YearToDate, delta: YearDelta
) -> None:
    """Write `before` plus a settlement's delta; `before` is what `lock_year` returned."""
    if not delta.is_zero:
        _write(session, person_id, pool, year, before.apply(delta))


def take_off(session: Session, *, person_id: int, pool: str, year: int, delta: YearDelta) -> None:
    """Subtract a refunded settlement's own recorded delta from its pool and year."""
    if delta.is_zero:
        return
    before = lock_year(session, person_id=person_id, pool=pool, year=year)
    _write(session, person_id, pool, year, before.reverse(delta))


@dataclass(frozen=True)
class PoolYear:
    pool: str
    deductible_used_fen: int
    fund_paid_fen: int


def years_of(session: Session, *, person_id: int, year: int) -> list[PoolYear]:
    """The person's accumulators of every pool counted in `year`."""
    return [
        PoolYear(str(r[0]), int(r[1]), int(r[2]))
        for r in session.execute(
            select(_YEARS.c.pool, _YEARS.c.deductible_used_fen, _YEARS.c.fund_paid_fen)
            .where(_YEARS.c.person_id == person_id, _YEARS.c.year == year)
            .order_by(_YEARS.c.pool)
        )
    ]
