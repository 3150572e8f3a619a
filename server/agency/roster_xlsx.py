"""The roster as an Excel workbook: POST /api/v1/admin/insured/xlsx checks it whole and, unless
asked for a dry run, imports it (all rows or none). The file comes as `multipart/form-data`
(field `file`, optional `dry_run`) or as JSON `{file_base64, dry_run}`.

DOMAIN.md: "Who uses it".
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from flask import request
from pydantic import Field

from server.agency.common import actor, bp
from server.agency.people import RosterChecked, RowProblem
from server.errors import RequestValidationError
from server.http import Schema, documented, parse, role_required
from server.roster import spreadsheet
from server.roster.checking import as_dicts
from server.web.context import uow


class WorkbookUpload(Schema):
    file_base64: Annotated[str, Field(min_length=1, description="base64 of the .xlsx file")]
    dry_run: Annotated[bool, Field(description="check only, write nothing")] = False


class WorkbookAnswer(RosterChecked):
    imported: bool
    created: int | None = None
    updated: int | None = None
    job_id: str | None = Field(
        default=None, description="the initial-password SMS job (GET /api/v1/admin/jobs/<id>)"
    )


def _upload() -> tuple[bytes, bool]:
    if request.mimetype == "multipart/form-data":
        sent = request.files.get("file")
        if sent is None:
            raise RequestValidationError("Send the workbook in the form field `file`")
        return sent.read(), request.form.get("dry_run", "").lower() in ("1", "true", "on")
    form = parse(WorkbookUpload)
    try:
        return base64.b64decode(form.file_base64, validate=True), form.dry_run
    except (binascii.Error, ValueError):
        raise RequestValidationError("file_base64 is not base64", field="file_base64") from None


@bp.post("/insured/xlsx")
@role_required("admin")
@documented(
    body=WorkbookUpload,
    answer=WorkbookAnswer,
    summary="Check a roster workbook (.xlsx) whole and import it when clean (all or nothing)",
)
def import_workbook() -> tuple[dict[str, Any], int]:
    data, dry_run = _upload()
    outcome = spreadsheet.check_or_import(uow(), data, actor=actor(), dry_run=dry_run)
    done = outcome.imported
    answer = WorkbookAnswer(
        count=outcome.count,
        invalid_count=outcome.invalid_count,
        problems=[RowProblem(**p) for p in as_dicts(outcome.problems)],
        imported=done is not None,
        created=None if done is None else done.created,
        updated=None if done is None else done.updated,
        job_id=None if done is None else done.job_id,
    )
    return answer.model_dump(), 201 if done is not None else 200
