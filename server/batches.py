"""Roster and credit batches from the command line: `flask roster import FILE.csv` and
`flask credits import FILE.csv --month YYYY-MM`.

The whole file is checked first (every bad row named by row, field and reason, and written to a
rejects CSV beside the input); nothing is written when any row is bad, and `--dry-run` stops after
the check. A good file is then imported in batches through the same services as the agency API
(`importing.import_roster`, `credits.credit_month`), one transaction per batch, under a
progress bar. Both are safe to run again: a re-imported person is `unchanged`, a re-credited
month `skipped`.

CSV: UTF-8 (a BOM is accepted), a header row of the API's field names. Roster:
`id_number,name,phone,region,insurance_type,person_type,face_template` (`person_type` may be left
out; an empty phone or person_type is none). Credits: `id_number,amount_fen`.

DOMAIN.md: "Activation = real-name verification" (the roster); "The personal account" (credits).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

import click
from flask import Flask
from flask.cli import AppGroup

from server.errors import AppError
from server.ledger import credits as credits_service
from server.money import MAX_AMOUNT_FEN
from server.ports.jobs import ThreadJobs
from server.roster import importing
from server.roster import service as roster
from server.roster.rules import id_number_problem
from server.wiring import Wiring

BATCH_ROWS = 500
ACTOR = "cli"
ROSTER_FIELDS = (
    "id_number",
    "name",
    "phone",
    "region",
    "insurance_type",
    "person_type",
    "face_template",
)
ROSTER_OPTIONAL = frozenset({"person_type"})
CREDIT_FIELDS = ("id_number", "amount_fen")

T = TypeVar("T")
_EXTRA = "\0extra"  # where csv puts the cells beyond the header's (never a column name)


@dataclass(frozen=True)
class Problem:
    row: int  # the file's line (the header is line 1), as a spreadsheet numbers its rows
    field: str
    reason: str


@dataclass(frozen=True)
class Checked(Generic[T]):
    """A file's rows: the parsed ones (when none is bad) and every problem found."""

    header: list[str]
    raw: dict[int, dict[str, str]]  # each row as read, by its line, for the rejects file
    rows: list[T]
    problems: list[Problem]


def _read(
    path: Path, fields: Sequence[str], optional: frozenset[str]
) -> tuple[list[str], dict[int, dict[str, str]]]:
    """The header and each row by its line in the file (a blank line is skipped but counted)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f, restkey=_EXTRA)
            header = list(reader.fieldnames or [])
            raw: dict[int, dict[str, str]] = {}
            for values in reader:
                raw[reader.line_num] = values  # the line the row ends on
    except UnicodeDecodeError as exc:
        raise click.ClickException(
            f"{path} is not UTF-8 ({exc.reason} at byte {exc.start})"
        ) from exc
    missing = [f for f in fields if f not in header and f not in optional]
    unknown = [h for h in header if h not in fields]
    if missing or unknown:
        raise click.ClickException(
            f"{path}: the header must name the columns {','.join(fields)}"
            + (f"; missing {','.join(missing)}" if missing else "")
            + (f"; unknown {','.join(unknown)}" if unknown else "")
        )
    if not raw:
        raise click.ClickException(f"{path} has a header but no rows")
    return header, raw


def _shape_problem(number: int, values: dict[str, str], header: list[str]) -> Problem | None:
    if _EXTRA in values:
        return Problem(number, "row", f"has more than the header's {len(header)} columns")
    if any(values.get(h) is None for h in header):
        return Problem(number, "row", f"has fewer than the header's {len(header)} columns")
    return None


def _split(number: int, problem: str) -> Problem:
    field, _, reason = problem.partition(": ")
    return Problem(number, field, reason)


def check_roster(path: Path) -> Checked[roster.RosterRow]:
    """Every problem of a roster CSV (row, field, reason); the rows when there is none."""
    header, raw = _read(path, ROSTER_FIELDS, ROSTER_OPTIONAL)
    rows: list[roster.RosterRow] = []
    problems: list[Problem] = []
    first_row: dict[str, int] = {}
    for number, values in raw.items():
        if (shape := _shape_problem(number, values, header)) is not None:
            problems.append(shape)
            continue
        row = roster.RosterRow(
            id_number=values["id_number"].strip(),
            name=values["name"],
            phone=values["phone"].strip() or None,
            region=values["region"].strip(),
            insurance_type=values["insurance_type"].strip(),
            face_template=values["face_template"].strip(),
            person_type=(values.get("person_type") or "").strip() or None,
        )
        problems += [_split(number, p) for p in roster.row_problems(row)]
        if (seen := first_row.setdefault(row.id_number, number)) != number:
            problems.append(Problem(number, "id_number", f"repeats row {seen}"))
        rows.append(row)
    return Checked(header, raw, rows, problems)


def check_credits(path: Path, month: str, w: Wiring) -> Checked[credits_service.CreditRow]:
    """Every problem of a credits CSV, including ID numbers the roster does not have."""
    header, raw = _read(path, CREDIT_FIELDS, frozenset())
    rows: list[credits_service.CreditRow] = []
    problems: list[Problem] = []
    first_row: dict[str, int] = {}
    numbers: dict[str, int] = {}
    for number, values in raw.items():
        if (shape := _shape_problem(number, values, header)) is not None:
            problems.append(shape)
            continue
        id_number, amount_text = values["id_number"].strip(), values["amount_fen"].strip()
        if (why := id_number_problem(id_number)) is not None:
            problems.append(Problem(number, "id_number", why))
        elif (seen := first_row.setdefault(id_number, number)) != number:
            problems.append(Problem(number, "id_number", f"repeats row {seen}"))
        else:
            numbers[id_number] = number
        amount = int(amount_text) if amount_text.isascii() and amount_text.isdigit() else 0
        if not 0 < amount < MAX_AMOUNT_FEN:
            problems.append(
                Problem(number, "amount_fen", "must be a whole number of fen, 1 .. 10^10-1")
            )
        rows.append(credits_service.CreditRow(id_number, amount))
    with w.unit_of_work() as uow:
        known = roster.enrolled(uow, list(numbers))
    problems += [
        Problem(number, "id_number", "no insured person has this ID number")
        for id_number, number in numbers.items()
        if id_number not in known
    ]
    problems.sort(key=lambda p: p.row)
    return Checked(header, raw, rows, problems)


def write_rejects(path: Path, checked: Checked[T]) -> None:
    """One line per problem: row, field, reason, then the row's own columns (to fix and resend)."""
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(["row", "field", "reason", *checked.header])
        for p in checked.problems:
            values = checked.raw[p.row]
            out.writerow([p.row, p.field, p.reason, *(values.get(h) or "" for h in checked.header)])


def _batches(rows: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _passes(checked: Checked[T], source: Path, rejects: Path | None, dry_run: bool) -> bool:
    """Print the check's outcome; whether to import (no bad row and not a dry run).

    A bad row exits with status 1 after writing the rejects file.
    """
    bad_rows = len({p.row for p in checked.problems})
    total = len(checked.raw)
    if checked.problems:
        for p in checked.problems[:50]:
            click.echo(f"row {p.row}: {p.field}: {p.reason}", err=True)
        if len(checked.problems) > 50:
            click.echo(f"... and {len(checked.problems) - 50} more problems", err=True)
        target = rejects or source.with_name(f"{source.stem}.rejects.csv")
        write_rejects(target, checked)
        click.echo(
            f"{bad_rows} of {total} rows are invalid; nothing was written. "
            f"The rejected rows are in {target}",
            err=True,
        )
        raise SystemExit(1)
    if dry_run:
        click.echo(f"all {total} rows are valid; nothing was written (dry run)")
        return False
    return True


def _run_batches(
    rows: Sequence[T], size: int, label: str, import_batch: Callable[[Sequence[T]], None]
) -> None:
    done = 0
    with click.progressbar(length=len(rows), label=label, show_pos=True) as bar:
        for batch in _batches(rows, size):
            try:
                import_batch(batch)
            except AppError as exc:
                raise click.ClickException(
                    f"batch at rows {done + 2}-{done + len(batch) + 1} was refused ({exc.code}: "
                    f"{exc.message}); the {done} rows before it were written, and running the "
                    "same file again is safe"
                ) from exc
            done += len(batch)
            bar.update(len(batch))


_rejects_option = click.option(
    "--rejects",
    type=click.Path(dir_okay=False, path_type=Path),
    help="where to write the rejected rows (default: FILE.rejects.csv beside the input)",
)
_dry_run_option = click.option("--dry-run", is_flag=True, help="check the file, write nothing")
_batch_option = click.option(
    "--batch-size", type=click.IntRange(1, roster.MAX_ROWS), default=BATCH_ROWS, show_default=True
)
_file_argument = click.argument(
    "file", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)


def register(app: Flask) -> None:
    """Add the `roster` and `credits` command groups to `app`'s CLI."""
    w: Wiring = app.extensions["wiring"]
    roster_group = AppGroup("roster", help="The agency's roster (参保人员名单).")
    credits_group = AppGroup("credits", help="Monthly credits (划入) into personal accounts.")

    @roster_group.command("import")
    @_file_argument
    @_rejects_option
    @_dry_run_option
    @_batch_option
    def import_roster_command(
        file: Path, rejects: Path | None, dry_run: bool, batch_size: int
    ) -> None:
        """Import a roster CSV: checked whole, then written in batches (all rows or none bad)."""
        checked = check_roster(file)
        if not _passes(checked, file, rejects, dry_run):
            return
        tally = {"created": 0, "updated": 0, "unchanged": 0}

        def one(batch: Sequence[roster.RosterRow]) -> None:
            with w.unit_of_work() as uow:
                result = importing.import_roster(uow, batch, actor=ACTOR)
            tally["created"] += result.created
            tally["updated"] += result.updated
            tally["unchanged"] += result.unchanged

        _run_batches(checked.rows, batch_size, "Importing the roster", one)
        if isinstance(w.jobs, ThreadJobs):
            w.jobs.join()  # the initial passwords, before the process ends
        click.echo(
            f"{tally['created']} created, {tally['updated']} updated, "
            f"{tally['unchanged']} unchanged"
        )

    @credits_group.command("import")
    @_file_argument
    @click.option("--month", required=True, help="the month credited, YYYY-MM (Beijing)")
    @_rejects_option
    @_dry_run_option
    @_batch_option
    def import_credits_command(
        file: Path, month: str, rejects: Path | None, dry_run: bool, batch_size: int
    ) -> None:
        """Credit a month from a CSV: checked whole, then credited in batches, once per person."""
        try:
            credits_service.check_month(month, now=w.clock.now())
        except AppError as exc:
            raise click.BadParameter(exc.message, param_hint="--month") from exc
        checked = check_credits(file, month, w)
        if not _passes(checked, file, rejects, dry_run):
            return
        tally = {"credited": 0, "skipped": 0}

        def one(batch: Sequence[credits_service.CreditRow]) -> None:
            with w.unit_of_work() as uow:
                result = credits_service.credit_month(uow, month=month, rows=batch, actor=ACTOR)
            tally["credited"] += result.credited
            tally["skipped"] += result.skipped

        _run_batches(checked.rows, batch_size, f"Crediting {month}", one)
        click.echo(
            f"{tally['credited']} credited, {tally['skipped']} skipped (already credited {month})"
        )

    app.cli.add_command(roster_group)
    app.cli.add_command(credits_group)
