"""Rules of family mutual aid (家庭共济). DOMAIN.md: "Family mutual aid".

Pure: no Flask, no SQLAlchemy. The service maps each refusal to its contract error.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum

from server.clock import BEIJING, beijing_date

# An account holder may file their spouse, parents and children (002), nobody else.
RELATIONS = ("spouse", "parent", "child")

# A beneficiary filed as the holder's `parent` draws on their `child`'s account, and so on.
_INVERSE = {"spouse": "spouse", "parent": "child", "child": "parent"}


class FilingRefusal(StrEnum):
    RELATION_NOT_ALLOWED = "relation_not_allowed"
    SELF = "self"
    ALREADY_FILED = "already_filed"
    SECOND_SPOUSE = "second_spouse"


def holder_relation(filed_relation: str) -> str:
    """What the holder is to a beneficiary filed as `filed_relation`."""
    return _INVERSE[filed_relation]


def filing_refusal(
    *, relation: str, is_self: bool, is_already_filed: bool, has_spouse_filed: bool
) -> FilingRefusal | None:
    """Why a holder may not file this beneficiary, or None.

    Only spouse, parent and child; never oneself; a beneficiary already filed (and not
    withdrawn) is not filed twice; and a holder has one spouse.
    """
    if relation not in RELATIONS:
        return FilingRefusal.RELATION_NOT_ALLOWED
    if is_self:
        return FilingRefusal.SELF
    if is_already_filed:
        return FilingRefusal.ALREADY_FILED
    if relation == "spouse" and has_spouse_filed:
        return FilingRefusal.SECOND_SPOUSE
    return None


def effective_at(filed_at: datetime, *, delay_days: int) -> datetime:
    """When a filing starts to count: at once with no delay, else at Beijing midnight
    `delay_days` calendar days after the day it was filed (002: "took effect on a set date")."""
    if delay_days < 0:
        raise ValueError("delay_days cannot be negative")
    if delay_days == 0:
        return filed_at
    day = beijing_date(filed_at) + timedelta(days=delay_days)
    return datetime(day.year, day.month, day.day, tzinfo=BEIJING)


def reorder_problem(current: Sequence[str], wanted: Sequence[str]) -> str | None:
    """Why `wanted` is not a new order of exactly the `current` sources, or None."""
    if len(set(wanted)) != len(wanted):
        return "a source appears twice"
    if set(wanted) != set(current):
        return "list every current source exactly once, and no other"
    return None
