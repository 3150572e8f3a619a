"""The roster import with a visible tail: the import commits, then its initial passwords go to
the jobs port as one job whose progress the agency page shows (GET /api/v1/admin/jobs/<id>).

DOMAIN.md: "Activation = real-name verification", "Payment password".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from server import progress
from server.roster.service import RosterRow, import_persons, issue_pending_passwords
from server.uow import UnitOfWork

# Progress is recorded after each batch: small enough for a moving bar, large enough that the
# store is not written once per slow hash.
BATCH = 20


@dataclass(frozen=True)
class TrackedImport:
    created: int
    updated: int
    unchanged: int  # rows identical to the stored person (nothing written)
    pending_password_accounts: list[int]  # accounts whose initial password the job sends
    job_id: str | None  # None: nobody is due an initial password


def import_roster(uow: UnitOfWork, rows: Sequence[RosterRow], *, actor: str) -> TrackedImport:
    """Import rows (all or none), then queue the initial passwords as one tracked job."""
    result = import_persons(uow.session, rows, now=uow.clock.now(), actor=actor)
    due = result.pending_password_accounts
    if not due:
        return TrackedImport(result.created, result.updated, result.unchanged, [], None)
    job_id = progress.new_job_id()
    progress.report(uow.store, job_id, progress.JobProgress("queued", 0, len(due)))
    uow.jobs.enqueue("initial_passwords", account_ids=list(due), job_id=job_id)
    return TrackedImport(result.created, result.updated, result.unchanged, list(due), job_id)


def issue_with_progress(uow: UnitOfWork, *, account_ids: Sequence[int], job_id: str) -> None:
    """The job: send the initial passwords batch by batch, reporting after each batch."""
    total, done = len(account_ids), 0
    progress.report(uow.store, job_id, progress.JobProgress("running", 0, total))
    try:
        for start in range(0, total, BATCH):
            batch = list(account_ids[start : start + BATCH])
            issue_pending_passwords(uow, account_ids=batch)
            done += len(batch)
            state: progress.State = "done" if done == total else "running"
            progress.report(uow.store, job_id, progress.JobProgress(state, done, total))
    except Exception:
        progress.report(uow.store, job_id, progress.JobProgress("failed", done, total))
        raise
