"""Buying supplementary insurance (北京普惠健康保) from one's own personal account (002), for
oneself or for a spouse, parent or child filed for mutual aid (家庭共济).

The account must cover the whole premium (INSUFFICIENT_BALANCE otherwise: no part is paid in
cash here). One purchase per insured person, product and Beijing year; asking again answers the
first purchase, so a retried request never pays twice.

DOMAIN.md: "The personal account (个人账户) and who pays what".
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.service import holder_of
from server.audit import record, request_id_var
from server.clock import beijing_date
from server.errors import InsufficientBalanceError, InvalidAmountError, RelationNotAllowedError
from server.ledger import service as ledger
from server.ledger.rules import Kind
from server.money import MAX_AMOUNT_FEN
from server.mutual_aid.queries import effective_beneficiary_id
from server.supplementary.models import SupplementaryPurchase
from server.uow import UnitOfWork


@dataclass(frozen=True)
class Purchased:
    purchase: SupplementaryPurchase
    replayed: bool
    for_holder: bool = False


def buy(
    uow: UnitOfWork, *, user_id: int, insured: str, product_code: str, premium_fen: int
) -> Purchased:
    """Pay a premium from the signed-in holder's account, for `insured`: "self" (or the holder's
    own ID number) or a filed beneficiary's ID number. NOT_ACTIVATED before activation."""
    holder = holder_of(uow.session, user_id)
    if insured in ("self", holder.id_number):
        bought = buy_for_self(
            uow,
            user_id=user_id,
            person_id=holder.person_id,
            account_id=holder.account_id,
            product_code=product_code,
            premium_fen=premium_fen,
        )
        return replace(bought, for_holder=True)
    return buy_for_beneficiary(
        uow,
        user_id=user_id,
        holder_person_id=holder.person_id,
        account_id=holder.account_id,
        id_number=insured,
        product_code=product_code,
        premium_fen=premium_fen,
    )


def buy_for_self(
    uow: UnitOfWork,
    *,
    user_id: int,
    person_id: int,
    account_id: int,
    product_code: str,
    premium_fen: int,
) -> Purchased:
    """Pay a premium from the holder's account for the holder."""
    return _buy(
        uow,
        user_id=user_id,
        account_id=account_id,
        product_code=product_code,
        premium_fen=premium_fen,
        insured=lambda _s, _now: person_id,
    )


def buy_for_beneficiary(
    uow: UnitOfWork,
    *,
    user_id: int,
    holder_person_id: int,
    account_id: int,
    id_number: str,
    product_code: str,
    premium_fen: int,
) -> Purchased:
    """Pay a premium from the holder's account for a spouse, parent or child the holder has
    filed for mutual aid, with the filing in effect (002: from 2022-12-01). RELATION_NOT_ALLOWED
    for anyone else (the answer does not tell whether the ID number is on the roster)."""

    def insured(s: Session, now: datetime) -> int:
        person_id = effective_beneficiary_id(
            s, holder_person_id=holder_person_id, id_number=id_number, at=now
        )
        if person_id is None:
            raise RelationNotAllowedError(
                "Only for yourself, or a spouse, parent or child you have filed for mutual aid"
                " whose filing is in effect",
                reason="not_an_effective_beneficiary",
            )
        return person_id

    return _buy(
        uow,
        user_id=user_id,
        account_id=account_id,
        product_code=product_code,
        premium_fen=premium_fen,
        insured=insured,
    )


def _buy(
    uow: UnitOfWork,
    *,
    user_id: int,
    account_id: int,
    product_code: str,
    premium_fen: int,
    insured: Callable[[Session, datetime], int],
) -> Purchased:
    if not 0 < premium_fen < MAX_AMOUNT_FEN:
        raise InvalidAmountError("premium_fen is 1 .. 10^10-1 fen", reason="premium_out_of_range")
    clock = uow.clock

    def work(s: Session) -> Purchased:
        now = clock.now()
        year = beijing_date(now).year
        person_id = insured(s, now)
        balance = ledger.lock_balances(s, [account_id])[account_id]
        earlier = s.scalar(
            select(SupplementaryPurchase).where(
                SupplementaryPurchase.insured_person_id == person_id,
                SupplementaryPurchase.product_code == product_code,
                SupplementaryPurchase.year == year,
            )
        )
        if earlier is not None:
            return Purchased(earlier, replayed=True)
        if balance < premium_fen:
            raise InsufficientBalanceError(balance_fen=balance, premium_fen=premium_fen)
        purchase_id = str(uuid.uuid4())
        actor = f"user:{user_id}"
        insurer = ledger.system_accounts(s, now=now, codes=[ledger.INSURER])[ledger.INSURER]
        tx_id = ledger.post(
            s,
            kind=Kind.PREMIUM,
            lines=[
                ledger.Line(ledger.personal(account_id), -premium_fen, Kind.PREMIUM.value),
                ledger.Line(ledger.system(insurer), premium_fen, Kind.PREMIUM.value),
            ],
            stamp=ledger.Stamp(now, now, actor, request_id_var.get()),
            reference=f"premium:{purchase_id}",
        )
        purchase = SupplementaryPurchase(
            id=purchase_id,
            payer_account_id=account_id,
            insured_person_id=person_id,
            product_code=product_code,
            year=year,
            premium_fen=premium_fen,
            transaction_id=tx_id,
            purchased_at=now,
        )
        s.add(purchase)
        record(
            s,
            at=now,
            actor=actor,
            action="premium.paid",
            subject=f"purchase:{purchase_id}",
            product_code=product_code,
            premium_fen=premium_fen,
        )
        s.flush()
        return Purchased(purchase, replayed=False)

    return uow.run(work)
