"""What every HIS transaction shares: the context of one message and the helpers on it.

`Ctx` carries one parsed message (its unit of work, envelope, institution and time) to a
transaction's function; `Handler` is such a function's type. The helpers read what several
transactions need (our psn_no, the person a scan token stands for without using it up, the
account balance, a live visit of the institution, whether a visit has a live settlement) and
write the wire's times and serial numbers. It imports no other module of server/hospital.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.clock import BEIJING
from server.credentials.models import ScanToken
from server.db.models import Account, Person
from server.errors import ScanTokenInvalidError
from server.his import codes
from server.his.envelope import (
    Envelope,
)
from server.his.errors import HisInputError
from server.hospital.models import HisSettlement, HisVisit
from server.settlement.service import Terminal
from server.uow import UnitOfWork


# --- one message ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Ctx:
    uow: UnitOfWork
    env: Envelope
    institution_id: int
    now: datetime

    @property
    def code(self) -> str:
        return self.env.fixmedins_code

    @property
    def terminal(self) -> Terminal:
        # Settlements and scan tokens name a terminal; the HIS of an institution is one.
        return Terminal(terminal_id=his_terminal_id(self.code), institution_id=self.institution_id)


def his_terminal_id(fixmedins_code: str) -> str:
    return f"his:{fixmedins_code}"[:36]


Handler = Callable[[Ctx], Mapping[str, Any]]


# --- helpers ------------------------------------------------------------------------------
def psn_no(person: Person) -> str:
    """Our 人员编号: P + region + the person's id (what 1101 answers and the rest names)."""
    return f"P{person.region}{person.id:06d}"


def _wire_time(at: datetime) -> str:
    return at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def _serial(prefix: str, at: datetime) -> str:
    return (
        prefix + at.astimezone(BEIJING).strftime("%Y%m%d%H%M%S") + f"{secrets.randbelow(10**8):08d}"
    )


def _peek_token(session: Session, *, token: str, institution_id: int, now: datetime) -> Person:
    """The person a scan token stands for, without using it up (1101, 2201, 2206)."""
    digest = hashlib.sha256(token.encode("utf-8")).hexdigest()
    person_id = session.scalar(
        select(ScanToken.person_id).where(
            ScanToken.token_hash == digest,
            ScanToken.institution_id == institution_id,
            ScanToken.used_at.is_(None),
            ScanToken.expires_at > now,
        )
    )
    person = session.get(Person, person_id) if person_id is not None else None
    if person is None:
        raise ScanTokenInvalidError()
    return person


def _check_person(person: Person, given_psn_no: str | None, insutype: str | None) -> str:
    """The person's insutype, after checking psn_no and insutype agree with the e-credential."""
    if given_psn_no is not None and given_psn_no != psn_no(person):
        raise HisInputError("psn_no", "人员编号与电子凭证不符")
    theirs = codes.insutype_for(person.insurance_type)
    if insutype is not None and insutype != theirs:
        raise HisInputError("insutype", f"参保人的险种类型为 {theirs}，收到 {insutype}")
    return theirs


def _balance(session: Session, person_id: int) -> int:
    balance = session.scalar(select(Account.balance_fen).where(Account.person_id == person_id))
    if balance is None:
        raise HisInputError("psn_no", "参保人没有个人账户", code="NOT_FOUND")
    return int(balance)


def _live_visit(session: Session, ctx: Ctx, mdtrt_id: str) -> HisVisit:
    visit = session.get(HisVisit, mdtrt_id)
    if visit is None or visit.institution_id != ctx.institution_id or visit.cancelled_at:
        raise HisInputError("mdtrt_id", "就诊记录不存在或已撤销", code="NOT_FOUND")
    return visit


def _visit_settled(session: Session, mdtrt_id: str) -> bool:
    return (
        session.scalar(
            select(HisSettlement.setl_id).where(
                HisSettlement.mdtrt_id == mdtrt_id, HisSettlement.cancelled_at.is_(None)
            )
        )
        is not None
    )
