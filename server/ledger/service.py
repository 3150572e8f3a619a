"""Writing the journal: `post` turns checked postings into entries and cached balances.

Every function here runs inside the caller's transaction (`with session.begin()` in a service);
none commits.

DOMAIN.md: "The personal account (个人账户) and who pays what", "Dates and money".
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, event, insert, select, update
from sqlalchemy.orm import Session

from server.db.dialect import insert_for
from server.db.models import Account
from server.ledger import rules
from server.ledger.models import JournalEntry, JournalTransaction, SystemAccount

FUND = "fund"  # the medical-insurance fund (统筹基金): credits, interest, its share of bills
EXTERNAL = "external"  # money outside the system: cash, bank cards, WeChat, Alipay
INSURER = "insurer"  # the supplementary insurer, paid premiums

# Core tables: the hot path writes with plain statements, no ORM identity bookkeeping.
_ACCOUNTS = cast(Table, Account.__table__)
_TRANSACTIONS = cast(Table, JournalTransaction.__table__)
_ENTRIES = cast(Table, JournalEntry.__table__)

# Built once: building a statement (and its cache key) costs more Python than running it.
_NEW_TRANSACTION = insert(_TRANSACTIONS).returning(_TRANSACTIONS.c.id)
_MOVE_BALANCE = (
    update(_ACCOUNTS)
    .where(_ACCOUNTS.c.id == bindparam("b_account_id"))
    .values(balance_fen=_ACCOUNTS.c.balance_fen + bindparam("b_amount_fen"))
    .returning(_ACCOUNTS.c.balance_fen)
)
_NEW_ENTRIES = insert(_ENTRIES)


@dataclass(frozen=True)
class AccountRef:
    """A personal account (`accounts.id`) or a system account (`system_accounts.id`)."""

    personal: bool
    id: int


def personal(account_id: int) -> AccountRef:
    return AccountRef(True, account_id)


def system(system_account_id: int) -> AccountRef:
    return AccountRef(False, system_account_id)


@dataclass(frozen=True)
class Line:
    """One entry to write: the account, the signed amount, and what it is for that account."""

    ref: AccountRef
    amount_fen: int
    kind: str


@dataclass(frozen=True)
class Stamp:
    """Who records a movement, when it happened in business terms, and when it was recorded."""

    business_at: datetime
    recorded_at: datetime
    actor: str
    request_id: str | None


# System account ids never change once committed, so each engine remembers them: a settlement
# then finds the fund's, cash's and its institution's accounts without a query. Ids read or made
# inside a transaction are remembered only once it commits (a rolled-back creation is forgotten).
_KNOWN_SYSTEM_IDS: weakref.WeakKeyDictionary[object, dict[str, int]] = weakref.WeakKeyDictionary()
_PENDING = "ledger.system_ids_pending"


@event.listens_for(Session, "after_commit")
def _remember_system_ids(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending:
        _KNOWN_SYSTEM_IDS.setdefault(session.get_bind(), {}).update(pending)


@event.listens_for(Session, "after_rollback")
def _forget_system_ids(session: Session) -> None:
    session.info.pop(_PENDING, None)


def known_system_accounts(bind: object, codes: Sequence[str]) -> list[int] | None:
    """The ids of the system accounts `codes`, in order, when `bind` knows them all; else None.

    For a caller that works outside a Session (ec_settle, server/settlement/one_call.py)."""
    known = _KNOWN_SYSTEM_IDS.get(bind)
    if known is None or any(code not in known for code in codes):
        return None
    return [known[code] for code in codes]


def remember_system_accounts(bind: object, ids: Mapping[str, int]) -> None:
    """Remember ids that a committed transaction outside a Session found or made."""
    _KNOWN_SYSTEM_IDS.setdefault(bind, {}).update(ids)


def system_accounts(
    session: Session,
    *,
    now: datetime,
    codes: Sequence[str] = (),
    institution_ids: Sequence[int] = (),
) -> dict[str, int]:
    """Ids of system accounts by code (`fund`, `institution:<id>`, ...), made on first use.

    Made with INSERT .. ON CONFLICT DO NOTHING, so two first uses racing make one row.
    """
    wanted: dict[str, tuple[str, int | None]] = {c: (c, None) for c in codes}
    for inst in institution_ids:
        wanted[f"institution:{inst}"] = ("institution", inst)
    known = _KNOWN_SYSTEM_IDS.get(session.get_bind(), {})
    if all(code in known for code in wanted):
        return {code: known[code] for code in wanted}
    found: dict[str, int] = dict(
        session.execute(
            select(SystemAccount.code, SystemAccount.id).where(SystemAccount.code.in_(wanted))
        ).all()
    )
    missing = [code for code in wanted if code not in found]
    if missing:
        make = insert_for(session)
        for code in missing:
            kind, institution = wanted[code]
            session.execute(
                make(SystemAccount)
                .values(kind=kind, code=code, institution_id=institution, created_at=now)
                .on_conflict_do_nothing()
            )
        found.update(
            session.execute(
                select(SystemAccount.code, SystemAccount.id).where(SystemAccount.code.in_(missing))
            ).all()
        )
    session.info.setdefault(_PENDING, {}).update(found)
    return found


def post(
    session: Session,
    *,
    kind: rules.Kind,
    lines: Sequence[Line],
    stamp: Stamp,
    reference: str,
    reverses_id: int | None = None,
) -> int:
    """Write one balanced journal transaction and move the cached personal balances; its id.

    The caller has locked (SELECT .. FOR UPDATE) every personal account it debits and checked
    it can pay; the accounts' CHECK is the last guard. Each personal balance is moved by one
    UPDATE .. RETURNING, so its entry's balance-after is exact even while others credit it.
    Raises ValueError when the lines do not balance (a bug).
    """
    refs = [line.ref for line in lines]
    if len(set(refs)) != len(refs):
        raise ValueError("one entry per account and transaction")
    rules.journal(kind, (rules.Posting(line.ref, line.amount_fen) for line in lines))
    # The session's execute autoflushes pending ORM rows first; the rest go straight to its
    # connection (nothing can become pending in between).
    tx_id = session.execute(
        _NEW_TRANSACTION,
        {
            "kind": kind.value,
            "business_at": stamp.business_at,
            "recorded_at": stamp.recorded_at,
            "actor": stamp.actor,
            "request_id": stamp.request_id,
            "reference": reference,
            "reverses_id": reverses_id,
        },
    ).scalar_one()
    conn = session.connection()
    rows = []
    # Personal balances move in account-id order: two transactions crediting the same accounts
    # take their row locks in one order and cannot deadlock.
    for line in sorted(lines, key=lambda li: (not li.ref.personal, li.ref.id)):
        balance_after: int | None = None
        if line.ref.personal:
            balance_after = conn.execute(
                _MOVE_BALANCE, {"b_account_id": line.ref.id, "b_amount_fen": line.amount_fen}
            ).scalar_one()
        rows.append(
            {
                "transaction_id": tx_id,
                "account_id": line.ref.id if line.ref.personal else None,
                "system_account_id": None if line.ref.personal else line.ref.id,
                "kind": line.kind,
                "amount_fen": line.amount_fen,
                "balance_after_fen": balance_after,
                "business_at": stamp.business_at,
                "recorded_at": stamp.recorded_at,
                "actor": stamp.actor,
                "request_id": stamp.request_id,
            }
        )
    conn.execute(_NEW_ENTRIES, rows)
    return int(tx_id)


def pay_from_fund(
    session: Session,
    *,
    kind: rules.Kind,
    amounts: dict[int, int],
    stamp: Stamp,
    reference: str,
) -> int:
    """Post one transaction paying each personal account its amount out of the fund; its id.

    Monthly credits and yearly interest (DOMAIN.md, "The personal account"): the fund is the
    other side of both.
    """
    fund = system_accounts(session, now=stamp.recorded_at, codes=[FUND])[FUND]
    lines = [Line(personal(a), amounts[a], kind.value) for a in sorted(amounts)]
    lines.append(Line(system(fund), -sum(amounts.values()), kind.value))
    return post(session, kind=kind, lines=lines, stamp=stamp, reference=reference)


def reverse(
    session: Session,
    *,
    transaction_id: int,
    kind: rules.Kind,
    entry_kind: str,
    stamp: Stamp,
    reference: str,
) -> int:
    """Write the transaction that undoes `transaction_id`, entry by entry; its id.

    Each amount goes back to the account it came from (`rules.reversal`). The original's
    `reverses_id` link is unique, so a transaction is reversed at most once. Raises ValueError
    for a transaction with no entries (a bug).
    """
    rows = session.execute(
        select(
            JournalTransaction.kind,
            JournalEntry.account_id,
            JournalEntry.system_account_id,
            JournalEntry.amount_fen,
        )
        .join(JournalTransaction, JournalTransaction.id == JournalEntry.transaction_id)
        .where(JournalEntry.transaction_id == transaction_id)
    ).all()
    if not rows:
        raise ValueError(f"no journal transaction {transaction_id} to reverse")
    original = rules.journal(
        rules.Kind(rows[0].kind),
        (
            rules.Posting(personal(a) if a is not None else system(_some(s)), amount)
            for _kind, a, s, amount in rows
        ),
    )
    undo = rules.reversal(original, kind)
    assert rules.is_balanced([original, undo])
    return post(
        session,
        kind=kind,
        lines=[Line(_ref(p.account_id), p.amount_fen, entry_kind) for p in undo.postings],
        stamp=stamp,
        reference=reference,
        reverses_id=transaction_id,
    )


def lock_balances(session: Session, account_ids: Sequence[int]) -> dict[int, int]:
    """Lock personal accounts in ascending id order (the one order everyone uses); their balances.

    Two settlements debiting overlapping accounts lock them in the same order, so they wait for
    each other instead of deadlocking (and a deadlock that slips through is retried whole).
    """
    ordered = sorted(set(account_ids))
    if not ordered:
        return {}
    rows = session.execute(
        select(Account.id, Account.balance_fen)
        .where(Account.id.in_(ordered))
        .order_by(Account.id)
        .with_for_update()
    ).all()
    return {int(a): int(b) for a, b in rows}


def _some(value: int | None) -> int:
    if value is None:
        raise ValueError("an entry without an account")
    return value


def _ref(account: object) -> AccountRef:
    if not isinstance(account, AccountRef):
        raise ValueError("a posting without an account reference")
    return account
