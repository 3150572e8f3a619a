"""The background tasks, by name, and the entry point an rq worker calls.

Each task is `task(uow, **kwargs)` with JSON arguments; the `Jobs` port (server/ports/jobs.py)
decides whether it runs now, on a thread, or in an `rq worker` process.

DOMAIN.md: none: background work.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from server.uow import UnitOfWork


def _initial_passwords(
    uow: UnitOfWork, *, account_ids: list[int], job_id: str | None = None
) -> None:
    if job_id is not None:  # a tracked import (server/roster/importing.py) reports progress
        from server.roster.importing import issue_with_progress

        issue_with_progress(uow, account_ids=account_ids, job_id=job_id)
        return
    from server.roster.service import issue_pending_passwords

    issue_pending_passwords(uow, account_ids=account_ids)


TASKS: dict[str, Callable[..., None]] = {
    "initial_passwords": _initial_passwords,
}


def run(uow: UnitOfWork, task: str, kwargs: dict[str, Any]) -> None:
    """Run the task named `task`; an unknown name is a bug in the caller."""
    TASKS[task](uow, **kwargs)


_worker_wiring: Any = None


def perform(task: str, kwargs: dict[str, Any]) -> None:
    """rq's entry point: the worker's wiring comes from the environment, made once per process."""
    global _worker_wiring
    if _worker_wiring is None:
        from server.clock import SystemClock
        from server.config import load_settings
        from server.wiring import build_wiring

        _worker_wiring = build_wiring(load_settings({}), SystemClock())
    _worker_wiring.run_job(task, kwargs)
