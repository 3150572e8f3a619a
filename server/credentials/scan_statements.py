"""A scan's two statements, and the connection that runs them (the hot path of issue 14).

The read: the kit behind a code's handle, its credential's status, the person shown and, for a
proxy code, whether the binding is still live (family.queries.proxy_member's rule: this
presenter's binding under this member id, not unbound) and who presents it. For the terminal
API it starts from the terminal's own row (`terminals.revoked_at`, the durable truth of its
revocation), so that the token check need not ask the store (server/auth/tokens.py,
`checks_own_terminal_revocation`). The write: the kit's counter grows (only forwards) and the scan
token is granted for it, or neither.

Lower level on purpose, and only here: on PostgreSQL both run on the pooled psycopg connection
itself, in autocommit (each statement its own transaction, one round trip, psycopg prepares them
after a few uses), with texts SQLAlchemy compiled once. SQLAlchemy's execution and result layers
cost a scan more than the statements did; its errors are kept (`PostgresScan._first` raises
them as SQLAlchemy does), so a lost database is still a 503 and a dead connection never goes
back to the pool. On SQLite (the readable reference) the same Core statements run through
SQLAlchemy, the write as two statements in one transaction (no data-modifying CTE there);
tests/service/test_scan_round_trips.py checks that both writes write the same rows.

DOMAIN.md: "The e-credential". QR.md: the order of the checks is scanning.py's.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, cast

import psycopg
from sqlalchemy import (
    Connection,
    Engine,
    Insert,
    Select,
    Table,
    and_,
    bindparam,
    insert,
    null,
    select,
    update,
)
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.pool import PoolProxiedConnection

from server.credentials.models import OfflineKit, ScanToken
from server.db.models import Credential, Person, Terminal, User
from server.family.models import FamilyMember

_KITS = cast(Table, OfflineKit.__table__)
_CREDENTIALS = cast(Table, Credential.__table__)
_PERSONS = cast(Table, Person.__table__)
_USERS = cast(Table, User.__table__)
_MEMBERS = cast(Table, FamilyMember.__table__)
_TERMINALS = cast(Table, Terminal.__table__)
_SCAN_TOKENS = cast(Table, ScanToken.__table__)
_PRESENTER_PERSONS = _PERSONS.alias("presenter_person")


@dataclass(frozen=True, slots=True)
class KitRow:
    """The read's row for a kit (its columns in this order)."""

    id: str
    person_id: int
    device_public_key: bytes
    presenter_user_id: int | None
    member_id: int | None
    relation: str | None
    last_counter: int
    credential_status: str
    name: str
    id_number: str
    insurance_type: str
    region: str
    live_member_id: int | None
    presenter_phone: str | None
    presenter_name: str | None


_KIT_COLUMNS = (
    _KITS.c.id,
    _KITS.c.person_id,
    _KITS.c.device_public_key,
    _KITS.c.presenter_user_id,
    _KITS.c.member_id,
    _KITS.c.relation,
    _KITS.c.last_counter,
    _CREDENTIALS.c.status.label("credential_status"),
    _PERSONS.c.name,
    _PERSONS.c.id_number,
    _PERSONS.c.insurance_type,
    _PERSONS.c.region,
    _MEMBERS.c.id.label("live_member_id"),
    _USERS.c.phone.label("presenter_phone"),
    _PRESENTER_PERSONS.c.name.label("presenter_name"),
)
assert [c.name for c in _KIT_COLUMNS] == [f.name for f in fields(KitRow)]

_KIT_AND_PEOPLE = (
    _KITS.join(_CREDENTIALS, _CREDENTIALS.c.id == _KITS.c.credential_id)
    .join(_PERSONS, _PERSONS.c.id == _KITS.c.person_id)
    .outerjoin(
        _MEMBERS,
        and_(
            _MEMBERS.c.id == _KITS.c.member_id,
            _MEMBERS.c.user_id == _KITS.c.presenter_user_id,
            _MEMBERS.c.unbound_at.is_(None),
        ),
    )
    .outerjoin(_USERS, _USERS.c.id == _KITS.c.presenter_user_id)
    .outerjoin(_PRESENTER_PERSONS, _PRESENTER_PERSONS.c.id == _USERS.c.person_id)
)


def _read(for_terminal: bool) -> Select[Any]:
    """The read; its first column is the terminal's revoked_at. `for_terminal`: FROM the
    terminal's row (none: an unknown terminal), the kit's columns NULL when no kit has the
    handle; else FROM the kit (none: no kit) and NULL for the terminal (the HIS interface)."""
    if not for_terminal:
        return (
            select(null().label("terminal_revoked_at"), *_KIT_COLUMNS)
            .select_from(_KIT_AND_PEOPLE)
            .where(_KITS.c.handle == bindparam("b_handle"))
        )
    return (
        select(_TERMINALS.c.revoked_at.label("terminal_revoked_at"), *_KIT_COLUMNS)
        .select_from(_TERMINALS.outerjoin(_KIT_AND_PEOPLE, _KITS.c.handle == bindparam("b_handle")))
        .where(_TERMINALS.c.id == bindparam("b_terminal_id"))
    )


_READ_FOR_TERMINAL = _read(for_terminal=True)
_READ_FOR_HIS = _read(for_terminal=False)

# The counter grows only forwards: a later code of the same device accepted meanwhile makes it
# match nothing.
_COUNTER_GREW = (
    update(_KITS)
    .where(_KITS.c.id == bindparam("b_kit_id"), _KITS.c.last_counter < bindparam("b_counter"))
    .values(last_counter=bindparam("b_counter"))
    .returning(_KITS.c.id)
)
_NEW_SCAN_TOKEN = insert(_SCAN_TOKENS)
_TOKEN_COLUMNS = (
    "token_hash",
    "person_id",
    "presented_by_user_id",
    "relation",
    "institution_id",
    "terminal_id",
    "created_at",
    "expires_at",
)


def _grant_after_growth() -> Insert:
    """PostgreSQL: both in one statement (a data-modifying CTE), its own transaction in
    autocommit: `WITH grew AS (UPDATE offline_kits ... RETURNING id) INSERT INTO scan_tokens
    SELECT ... FROM grew RETURNING token_hash`; no row back when the counter did not grow."""
    grew = _COUNTER_GREW.cte("grew")
    values = select(
        # Named b_*: an INSERT would take parameters named like its columns for VALUES.
        *(bindparam(f"b_{name}", type_=_SCAN_TOKENS.c[name].type) for name in _TOKEN_COLUMNS),
        grew.c.id,
    )
    return (
        insert(_SCAN_TOKENS)
        .from_select([*_TOKEN_COLUMNS, "kit_id"], values)
        .add_cte(grew)
        .returning(_SCAN_TOKENS.c.token_hash)
    )


_GRANT_AFTER_GROWTH = _grant_after_growth()


@dataclass(frozen=True)
class NewScanToken:
    """What the write needs: the kit's new counter and the scan token's row."""

    kit_id: str
    counter: int
    token_hash: str
    person_id: int
    presented_by_user_id: int | None
    relation: str | None
    institution_id: int
    terminal_id: str
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class Read:
    """What the read found: whether the terminal may scan (False: revoked, or no such terminal;
    always True without one), and the kit behind the handle (None: none)."""

    terminal_live: bool
    kit: KitRow | None


def _found(row: tuple[Any, ...] | None, for_terminal: bool) -> Read:
    if row is None:
        return Read(terminal_live=not for_terminal, kit=None)
    kit = KitRow(*row[1:]) if row[1] is not None else None
    return Read(terminal_live=row[0] is None, kit=kit)


def _grant_params(grant: NewScanToken) -> dict[str, Any]:
    return {
        "b_kit_id": grant.kit_id,
        "b_counter": grant.counter,
        **{f"b_{name}": getattr(grant, name) for name in _TOKEN_COLUMNS},
    }


_POSTGRES_TEXTS: dict[str, str] = {}
_CURSOR = "scan_statements.cursor"  # the key of a pooled connection's kept cursor


class PostgresScan:
    """The two statements on a pooled connection's psycopg connection."""

    def __init__(self, raw: PoolProxiedConnection, engine: Engine) -> None:
        self._raw, self._engine = raw, engine
        self._conn = cast(psycopg.Connection[Any], raw.driver_connection)

    def _text(self, name: str, statement: Select[Any] | Insert) -> str:
        text = _POSTGRES_TEXTS.get(name)
        if text is None:  # compiled once per process; the texts take pyformat parameters
            text = _POSTGRES_TEXTS[name] = str(statement.compile(dialect=self._engine.dialect))
        return text

    def _cursor(self) -> psycopg.Cursor[Any]:
        """The connection's own cursor, made at its first scan and kept in the pool entry's
        `info` (which SQLAlchemy empties when the connection is invalidated or recycled): making
        a cursor (its adapters and transformer) cost each statement about a quarter of its CPU.
        A pooled connection serves one thread at a time, so its cursor does too."""
        cur = self._raw.info.get(_CURSOR)
        if cur is None or cur.closed or cur.connection is not self._conn:
            cur = self._raw.info[_CURSOR] = self._conn.cursor()
        return cast(psycopg.Cursor[Any], cur)

    def _translated(self, exc: psycopg.Error, statement: str | None) -> StatementError:
        """psycopg's error as SQLAlchemy raises it (server/db/transaction.py and the error
        handlers know those: a lost database answers 503); a lost connection is invalidated, so
        it never returns to the pool. (A plain try/except at each call, not a context manager:
        this is the hot path.)"""
        lost = self._conn.closed or self._conn.broken  # as SQLAlchemy's dialect tells
        if lost:
            self._raw.invalidate(exc)
        return DBAPIError.instance(
            statement,
            None,
            exc,
            psycopg.Error,
            hide_parameters=True,
            connection_invalidated=lost,
        )

    def autocommit(self, on: bool) -> None:
        try:
            self._conn.autocommit = on
        except psycopg.Error as exc:
            raise self._translated(exc, None) from exc

    def _first(self, text: str, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        try:
            cur = self._cursor()
            cur.execute(text, params)
            row: tuple[Any, ...] | None = cur.fetchone()
        except psycopg.Error as exc:
            raise self._translated(exc, text) from exc
        return row

    def read(self, handle: bytes, terminal_id: str | None) -> Read:
        if terminal_id is None:
            text = self._text("read_for_his", _READ_FOR_HIS)
            return _found(self._first(text, {"b_handle": handle}), False)
        text = self._text("read_for_terminal", _READ_FOR_TERMINAL)
        return _found(self._first(text, {"b_handle": handle, "b_terminal_id": terminal_id}), True)

    def grant(self, grant: NewScanToken) -> bool:
        text = self._text("grant", _GRANT_AFTER_GROWTH)
        return self._first(text, _grant_params(grant)) is not None


class SqliteScan:
    """The same statements through SQLAlchemy (the reference path); the write in one
    transaction of two statements."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def read(self, handle: bytes, terminal_id: str | None) -> Read:
        if terminal_id is None:
            row = self._conn.execute(_READ_FOR_HIS, {"b_handle": handle}).first()
        else:
            params = {"b_handle": handle, "b_terminal_id": terminal_id}
            row = self._conn.execute(_READ_FOR_TERMINAL, params).first()
        self._conn.commit()  # reads only: nothing is held while the store is called
        return _found(None if row is None else tuple(row), terminal_id is not None)

    def grant(self, grant: NewScanToken) -> bool:
        try:
            done = write_grant(self._conn, grant, one_statement=False)
            self._conn.commit()
        except BaseException:
            self._conn.rollback()
            raise
        return done


@contextlib.contextmanager
def scan_connection(engine: Engine) -> Iterator[PostgresScan | SqliteScan]:
    """A pooled connection for one scan: PostgreSQL's in autocommit (no BEGIN or COMMIT on the
    wire), back in the pool as it was."""
    if engine.dialect.name != "postgresql":
        with engine.connect() as conn:
            yield SqliteScan(conn)
        return
    raw = engine.raw_connection()
    scan = PostgresScan(raw, engine)
    try:
        scan.autocommit(True)
        yield scan
    finally:
        try:
            if raw.is_valid:
                scan.autocommit(False)
        except DBAPIError:
            raw.invalidate()  # in a state unknown: never back into the pool
        finally:
            raw.close()


def write_grant(conn: Connection, grant: NewScanToken, one_statement: bool) -> bool:
    """Grow the kit's counter and insert the scan token, or neither (False: the counter had
    already reached this code's), on a SQLAlchemy connection, in the caller's transaction.
    `one_statement`: PostgreSQL's data-modifying CTE; else the two statements. Datetimes in UTC.
    """
    if one_statement:
        return conn.execute(_GRANT_AFTER_GROWTH, _grant_params(grant)).first() is not None
    grew = conn.execute(_COUNTER_GREW, {"b_kit_id": grant.kit_id, "b_counter": grant.counter})
    if grew.first() is None:
        return False
    conn.execute(
        _NEW_SCAN_TOKEN,
        {
            "kit_id": grant.kit_id,
            **{name: getattr(grant, name) for name in _TOKEN_COLUMNS},
            "used_at": None,
        },
    )
    return True
