"""Manual claims (手工报销): filed by the agency for a visit paid in full, then decided.

DOMAIN.md (001): when the system fails the patient pays in full and claims later; real-time
settlement keeps working while a claim is pending. An approved claim pays the fund's share back
to the patient (outside the personal account: fund -> external) and counts in the person's
yearly expenses (`approved_claims`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.audit import record, request_id_var
from server.clock import beijing_date
from server.db.models import Institution
from server.errors import NotFoundError, RequestValidationError
from server.ledger import service as ledger
from server.ledger.rules import Kind
from server.privacy import mask_id_number
from server.reimbursement.models import ReimbursementClaim
from server.roster.queries import person_by_id_number
from server.settlement.rules import Scene, split_burden
from server.uow import UnitOfWork


@dataclass(frozen=True)
class ClaimForm:
    id_number: str
    institution_code: str
    visit_date: date
    total_fen: int
    fund_fen: int


def file_claim(uow: UnitOfWork, *, form: ClaimForm, actor: str) -> ReimbursementClaim:
    """Record a pending claim. INVALID_AMOUNT like a settlement; a visit in the future is
    VALIDATION_ERROR; an unknown person or institution NOT_FOUND."""
    session, clock = uow.session, uow.clock
    split_burden(scene=Scene.OUTPATIENT, total_fen=form.total_fen, fund_fen=form.fund_fen)
    now = clock.now()
    if form.visit_date > beijing_date(now):
        raise RequestValidationError("visit_date is in the future", field="visit_date")
    with session.begin():
        person_id = person_by_id_number(session, form.id_number).id
        institution_id = session.scalar(
            select(Institution.id).where(Institution.code == form.institution_code)
        )
        if institution_id is None:
            raise NotFoundError("No institution with this code")
        claim = ReimbursementClaim(
            id=str(uuid.uuid4()),
            person_id=person_id,
            institution_id=institution_id,
            visit_date=form.visit_date,
            total_fen=form.total_fen,
            fund_fen=form.fund_fen,
            status="pending",
            created_at=now,
        )
        session.add(claim)
        record(
            session,
            at=now,
            actor=actor,
            action="claim.filed",
            subject=f"claim:{claim.id}",
            person=mask_id_number(form.id_number),
            total_fen=form.total_fen,
            fund_fen=form.fund_fen,
        )
    return claim


def decide(
    uow: UnitOfWork,
    *,
    claim_id: str,
    approve: bool,
    reason: str | None,
    actor: str,
) -> ReimbursementClaim:
    """Approve (the fund pays its share to the patient) or reject a pending claim.

    Deciding again the same way answers the claim as it is; the other way is VALIDATION_ERROR
    (a decision is final; a wrong one is corrected by a new claim, never by rewriting money).
    """
    clock = uow.clock

    def work(s: Session) -> ReimbursementClaim:
        now = clock.now()
        claim = s.get(ReimbursementClaim, claim_id, with_for_update=True)
        if claim is None:
            raise NotFoundError("No claim with this id")
        wanted = "approved" if approve else "rejected"
        if claim.status != "pending":
            if claim.status == wanted:
                return claim
            raise RequestValidationError(
                f"The claim is already {claim.status}", status=claim.status
            )
        claim.status = wanted
        claim.reason = reason
        claim.decided_at = now
        if approve and claim.fund_fen > 0:
            ids = ledger.system_accounts(s, now=now, codes=[ledger.FUND, ledger.EXTERNAL])
            claim.transaction_id = ledger.post(
                s,
                kind=Kind.REIMBURSEMENT,
                lines=[
                    ledger.Line(ledger.system(ids[ledger.FUND]), -claim.fund_fen, "reimbursement"),
                    ledger.Line(
                        ledger.system(ids[ledger.EXTERNAL]), claim.fund_fen, "reimbursement"
                    ),
                ],
                stamp=ledger.Stamp(now, now, actor, request_id_var.get()),
                reference=f"claim:{claim.id}",
            )
        record(s, at=now, actor=actor, action=f"claim.{wanted}", subject=f"claim:{claim.id}")
        return claim

    return uow.run(work)


def approved_claims(session: Session, *, person_id: int, year: int) -> list[ReimbursementClaim]:
    """A person's approved claims for visits in `year` (a read for yearly expenses)."""
    return list(
        session.scalars(
            select(ReimbursementClaim)
            .where(
                ReimbursementClaim.person_id == person_id,
                ReimbursementClaim.status == "approved",
                ReimbursementClaim.visit_date >= date(year, 1, 1),
                ReimbursementClaim.visit_date <= date(year, 12, 31),
            )
            .order_by(ReimbursementClaim.visit_date)
        )
    )
