"""Designated institutions and their scanners.

DOMAIN.md: "Who uses it".
"""

from __future__ import annotations

import logging
from typing import Annotated, Literal

from pydantic import Field

from server.agency.common import actor, bp
from server.http import Answer, Schema, documented, parse, role_required
from server.institutions import service as institutions
from server.web.context import uow

log = logging.getLogger(__name__)


class NewInstitution(Schema):
    code: Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]
    name: Annotated[str, Field(min_length=1, max_length=128)]
    kind: Literal["hospital", "pharmacy"]
    level: Annotated[
        Literal["community", "1", "2", "3"] | None,
        Field(description="社区 / 一、二、三级; omitted: 3 for a hospital, none for a pharmacy"),
    ] = None


class InstitutionCreated(Answer):
    code: str
    name: str
    kind: str
    level: str | None


class NewTerminal(Schema):
    institution_code: Annotated[str, Field(min_length=1, max_length=32)]


class TerminalCreated(Answer):
    terminal_id: str
    secret: str


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
    made = institutions.create_institution(
        uow(), code=form.code, name=form.name, kind=form.kind, level=form.level, actor=actor()
    )
    answer = InstitutionCreated(code=made.code, name=made.name, kind=made.kind, level=made.level)
    return answer.model_dump(), 201


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
    created = institutions.create_terminal(
        uow(), institution_code=form.institution_code, actor=actor()
    )
    log.info("terminal registered")
    return TerminalCreated(terminal_id=created.terminal_id, secret=created.secret).model_dump(), 201
