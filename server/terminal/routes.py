"""Scanner calls: sign-in here; scanning (issue 4) and settlement (issue 5) join this blueprint."""

from __future__ import annotations

from typing import Annotated

from flask import Blueprint
from pydantic import Field

from server.auth.tokens import access_token
from server.db import session
from server.http import Answer, Schema, documented, parse
from server.institutions.service import authenticate_terminal
from server.wiring import wiring

bp = Blueprint("terminal", __name__, url_prefix="/api/v1/terminal")


class TerminalLogin(Schema):
    terminal_id: Annotated[str, Field(min_length=1, max_length=64)]
    secret: Annotated[str, Field(min_length=1, max_length=256)]


class AccessToken(Answer):
    access_token: str


@bp.post("/token")
@documented(body=TerminalLogin, answer=AccessToken, summary="A terminal signs in")
def token() -> dict[str, object]:
    form = parse(TerminalLogin)
    who = authenticate_terminal(
        session(),
        terminal_id=form.terminal_id,
        secret=form.secret,
        pepper=wiring().settings.password_pepper,
    )
    return {
        "access_token": access_token(
            "terminal", who.terminal_id, inst=who.institution_id, inst_code=who.institution_code
        )
    }
