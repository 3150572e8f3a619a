"""Background jobs as the agency page follows them: GET /api/v1/admin/jobs/<job_id>.

DOMAIN.md: none: background work.
"""

from __future__ import annotations

from typing import Any, Literal

from server import progress
from server.agency.common import bp
from server.http import Answer, documented, role_required
from server.web.context import uow


class JobAnswer(Answer):
    state: Literal["queued", "running", "done", "failed"]
    done: int
    total: int


@bp.get("/jobs/<job_id>")
@role_required("admin")
@documented(answer=JobAnswer, summary="How far a background job (initial-password SMS) has got")
def job(job_id: str) -> dict[str, Any]:
    found = progress.job_progress(uow(), job_id=job_id)
    return JobAnswer(state=found.state, done=found.done, total=found.total).model_dump()
