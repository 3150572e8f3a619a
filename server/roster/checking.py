"""A roster file checked whole before anything is written (the agency desk's upload).

The desk sends every row here first and imports only a clean file, in batches, so that it can
show progress while keeping "nothing written until the file is clean". The rules are the
import's own (service.validate_rows); this module only turns its refusal into a list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from server.errors import RequestValidationError
from server.roster.service import RosterRow, validate_rows

PERSON_TYPES = frozenset({"in_service", "retired"})  # CONTRACT.md Additions (2026-11-30)


@dataclass(frozen=True)
class RowProblem:
    index: int  # 0-based position in the file's data rows
    field: str
    reason: str


def check_rows(
    rows: Sequence[RosterRow], person_types: Sequence[str | None] = ()
) -> tuple[list[RowProblem], int]:
    """Every problem of the rows (the first 100 rows with problems) and how many rows are bad.

    Raises nothing for bad rows: they are the answer. Writes nothing.
    """
    problems: list[RowProblem] = []
    bad_rows: set[int] = set()
    try:
        validate_rows(rows)
    except RequestValidationError as refused:
        for row in refused.details.get("rows", []):
            for text in row["problems"]:
                field, _, reason = str(text).partition(": ")
                problems.append(RowProblem(int(row["index"]), field, reason))
        if "rows" not in refused.details:
            raise
        bad_rows = {p.index for p in problems}
        invalid = int(refused.details.get("invalid_count", len(bad_rows)))
    else:
        invalid = 0
    for index, kind in enumerate(person_types):
        if kind is not None and kind not in PERSON_TYPES:
            problems.append(RowProblem(index, "person_type", f"one of {sorted(PERSON_TYPES)}"))
            if index not in bad_rows:
                bad_rows.add(index)
                invalid += 1
    problems.sort(key=lambda p: p.index)
    return problems, invalid


def as_dicts(problems: Sequence[RowProblem]) -> list[dict[str, Any]]:
    return [{"index": p.index, "field": p.field, "reason": p.reason} for p in problems]
