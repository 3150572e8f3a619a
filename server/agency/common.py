"""The agency blueprint and what its feature modules share: the acting clerk and small answers.

DOMAIN.md: "Who uses it".
"""

from __future__ import annotations

from typing import Annotated

from flask import Blueprint
from pydantic import Field

from server.http import Answer, claims

bp = Blueprint("agency", __name__, url_prefix="/api/v1/admin")

IdNumber = Annotated[str, Field(min_length=1, max_length=18, examples=["110101199003074514"])]


class Ok(Answer):
    ok: bool = True


def actor() -> str:
    """The audit trail's name for the signed-in clerk."""
    return f"admin:{claims()['sub']}"
