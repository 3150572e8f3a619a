"""What a settlement decides before it writes: who pays, the fund's share, the plan, the password.

Issue 5 and issue 11. `price` runs inside the caller's transaction; with `lock` it locks the
person's year (before the accounts, in the order a refund takes them) and the accounts to debit,
in ascending id order. A preview calls it without `lock` and rolls the transaction back.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, or_, select
from sqlalchemy.orm import Session

from server.benefits.policy import Policy
from server.cards.models import Card
from server.credentials.scanning import redeem_scan_token
from server.db.models import Account, Person
from server.db.models import Terminal as TerminalRow
from server.errors import CardReportedLostError, NotFoundError, TokenRevokedError
from server.mutual_aid.queries import drawable_sources
from server.privacy import mask_name
from server.settlement import fund, rules

SELF = "self"
_ACCOUNTS = cast(Table, Account.__table__)
_PERSONS = cast(Table, Person.__table__)

# Every account this bill may debit, locked in one statement in ascending id order. Most
# patients have no mutual-aid source: their statement has no IN list to render per request.
_PAYABLE = select(
    _ACCOUNTS.c.id,
    _ACCOUNTS.c.person_id,
    _ACCOUNTS.c.balance_fen,
    _ACCOUNTS.c.password_hash,
    _ACCOUNTS.c.password_free_limit_fen,
    _PERSONS.c.name,
).join(_PERSONS, _PERSONS.c.id == _ACCOUNTS.c.person_id)
_OWN_ACCOUNT = _PAYABLE.where(_ACCOUNTS.c.person_id == bindparam("person_id")).order_by(
    _ACCOUNTS.c.id
)
_ALL_ACCOUNTS = _PAYABLE.where(
    or_(
        _ACCOUNTS.c.person_id == bindparam("person_id"),
        _ACCOUNTS.c.id.in_(bindparam("source_ids", expanding=True)),
    )
).order_by(_ACCOUNTS.c.id)
_LOCK_OWN_ACCOUNT = _OWN_ACCOUNT.with_for_update(of=_ACCOUNTS)
_LOCK_ACCOUNTS = _ALL_ACCOUNTS.with_for_update(of=_ACCOUNTS)
_TERMINALS = cast(Table, TerminalRow.__table__)
_TERMINAL_LIVE = select(_TERMINALS.c.id).where(
    _TERMINALS.c.id == bindparam("terminal_id"), _TERMINALS.c.revoked_at.is_(None)
)


@dataclass(frozen=True)
class SettleRequest:
    """A terminal's bill, as plain values (the route parsed and checked the shapes)."""

    order_no: str
    scene: rules.Scene
    medium: rules.Medium
    scan_token: str | None
    card_no: str | None
    total_fen: int
    fund_fen: int | None  # None: the server computes it with the benefit policy
    # Never in a repr (a log line or a traceback must not show it) nor in the digest.
    payment_password: str | None = field(default=None, repr=False)
    fulamt_ownpay_fen: int = 0  # 全自费
    preselfpay_fen: int = 0  # 先行自付
    overlmt_selfpay_fen: int = 0  # 超限价自付
    # Which accounts may pay the burden: the till always ALL; the HIS's acct_used_flag maps here.
    accounts: rules.AccountUse = rules.AccountUse.ALL

    def digest(self) -> str:
        """SHA-256 of the body without the password: what makes a retry "the same body"."""
        body: dict[str, Any] = {
            "order_no": self.order_no,
            "scene": self.scene.value,
            "medium": self.medium.value,
            "scan_token": self.scan_token,
            "card_no": self.card_no,
            "total_fen": self.total_fen,
            "fund_fen": self.fund_fen,
        }
        parts = [self.fulamt_ownpay_fen, self.preselfpay_fen, self.overlmt_selfpay_fen]
        if any(parts):  # absent when zero, so a body of before issue 11 keeps its digest
            body["out_of_scope_fen"] = parts
        if self.accounts is not rules.AccountUse.ALL:  # absent for ALL, as before the option
            body["accounts"] = self.accounts.value
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Terminal:
    terminal_id: str
    institution_id: int
    # The terminal API's terminals (a row in `terminals`): the settlement and the refund read
    # that row first and refuse a revoked or unknown terminal with TOKEN_REVOKED, writing nothing
    # (server/auth/tokens.py, `checks_own_terminal_revocation`). The HIS interface's terminal is
    # its institution's and has no row.
    refuse_revoked: bool = False


def refuse_revoked_terminal(s: Session, terminal: Terminal) -> None:
    """TOKEN_REVOKED for a terminal whose row is revoked or missing, when it reads its own row
    (`terminal.refuse_revoked`); the first statement of a settlement and of a refund."""
    if not terminal.refuse_revoked:
        return
    if s.scalar(_TERMINAL_LIVE, {"terminal_id": terminal.terminal_id}) is None:
        raise TokenRevokedError()


@dataclass(frozen=True)
class Priced:
    """Everything a settlement decides before it writes."""

    now: datetime
    person_id: int
    presented_by: int | None
    split: rules.BurdenSplit
    benefit: fund.Priced | None  # None when the terminal gave fund_fen
    own_account_id: int
    own_password_hash: str | None
    plan: rules.PaymentPlan
    legs: list[dict[str, Any]]
    password_needed: bool

    @property
    def fund_detail(self) -> dict[str, Any] | None:
        return None if self.benefit is None else self.benefit.share.detail.as_dict()


def price(
    s: Session,
    *,
    policy: Policy,
    password_policy: rules.PasswordPolicy,
    terminal: Terminal,
    request: SettleRequest,
    now: datetime,
    lock: bool,
) -> Priced:
    """Who pays, the fund's share and the plan; with `lock`, the year and accounts are locked."""
    bill = fund.bill_of(
        total_fen=request.total_fen,
        fulamt_ownpay_fen=request.fulamt_ownpay_fen,
        preselfpay_fen=request.preselfpay_fen,
        overlmt_selfpay_fen=request.overlmt_selfpay_fen,
    )
    # The amounts are checked before the scan token is touched (fund 0 when it is to compute).
    split = rules.split_burden(
        scene=request.scene, total_fen=request.total_fen, fund_fen=request.fund_fen or 0
    )
    presented_by: int | None = None
    if request.medium is rules.Medium.ECREDENTIAL:
        assert request.scan_token is not None  # the request model requires it
        grant = redeem_scan_token(
            s, token=request.scan_token, institution_id=terminal.institution_id, now=now
        )
        person_id, presented_by = grant.person_id, grant.presented_by_user_id
    else:
        assert request.card_no is not None
        person_id = _card_holder(s, request.card_no)
    benefit: fund.Priced | None = None
    if request.fund_fen is None:
        # The person's year is locked before the accounts, as a refund does: no deadlock.
        benefit = fund.share_of(
            s,
            policy=policy,
            person_id=person_id,
            institution_id=terminal.institution_id,
            scene=request.scene,
            bill=bill,
            now=now,
            lock=lock,
        )
        split = rules.split_burden(
            scene=request.scene, total_fen=request.total_fen, fund_fen=benefit.share.fund_fen
        )
    accounts = request.accounts
    sources = (
        drawable_sources(s, beneficiary_person_id=person_id, at=now)
        if split.personal_burden_fen > 0 and accounts is rules.AccountUse.ALL
        else []
    )
    if sources:
        statement = _LOCK_ACCOUNTS if lock else _ALL_ACCOUNTS
        params: dict[str, Any] = {
            "person_id": person_id,
            "source_ids": [src.account_id for src in sources],
        }
    else:
        statement, params = (_LOCK_OWN_ACCOUNT if lock else _OWN_ACCOUNT), {"person_id": person_id}
    payable = s.execute(statement, params).all()
    own = next((row for row in payable if row.person_id == person_id), None)
    if own is None:
        raise NotFoundError("This insured person has no personal account")
    password_needed = rules.needs_password(
        password_policy,
        scene=request.scene,
        medium=request.medium,
        personal_burden_fen=split.personal_burden_fen,
        password_free_limit_fen=own.password_free_limit_fen,
        accounts=accounts,
    )
    balances = {row.id: int(row.balance_fen) for row in payable}
    sources = [src for src in sources if src.account_id != own.id]
    plan = rules.plan_payment(
        burden_fen=split.personal_burden_fen,
        own=rules.Source(own.id, balances[own.id]),
        mutual_aid=[rules.Source(src.account_id, balances[src.account_id]) for src in sources],
        accounts=accounts,
    )
    about = {src.account_id: (src.relation, src.holder_masked) for src in sources}
    about[own.id] = (SELF, mask_name(own.name))
    legs: list[dict[str, Any]] = [
        {
            "account_id": leg.account_id,
            "source": about[leg.account_id][0],
            "holder_masked": about[leg.account_id][1],
            "amount_fen": leg.amount_fen,
        }
        for leg in plan.legs
    ]
    return Priced(
        now=now,
        person_id=person_id,
        presented_by=presented_by,
        split=split,
        benefit=benefit,
        own_account_id=own.id,
        own_password_hash=own.password_hash,
        plan=plan,
        legs=legs,
        password_needed=password_needed,
    )


def _card_holder(s: Session, card_no: str) -> int:
    card = s.get(Card, card_no)
    if card is None:
        raise NotFoundError("No card with this number")
    if card.status != "active":
        # A replaced card is as unusable as a lost one; the e-credential still pays (001).
        raise CardReportedLostError()
    return card.person_id
