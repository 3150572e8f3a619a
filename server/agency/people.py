"""Clerk calls the agency desk needs beyond the contract: check a roster file before importing
it. Its own blueprint under /api/v1/admin, so the agency routes stay as they are."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from server.agency.common import bp
from server.http import Answer, Schema, documented, parse, role_required
from server.roster import checking
from server.roster.service import MAX_ROWS, RosterRow


class CheckedPerson(Schema):
    """A roster row as the file gave it: loosely typed, so every problem is reported by row."""

    id_number: Annotated[str, Field(max_length=64)]
    name: Annotated[str, Field(max_length=256)]
    phone: Annotated[str | None, Field(max_length=64)] = None
    region: Annotated[str, Field(max_length=64)]
    insurance_type: Annotated[str, Field(max_length=64)]
    person_type: Annotated[str | None, Field(max_length=64)] = None
    face_template: str


class RosterCheck(Schema):
    persons: Annotated[list[CheckedPerson], Field(min_length=1, max_length=MAX_ROWS)]


class RowProblem(Answer):
    index: int = Field(description="0-based index of the row in `persons`")
    field: str
    reason: str


class RosterChecked(Answer):
    count: int
    invalid_count: int
    problems: list[RowProblem] = Field(description="the problems of the first 100 bad rows")


@bp.post("/insured/check")
@role_required("admin")
@documented(
    body=RosterCheck,
    answer=RosterChecked,
    summary="Check roster rows as an import would, writing nothing",
)
def check_roster() -> dict[str, Any]:
    form = parse(RosterCheck)
    rows = [
        RosterRow(
            id_number=p.id_number,
            name=p.name,
            phone=p.phone,
            region=p.region,
            insurance_type=p.insurance_type,
            face_template=p.face_template,
        )
        for p in form.persons
    ]
    problems, invalid = checking.check_rows(rows, [p.person_type for p in form.persons])
    return {
        "count": len(rows),
        "invalid_count": invalid,
        "problems": checking.as_dicts(problems),
    }
