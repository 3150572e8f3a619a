"""The unit of work: one object that carries the session and every port a use case may touch.

A service receives a `UnitOfWork` and nothing from Flask (as in cosmicpython's
`service_layer/unit_of_work.py`). `transaction()` is one `with session.begin():`; `run(work)` is a
transaction retried whole on a deadlock or serialization failure (server/db/transaction.py). The
rule of docs/architecture.md holds: the short-lived store is never called while the session holds
a write transaction, so passwords are checked and codes claimed before the money transaction opens.

DOMAIN.md: none: the unit of work every service runs in.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from server.clock import Clock
from server.db.transaction import run_in_transaction

if TYPE_CHECKING:
    from server.accounts.passwords import PasswordHasher
    from server.benefits.policy import Policy
    from server.config import Settings
    from server.credentials.keys import KeySource
    from server.ports.face import FaceVerifier
    from server.ports.jobs import Jobs
    from server.ports.sms import SmsSender
    from server.ports.store import ShortLivedStore
    from server.settlement.rules import PasswordPolicy

T = TypeVar("T")


@dataclass
class UnitOfWork:
    sessions: sessionmaker[Session]
    clock: Clock
    store: ShortLivedStore
    hasher: PasswordHasher
    keys: KeySource
    sms: SmsSender
    face: FaceVerifier
    jobs: Jobs
    password_policy: PasswordPolicy
    policy: Policy  # the benefit policy (待遇政策), loaded once at start
    settings: Settings
    is_postgres: bool
    opened: Session | None = None  # the session once opened, or the one handed in

    @property
    def session(self) -> Session:
        """The unit's session, opened on first use: a request that never touches it (a scan on
        PostgreSQL, /healthz) neither makes nor closes one."""
        if self.opened is None:
            self.opened = self.sessions()
        return self.opened

    @property
    def bind(self) -> Engine | Connection:
        """What the unit's statements run on, without opening a session: the handed-in session's
        bind, else the engine its sessions are made on (a scan takes connections of its own)."""
        if self.opened is not None:
            return self.opened.get_bind()
        bind: Engine | Connection = self.sessions.kw["bind"]
        return bind

    def transaction(self) -> AbstractContextManager[SessionTransaction]:
        """One transaction: committed when the block ends, rolled back by any raise."""
        return self.session.begin()

    def run(self, work: Callable[[Session], T], *, attempts: int = 5) -> T:
        """`work(session)` in one transaction, re-run whole on a deadlock (database-only work)."""
        return run_in_transaction(self.session, work, attempts=attempts)

    def close(self) -> None:
        if self.opened is not None:
            self.opened.close()

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.close()
