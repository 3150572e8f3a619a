"""A clerk signs in (POST /api/v1/admin/login).

DOMAIN.md: "Who uses it".
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from server.agency.common import bp
from server.auth.admins import authenticate_admin
from server.auth.tokens import access_token
from server.http import Answer, Schema, documented, parse
from server.web.context import uow


class AdminLogin(Schema):
    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=256)]


class AccessToken(Answer):
    access_token: str


@bp.post("/login")
@documented(body=AdminLogin, answer=AccessToken, summary="Agency clerk sign-in")
def login() -> dict[str, object]:
    form = parse(AdminLogin)
    admin_id = authenticate_admin(uow(), username=form.username, password=form.password)
    return AccessToken(access_token=access_token("admin", str(admin_id))).model_dump()
