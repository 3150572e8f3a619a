"""Agency clerk calls: sign-in, roster, institutions, terminals. CONTRACT.md: Agency."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Annotated, Literal

from flask import Blueprint, current_app
from pydantic import Field

from server.auth.admins import authenticate_admin
from server.auth.tokens import access_token
from server.cards import service as cards
from server.credentials import service as credentials
from server.db import session
from server.http import Answer, Schema, claims, documented, parse, role_required
from server.institutions import service as institutions
from server.ledger import crediting
from server.reimbursement import service as reimbursement
from server.reimbursement.models import ReimbursementClaim
from server.roster import service as roster
from server.wiring import Wiring, wiring

bp = Blueprint("agency", __name__, url_prefix="/api/v1/admin")

IdNumber = Annotated[str, Field(min_length=1, max_length=18, examples=["110101199003074514"])]
# Up to this many initial passwords are made before the import answers; more go to a thread.
INLINE_PASSWORDS = 200


def _actor() -> str:
    return f"admin:{claims()['sub']}"


class AdminLogin(Schema):
    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=256)]


class AccessToken(Answer):
    access_token: str


class Ok(Answer):
    ok: bool = True


class RosterPerson(Schema):
    id_number: IdNumber
    name: Annotated[str, Field(max_length=64)]
    phone: str | None
    region: str
    insurance_type: str
    face_template: Annotated[str, Field(description="base64 of the enrolled reference photo")]


class RosterImport(Schema):
    persons: Annotated[list[RosterPerson], Field(min_length=1, max_length=roster.MAX_ROWS)]


class RosterImported(Answer):
    created: int
    updated: int


class PhoneFix(Schema):
    phone: Annotated[str, Field(min_length=11, max_length=11)]


class NewInstitution(Schema):
    code: Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]
    name: Annotated[str, Field(min_length=1, max_length=128)]
    kind: Literal["hospital", "pharmacy"]


class InstitutionCreated(Answer):
    code: str
    name: str
    kind: str


class NewTerminal(Schema):
    institution_code: Annotated[str, Field(min_length=1, max_length=32)]


class TerminalCreated(Answer):
    terminal_id: str
    secret: str


def _send_passwords(w: Wiring, account_ids: list[int]) -> None:
    """Issue initial passwords now, or in a thread when there are many (each costs a slow hash)."""
    if not account_ids:
        return

    def work() -> None:
        roster.issue_pending_passwords(
            w.db.sessions, hasher=w.hasher, sms=w.sms, clock=w.clock, account_ids=account_ids
        )

    if len(account_ids) <= INLINE_PASSWORDS or w.settings.testing:
        work()
    else:
        threading.Thread(target=work, name="initial-passwords", daemon=True).start()


@bp.post("/login")
@documented(body=AdminLogin, answer=AccessToken, summary="Agency clerk sign-in")
def login() -> dict[str, object]:
    form = parse(AdminLogin)
    w = wiring()
    admin_id = authenticate_admin(
        session(),
        username=form.username,
        password=form.password,
        hasher=w.hasher,
        bootstrap=(w.settings.admin_username, w.settings.admin_password),
        now=w.clock.now(),
    )
    return {"access_token": access_token("admin", str(admin_id))}


@bp.post("/insured")
@role_required("admin")
@documented(
    body=RosterImport,
    answer=RosterImported,
    status=201,
    summary="Import up to 10,000 roster rows, all or nothing",
)
def import_insured() -> tuple[dict[str, object], int]:
    form = parse(RosterImport)
    w = wiring()
    result = roster.import_persons(
        session(),
        [roster.RosterRow(**p.model_dump()) for p in form.persons],
        now=w.clock.now(),
        actor=_actor(),
    )
    _send_passwords(w, result.pending_password_accounts)
    return {"created": result.created, "updated": result.updated}, 201


@bp.patch("/insured/<id_number>")
@role_required("admin")
@documented(body=PhoneFix, answer=Ok, summary="Fix a person's phone number")
def fix_phone(id_number: str) -> dict[str, object]:
    form = parse(PhoneFix)
    w = wiring()
    due = roster.set_phone(session(), id_number, form.phone, now=w.clock.now(), actor=_actor())
    _send_passwords(w, [due] if due else [])
    return {"ok": True}


@bp.post("/insured/<id_number>/password-reset")
@role_required("admin")
@documented(answer=Ok, summary="Send a new initial payment password and lift any lock")
def password_reset(id_number: str) -> dict[str, object]:
    w = wiring()
    account_id = roster.reset_password(
        session(), id_number, store=w.store, clock=w.clock, actor=_actor()
    )
    _send_passwords(w, [account_id])
    return {"ok": True}


@bp.post("/institutions")
@role_required("admin")
@documented(
    body=NewInstitution,
    answer=InstitutionCreated,
    status=201,
    summary="Register a designated hospital or pharmacy",
)
def create_institution() -> tuple[dict[str, object], int]:
    form = parse(NewInstitution)
    w = wiring()
    institutions.create_institution(
        session(),
        code=form.code,
        name=form.name,
        kind=form.kind,
        now=w.clock.now(),
        actor=_actor(),
    )
    return {"code": form.code, "name": form.name, "kind": form.kind}, 201


@bp.post("/terminals")
@role_required("admin")
@documented(
    body=NewTerminal,
    answer=TerminalCreated,
    status=201,
    summary="Register a scanner; its secret is shown once",
)
def create_terminal() -> tuple[dict[str, object], int]:
    form = parse(NewTerminal)
    w = wiring()
    created = institutions.create_terminal(
        session(),
        institution_code=form.institution_code,
        pepper=w.settings.password_pepper,
        now=w.clock.now(),
        actor=_actor(),
    )
    current_app.logger.info("terminal registered")
    return {"terminal_id": created.terminal_id, "secret": created.secret}, 201


class KeyRotated(Answer):
    kid: str


@bp.post("/keys/rotate")
@role_required("admin")
@documented(answer=KeyRotated, status=201, summary="A new QR signing key, signing from now on")
def rotate_keys() -> tuple[dict[str, object], int]:
    w = wiring()
    kid = credentials.rotate_keys(session(), keys=w.keys, clock=w.clock, actor=_actor())
    return {"kid": kid}, 201


@bp.post("/insured/<id_number>/credential/revoke")
@role_required("admin")
@documented(answer=Ok, summary="Revoke a person's e-credential at the counter")
def revoke_credential(id_number: str) -> dict[str, object]:
    credentials.revoke_at_counter(
        session(), id_number=id_number, clock=wiring().clock, actor=_actor()
    )
    return {"ok": True}


# --- money (issue 5) -----------------------------------------------------------------------------
class Credit(Schema):
    id_number: IdNumber
    amount_fen: int


class MonthlyCredits(Schema):
    month: Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", examples=["2026-11"])]
    credits: Annotated[list[Credit], Field(min_length=1, max_length=roster.MAX_ROWS)]


class Tallied(Answer):
    credited: int
    skipped: int


class YearlyInterest(Schema):
    year: Annotated[int, Field(ge=2000, le=2200)]
    annual_rate_bp: Annotated[int, Field(ge=0, le=10_000)]


class NewClaim(Schema):
    id_number: IdNumber
    institution_code: Annotated[str, Field(min_length=1, max_length=32)]
    visit_date: Annotated[dt.date, Field(strict=False)]
    total_fen: int
    fund_fen: int


class ClaimAnswer(Answer):
    claim_id: str
    status: Literal["pending", "approved", "rejected"]
    total_fen: int
    fund_fen: int


class ClaimDecision(Schema):
    approve: bool
    reason: Annotated[str | None, Field(max_length=500)] = None


class NewCard(Schema):
    id_number: IdNumber


class CardIssued(Answer):
    card_no: str


def _claim_answer(claim: ReimbursementClaim) -> dict[str, object]:
    return ClaimAnswer(
        claim_id=claim.id,
        status=claim.status,
        total_fen=claim.total_fen,
        fund_fen=claim.fund_fen,
    ).model_dump()


@bp.post("/credits")
@role_required("admin")
@documented(
    body=MonthlyCredits,
    answer=Tallied,
    status=201,
    summary="Monthly credits (划入): once per person and month, all rows or none",
)
def monthly_credits() -> tuple[dict[str, object], int]:
    form = parse(MonthlyCredits)
    tally = crediting.credit_month(
        session(),
        clock=wiring().clock,
        month=form.month,
        rows=[crediting.CreditRow(c.id_number, c.amount_fen) for c in form.credits],
        actor=_actor(),
    )
    return {"credited": tally.credited, "skipped": tally.skipped}, 201


@bp.post("/interest")
@role_required("admin")
@documented(
    body=YearlyInterest,
    answer=Tallied,
    status=201,
    summary="A closed year's interest (结息) into every personal account, once",
)
def yearly_interest() -> tuple[dict[str, object], int]:
    form = parse(YearlyInterest)
    tally = crediting.pay_interest(
        session(),
        clock=wiring().clock,
        year=form.year,
        annual_rate_bp=form.annual_rate_bp,
        actor=_actor(),
    )
    return {"credited": tally.credited, "skipped": tally.skipped}, 201


@bp.post("/reimbursements")
@role_required("admin")
@documented(body=NewClaim, answer=ClaimAnswer, status=201, summary="File a manual claim")
def file_claim() -> tuple[dict[str, object], int]:
    form = parse(NewClaim)
    claim = reimbursement.file_claim(
        session(),
        clock=wiring().clock,
        form=reimbursement.ClaimForm(
            id_number=form.id_number,
            institution_code=form.institution_code,
            visit_date=form.visit_date,
            total_fen=form.total_fen,
            fund_fen=form.fund_fen,
        ),
        actor=_actor(),
    )
    return _claim_answer(claim), 201


@bp.post("/reimbursements/<claim_id>/decision")
@role_required("admin")
@documented(body=ClaimDecision, answer=ClaimAnswer, summary="Approve or reject a manual claim")
def decide_claim(claim_id: str) -> dict[str, object]:
    form = parse(ClaimDecision)
    claim = reimbursement.decide(
        session(),
        clock=wiring().clock,
        claim_id=claim_id,
        approve=form.approve,
        reason=form.reason,
        actor=_actor(),
    )
    return _claim_answer(claim)


@bp.post("/cards")
@role_required("admin")
@documented(body=NewCard, answer=CardIssued, status=201, summary="Issue a social-security card")
def issue_card() -> tuple[dict[str, object], int]:
    form = parse(NewCard)
    card_no = cards.issue_card(
        session(), clock=wiring().clock, id_number=form.id_number, actor=_actor()
    )
    return {"card_no": card_no}, 201


@bp.post("/cards/<card_no>/report-lost")
@role_required("admin")
@documented(answer=Ok, summary="Report a card lost; the e-credential keeps working")
def report_card_lost(card_no: str) -> dict[str, object]:
    cards.report_lost(session(), clock=wiring().clock, card_no=card_no, actor=_actor())
    return {"ok": True}
