"""A roster uploaded as an Excel workbook (.xlsx), read on the server with openpyxl.

The first sheet's first row names the columns (the CSV's names: id_number, name, phone, region,
insurance_type, person_type, face_template); every later non-empty row is a person. Excel keeps
long digit strings as numbers, so whole numbers are read back as their digits. The rows then go
through the same checks and import as a CSV's (server/roster/checking.py, importing.py).

DOMAIN.md: "Who uses it" (the agency keeps the roster).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl import load_workbook

from server.errors import RequestValidationError
from server.roster.checking import RowProblem, check_rows
from server.roster.importing import TrackedImport, import_roster
from server.roster.service import MAX_ROWS, RosterRow
from server.uow import UnitOfWork

COLUMNS = ("id_number", "name", "phone", "region", "insurance_type", "person_type", "face_template")
REQUIRED = frozenset(COLUMNS) - {"person_type"}
MAX_FILE_BYTES = 48 * 1024 * 1024


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def read_rows(data: bytes) -> list[RosterRow]:
    """The workbook's persons. VALIDATION_ERROR when it is not an .xlsx or its header is wrong."""
    if not data or len(data) > MAX_FILE_BYTES:
        raise RequestValidationError("The file must be a non-empty .xlsx up to 48 MiB")
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise RequestValidationError("The file is not an Excel workbook (.xlsx)") from exc
    try:
        sheet = book.worksheets[0]
        lines = sheet.iter_rows(values_only=True)
        header = [_text(v) for v in next(lines, ())]
        while header and header[-1] == "":
            header.pop()
        missing = sorted(REQUIRED - set(header))
        unknown = sorted(set(header) - set(COLUMNS))
        if missing or unknown:
            raise RequestValidationError(
                "The first row must name the columns", missing=missing, unknown=unknown
            )
        rows: list[RosterRow] = []
        for line in lines:
            cells = {name: _text(v) for name, v in zip(header, line, strict=False)}
            if not any(cells.values()):
                continue
            if len(rows) >= MAX_ROWS:
                raise RequestValidationError(f"Send 1 to {MAX_ROWS} persons per file")
            rows.append(
                RosterRow(
                    id_number=cells.get("id_number", "").upper(),
                    name=cells.get("name", ""),
                    phone=cells.get("phone") or None,
                    region=cells.get("region", ""),
                    insurance_type=cells.get("insurance_type", ""),
                    face_template=cells.get("face_template", ""),
                    person_type=cells.get("person_type") or None,
                )
            )
    finally:
        book.close()
    if not rows:
        raise RequestValidationError("The workbook has no data rows")
    return rows


@dataclass(frozen=True)
class WorkbookOutcome:
    count: int
    invalid_count: int
    problems: Sequence[RowProblem]
    imported: TrackedImport | None  # None: checked only, or refused for its problems


def check_or_import(uow: UnitOfWork, data: bytes, *, actor: str, dry_run: bool) -> WorkbookOutcome:
    """Check a workbook whole; unless `dry_run`, import it (all rows or none) when it is clean."""
    rows = read_rows(data)
    problems, invalid = check_rows(rows)  # person_type is checked with the row itself
    if invalid or dry_run:
        return WorkbookOutcome(len(rows), invalid, problems, None)
    return WorkbookOutcome(len(rows), 0, [], import_roster(uow, rows, actor=actor))
