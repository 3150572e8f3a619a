"""Roster use cases: import (validated row by row, all or nothing), phone fix, and the daily
count of roster lookups. DOMAIN.md: Activation; Payment password. The payment-password use cases
(initial passwords, the counter's reset) are in passwords.py, re-exported here.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.audit import record
from server.clock import Clock, beijing_date, beijing_midnight_after
from server.db.models import Account, Person
from server.errors import RateLimitedError, RequestValidationError
from server.ports.store import ShortLivedStore
from server.privacy import mask_id_number
from server.roster.passwords import PasswordReset as PasswordReset
from server.roster.passwords import issue_pending_passwords as issue_pending_passwords
from server.roster.passwords import queue_initial_passwords as queue_initial_passwords
from server.roster.passwords import reset_password as reset_password
from server.roster.queries import person_by_id_number
from server.roster.rules import (
    INSURANCE_TYPES,
    REGIONS,
    id_number_problem,
    is_valid_phone,
    name_problem,
    person_type_for,
    person_type_problem,
)
from server.uow import UnitOfWork

MAX_ROWS = 10_000
# Activation, binding a family member and filing a beneficiary each tell the caller whether an
# ID number and name are on the roster; this many a Beijing day per user keeps that from being a
# way to search the roster.
LOOKUPS_PER_DAY = 20
MAX_TEMPLATE_BYTES = 512 * 1024
_REPORTED_PROBLEMS = 100


@dataclass(frozen=True)
class RosterRow:
    id_number: str
    name: str
    phone: str | None
    region: str
    insurance_type: str
    face_template: str  # base64 of the enrolled reference photo
    person_type: str | None = None  # in_service | retired; None: implied by insurance_type


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int  # existing persons whose stored row changed
    pending_password_accounts: list[int]
    unchanged: int = 0  # existing persons the row matched exactly (nothing written)


def row_problems(row: RosterRow) -> list[str]:
    """Each reason `row` cannot be imported, as `field: reason` (empty when it can)."""
    found = []
    if (why := id_number_problem(row.id_number)) is not None:
        found.append(f"id_number: {why}")
    if (why := name_problem(row.name)) is not None:
        found.append(f"name: {why}")
    if row.phone is not None and not is_valid_phone(row.phone):
        found.append("phone: must be an 11-digit mainland mobile number")
    if row.region not in REGIONS:
        found.append("region: unknown region code")
    if row.insurance_type not in INSURANCE_TYPES:
        found.append(f"insurance_type: one of {sorted(INSURANCE_TYPES)}")
    if (why := person_type_problem(row.insurance_type, row.person_type)) is not None:
        found.append(f"person_type: {why}")
    if _decode_template(row.face_template) is None:
        found.append("face_template: must be base64 of a non-empty image up to 512 KiB")
    return found


def _decode_template(text: str) -> bytes | None:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if 0 < len(raw) <= MAX_TEMPLATE_BYTES else None


def validate_rows(rows: Sequence[RosterRow]) -> None:
    """Refuse the whole import when any row is invalid, naming each bad row's index."""
    if not rows or len(rows) > MAX_ROWS:
        raise RequestValidationError(f"Send 1 to {MAX_ROWS} persons per call")
    bad: list[dict[str, object]] = []
    seen: dict[str, int] = {}
    for index, row in enumerate(rows):
        problems = row_problems(row)
        if row.id_number in seen:
            problems.append(f"id_number: repeats row {seen[row.id_number]}")
        seen.setdefault(row.id_number, index)
        if problems:
            bad.append({"index": index, "problems": problems})
    if bad:
        raise RequestValidationError(
            f"{len(bad)} of {len(rows)} rows are invalid; nothing was imported",
            rows=bad[:_REPORTED_PROBLEMS],
            invalid_count=len(bad),
        )


def enrolled(uow: UnitOfWork, id_numbers: Sequence[str]) -> set[str]:
    """Which of these ID numbers the roster has (a read, in chunks of 1000)."""
    found: set[str] = set()
    with uow.session.begin():
        for start in range(0, len(id_numbers), 1000):
            chunk = list(id_numbers[start : start + 1000])
            found.update(
                uow.session.scalars(select(Person.id_number).where(Person.id_number.in_(chunk)))
            )
    return found


def fix_phone(uow: UnitOfWork, id_number: str, phone: str, *, actor: str) -> None:
    """Set a person's phone; one imported without a phone gets an initial password now."""
    due = set_phone(uow.session, id_number, phone, now=uow.clock.now(), actor=actor)
    queue_initial_passwords(uow, [due] if due else [])


def import_persons(
    session: Session, rows: Sequence[RosterRow], *, now: datetime, actor: str
) -> ImportResult:
    """Create or update roster persons in one transaction (all rows or none)."""
    validate_rows(rows)
    created = updated = unchanged = 0
    pending: list[int] = []
    with session.begin():
        existing: dict[str, Person] = {}
        ids = [r.id_number for r in rows]
        for start in range(0, len(ids), 1000):
            chunk = ids[start : start + 1000]
            for person in session.scalars(select(Person).where(Person.id_number.in_(chunk))):
                existing[person.id_number] = person
        accounts: dict[int, Account] = {}
        if existing:
            person_ids = [p.id for p in existing.values()]
            for start in range(0, len(person_ids), 1000):
                for account in session.scalars(
                    select(Account).where(Account.person_id.in_(person_ids[start : start + 1000]))
                ):
                    accounts[account.person_id] = account
        new_pairs: list[tuple[Person, Account]] = []
        for row in rows:
            template = _decode_template(row.face_template)
            assert template is not None  # validated above
            found = existing.get(row.id_number)
            if found is None:
                person = Person(
                    id_number=row.id_number,
                    name=row.name,
                    phone=row.phone,
                    region=row.region,
                    insurance_type=row.insurance_type,
                    person_type=person_type_for(row.insurance_type, row.person_type),
                    face_template=template,
                    created_at=now,
                    updated_at=now,
                )
                account = Account(
                    balance_fen=0,
                    password_free_limit_fen=0,
                    password_is_initial=True,
                    password_pending=row.phone is not None,
                    created_at=now,
                )
                new_pairs.append((person, account))
                created += 1
            else:
                person = found
                if _changes(person, row, template):
                    person.name = row.name
                    person.region = row.region
                    person.insurance_type = row.insurance_type
                    person.person_type = person_type_for(row.insurance_type, row.person_type)
                    person.face_template = template
                    person.updated_at = now
                    if row.phone is not None:
                        person.phone = row.phone
                    updated += 1
                else:
                    unchanged += 1
                account = accounts[person.id]
                if person.phone and account.password_hash is None:
                    account.password_pending = True
        session.add_all([p for p, _ in new_pairs])
        session.flush()
        for person, account in new_pairs:
            account.person_id = person.id
        session.add_all([a for _, a in new_pairs])
        session.flush()
        pending = [a.id for _, a in new_pairs if a.password_pending]
        pending += [a.id for a in accounts.values() if a.password_pending]
        record(
            session,
            at=now,
            actor=actor,
            action="roster.import",
            created=created,
            updated=updated,
            unchanged=unchanged,
        )
    return ImportResult(created, updated, pending, unchanged)


def _changes(person: Person, row: RosterRow, template: bytes) -> bool:
    """Whether importing `row` would change the stored person (an empty phone keeps the old)."""
    return (
        person.name != row.name
        or person.region != row.region
        or person.insurance_type != row.insurance_type
        or person.person_type != person_type_for(row.insurance_type, row.person_type)
        or bytes(person.face_template) != template
        or (row.phone is not None and person.phone != row.phone)
    )


def set_phone(session: Session, id_number: str, phone: str, *, now: datetime, actor: str) -> int:
    """Fix a person's phone; returns the account id when an initial password is now due (or 0)."""
    if not is_valid_phone(phone):
        raise RequestValidationError("phone must be an 11-digit mainland mobile number")
    with session.begin():
        person = person_by_id_number(session, id_number)
        person.phone = phone
        person.updated_at = now
        account = session.scalar(select(Account).where(Account.person_id == person.id))
        assert account is not None
        due = account.password_hash is None
        if due:
            account.password_pending = True
        record(
            session,
            at=now,
            actor=actor,
            action="roster.phone_set",
            subject=mask_id_number(id_number),
        )
        return account.id if due else 0


def count_lookup(store: ShortLivedStore, clock: Clock, *, user_id: int) -> None:
    """Count one roster lookup by a signed-in user; RATE_LIMITED past LOOKUPS_PER_DAY a day.

    Call it before any transaction opens (it uses the short-lived store).
    """
    now = clock.now()
    day_left = int((beijing_midnight_after(now) - now).total_seconds()) + 1
    key = f"roster:lookups:{user_id}:{beijing_date(now):%Y%m%d}"
    if store.incr(key, day_left) > LOOKUPS_PER_DAY:
        raise RateLimitedError("Too many roster lookups today", retry_after=day_left)
