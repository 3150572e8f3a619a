"""The background tasks, by name, and the entry point an rq worker calls.

Each task is `task(uow, **kwargs)` with JSON arguments; the `Jobs` port (server/ports/jobs.py)
decides whether it runs now, on a thread, or in an `rq worker` process.

DOMAIN.md: none: background work.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from server.uow import UnitOfWork

if TYPE_CHECKING:
    from server.wiring import Wiring


def _initial_passwords(
    uow: UnitOfWork, *, account_ids: list[int], job_id: str | None = None
) -> None:
    if job_id is not None:  # a tracked import (server/roster/importing.py) reports progress
        from server.roster.importing import issue_with_progress

        issue_with_progress(uow, account_ids=account_ids, job_id=job_id)
        return
    from server.roster.service import issue_pending_passwords

    issue_pending_passwords(uow, account_ids=account_ids)


def _send_sms(uow: UnitOfWork, *, phone: str, purpose: str, sealed: str, holder: str = "") -> None:
    """Deliver one message queued by QueuedSmsSender (uow.sms is the real sender here)."""
    from server.ports.sms import job_cipher

    code = job_cipher(uow.settings.password_pepper).decrypt(sealed.encode()).decode()
    uow.sms.send(phone, purpose, code, holder=holder)


TASKS: dict[str, Callable[..., None]] = {
    "initial_passwords": _initial_passwords,
    "send_sms": _send_sms,
}


def run(uow: UnitOfWork, task: str, kwargs: dict[str, Any]) -> None:
    """Run the task named `task`; an unknown name is a bug in the caller."""
    TASKS[task](uow, **kwargs)


_worker_wiring: Wiring | None = None


def use_wiring(wiring: Wiring | None) -> None:
    """Give `perform` the wiring to run with (a worker started in code, a test); None forgets it."""
    global _worker_wiring
    _worker_wiring = wiring


def perform(task: str, kwargs: dict[str, Any]) -> None:
    """rq's entry point: the worker's wiring comes from the environment, made once per process
    (unless `use_wiring` gave one)."""
    global _worker_wiring
    if _worker_wiring is None:
        from server.clock import SystemClock
        from server.config import load_settings
        from server.wiring import build_wiring

        _worker_wiring = build_wiring(load_settings({}), SystemClock())
    _worker_wiring.run_job(task, kwargs)
