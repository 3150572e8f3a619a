"""Scanner calls: sign-in here; scanning (issue 4) and settlement (issue 5) join this blueprint."""

from __future__ import annotations

from typing import Annotated

from flask import Blueprint
from pydantic import Field

from server.auth.tokens import access_token
from server.clock import iso
from server.credentials import service as credentials
from server.db import session
from server.http import Answer, Schema, claims, documented, parse, role_required
from server.institutions.service import authenticate_terminal
from server.wiring import wiring

bp = Blueprint("terminal", __name__, url_prefix="/api/v1/terminal")


class TerminalLogin(Schema):
    terminal_id: Annotated[str, Field(min_length=1, max_length=64)]
    secret: Annotated[str, Field(min_length=1, max_length=256)]


class AccessToken(Answer):
    access_token: str


@bp.post("/token")
@documented(body=TerminalLogin, answer=AccessToken, summary="A terminal signs in")
def token() -> dict[str, object]:
    form = parse(TerminalLogin)
    who = authenticate_terminal(
        session(),
        terminal_id=form.terminal_id,
        secret=form.secret,
        pepper=wiring().settings.password_pepper,
    )
    return {
        "access_token": access_token(
            "terminal", who.terminal_id, inst=who.institution_id, inst_code=who.institution_code
        )
    }


class ScanRequest(Schema):
    # Longer than any code on purpose: an oversized text is QR_MALFORMED, not VALIDATION_ERROR.
    qr_text: Annotated[str, Field(max_length=4096)]


class ScannedPerson(Answer):
    name_masked: str
    id_number_masked: str
    insurance_type: str
    region: str


class PresentedBy(Answer):
    name_masked: str
    relation: str | None


class ScanAnswer(Answer):
    scan_token: str
    expires_at: str
    person: ScannedPerson
    presented_by: PresentedBy | None


@bp.post("/scan")
@role_required("terminal")
@documented(body=ScanRequest, answer=ScanAnswer, summary="Verify an e-credential code")
def scan() -> dict[str, object]:
    form = parse(ScanRequest)
    w = wiring()
    who = claims()
    done = credentials.scan(
        session(),
        qr_text=form.qr_text,
        terminal_id=str(who["sub"]),
        institution_id=int(who["inst"]),
        keys=w.keys,
        store=w.store,
        clock=w.clock,
    )
    return ScanAnswer(
        scan_token=done.scan_token,
        expires_at=iso(done.expires_at),
        person=ScannedPerson(**vars(done.person)),
        presented_by=None if done.presented_by is None else PresentedBy(**vars(done.presented_by)),
    ).model_dump()
