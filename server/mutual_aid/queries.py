"""Reads of mutual-aid filings, used by settlement. TODO(issue 6): the filings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class DrawSource:
    """A holder's account that a beneficiary may draw on, in the beneficiary's order."""

    holder_person_id: int
    account_id: int
    relation: str  # the holder's relation as filed: spouse | parent | child
    holder_masked: str


def drawable_sources(
    session: Session, *, beneficiary_person_id: int, at: datetime
) -> list[DrawSource]:
    """Effective filings for the beneficiary at `at`, in the beneficiary's chosen order."""
    return []
