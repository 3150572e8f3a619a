"""Progress of background jobs, kept in the short-lived store: `{state, done, total}` by job id.

A job that reports progress is started here (queued, 0 of total), advanced by its task as it
works, and read by the agency page's progress bar. The record lives a day; a job whose record
has expired (or never existed) is NOT_FOUND.

DOMAIN.md: none: background work.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Literal

from server.errors import NotFoundError
from server.ports.store import ShortLivedStore
from server.uow import UnitOfWork

State = Literal["queued", "running", "done", "failed"]
KEEP_SECONDS = 24 * 3600


@dataclass(frozen=True)
class JobProgress:
    state: State
    done: int
    total: int


def _key(job_id: str) -> str:
    return f"job:progress:{job_id}"


def new_job_id() -> str:
    return uuid.uuid4().hex


def report(store: ShortLivedStore, job_id: str, progress: JobProgress) -> None:
    """Record where a job stands (call it outside any database transaction)."""
    value = {"state": progress.state, "done": progress.done, "total": progress.total}
    store.put(_key(job_id), json.dumps(value), KEEP_SECONDS)


def read(store: ShortLivedStore, job_id: str) -> JobProgress:
    """Where the job stands. Raises NOT_FOUND for an unknown or expired job."""
    raw = store.get(_key(job_id)) if len(job_id) <= 64 else None
    if raw is None:
        raise NotFoundError("No such job")
    value = json.loads(raw)
    return JobProgress(value["state"], int(value["done"]), int(value["total"]))


def job_progress(uow: UnitOfWork, *, job_id: str) -> JobProgress:
    """The agency's read of a job's progress. Raises NOT_FOUND for an unknown job."""
    return read(uow.store, job_id)
