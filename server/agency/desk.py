"""The agency desk's look-ups: one insured person (masked), the terminals, revoking a terminal.

DOMAIN.md: "Who uses it".
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from server.agency.common import actor, bp
from server.clock import iso
from server.http import Answer, Schema, documented, parse_query, role_required
from server.institutions import terminals
from server.roster import lookup
from server.web.context import uow


class CardLine(Answer):
    card_no: str
    status: str = Field(description="active | lost | replaced")
    issued_at: str


class PersonFound(Answer):
    id_number_masked: str
    name_masked: str
    phone_masked: str | None
    region: str
    insurance_type: str
    person_type: str
    credential_status: str = Field(description="active | revoked | not_activated")
    activated_at: str | None
    password_status: str = Field(
        description="set | pending (being sent by SMS) | none (no phone on the roster yet)"
    )
    password_locked_until: str | None
    cards: list[CardLine]


@bp.get("/insured/<id_number>")
@role_required("admin")
@documented(answer=PersonFound, summary="Look an insured person up by ID number, masked")
def look_up_person(id_number: str) -> dict[str, Any]:
    found = lookup.look_up_person(uow(), id_number=id_number)
    return PersonFound(
        id_number_masked=found.id_number_masked,
        name_masked=found.name_masked,
        phone_masked=found.phone_masked,
        region=found.region,
        insurance_type=found.insurance_type,
        person_type=found.person_type,
        credential_status=found.credential_status,
        activated_at=None if found.activated_at is None else iso(found.activated_at),
        password_status=found.password_status,
        password_locked_until=(
            None if found.password_locked_until is None else iso(found.password_locked_until)
        ),
        cards=[
            CardLine(card_no=c.card_no, status=c.status, issued_at=iso(c.issued_at))
            for c in found.cards
        ],
    ).model_dump()


class TerminalQuery(Schema):
    institution_code: Annotated[str | None, Field(min_length=1, max_length=32)] = None


class TerminalLine(Answer):
    terminal_id: str
    institution_code: str
    institution_name: str
    created_at: str
    revoked_at: str | None


class TerminalList(Answer):
    terminals: list[TerminalLine]


class TerminalRevoked(Answer):
    terminal_id: str
    revoked_at: str


def _line(t: terminals.TerminalView) -> TerminalLine:
    return TerminalLine(
        terminal_id=t.terminal_id,
        institution_code=t.institution_code,
        institution_name=t.institution_name,
        created_at=iso(t.created_at),
        revoked_at=None if t.revoked_at is None else iso(t.revoked_at),
    )


@bp.get("/terminals")
@role_required("admin")
@documented(query=TerminalQuery, answer=TerminalList, summary="The terminals, newest first")
def list_terminals() -> dict[str, Any]:
    query = parse_query(TerminalQuery)
    found = terminals.list_terminals(uow(), institution_code=query.institution_code)
    return TerminalList(terminals=[_line(t) for t in found]).model_dump()


@bp.post("/terminals/<terminal_id>/revoke")
@role_required("admin")
@documented(
    answer=TerminalRevoked,
    summary="Revoke a terminal: its secret and its access tokens stop working",
)
def revoke_terminal(terminal_id: str) -> dict[str, Any]:
    revoked_at = terminals.revoke_terminal(uow(), terminal_id=terminal_id, actor=actor())
    return TerminalRevoked(terminal_id=terminal_id, revoked_at=iso(revoked_at)).model_dump()
