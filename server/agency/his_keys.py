"""Gateway access keys for institutions' HIS software (issue 12; docs/his-interface.md)."""

from __future__ import annotations

from server.agency.common import actor, bp
from server.hospital import keys
from server.http import Answer, documented, role_required
from server.web.context import uow


class HisKeyIssued(Answer):
    access_key: str
    secret: str
    fixmedins_code: str


@bp.post("/institutions/<code>/his-keys")
@role_required("admin")
@documented(
    answer=HisKeyIssued,
    status=201,
    summary="Issue (or rotate) the institution's HIS gateway access key; the secret is shown once",
)
def issue_his_key(code: str) -> tuple[dict[str, object], int]:
    issued = keys.issue_key(uow(), institution_code=code, actor=actor())
    answer = HisKeyIssued(
        access_key=issued.access_key, secret=issued.secret, fixmedins_code=issued.fixmedins_code
    )
    return answer.model_dump(), 201
