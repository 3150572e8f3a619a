"""Rules of family proxy accounts (亲情账户). DOMAIN.md: "Family proxy accounts".

Pure: no Flask, no SQLAlchemy. The service maps each refusal to its contract error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from server.clock import BEIJING

# At most 5 family member sub-accounts per app user (001).
FAMILY_LIMIT = 5

# What a bound member may be to the user who binds them.
RELATIONS = ("spouse", "parent", "child", "grandparent", "grandchild", "sibling")

# The same tie seen from the other side: the user who binds their parent is that parent's child.
_INVERSE = {
    "spouse": "spouse",
    "parent": "child",
    "child": "parent",
    "grandparent": "grandchild",
    "grandchild": "grandparent",
    "sibling": "sibling",
}


class BindingRefusal(StrEnum):
    RELATION_NOT_ALLOWED = "relation_not_allowed"
    SELF = "self"
    ALREADY_BOUND = "already_bound"
    LIMIT_REACHED = "limit_reached"


def inverse_relation(relation: str) -> str:
    """What the user is to a member bound as `relation` (a bound `parent` sees a `child`)."""
    return _INVERSE[relation]


def binding_refusal(
    *, relation: str, is_self: bool, is_already_bound: bool, bound_count: int
) -> BindingRefusal | None:
    """Why a user may not bind this member, or None.

    The checks run in the order that tells the user most: a relation outside the list, then
    binding oneself (nobody is their own relative), then a member this user already bound
    (before the limit, since binding them again would change nothing), then the limit of 5.
    One person may be bound by several relatives, so other users' bindings do not count.
    """
    if relation not in RELATIONS:
        return BindingRefusal.RELATION_NOT_ALLOWED
    if is_self:
        return BindingRefusal.SELF
    if is_already_bound:
        return BindingRefusal.ALREADY_BOUND
    if bound_count >= FAMILY_LIMIT:
        return BindingRefusal.LIMIT_REACHED
    return None


# --- a member's yearly medical expenses ------------------------------------------------------
@dataclass(frozen=True)
class Visit:
    """One visit in a year's expenses: a real-time settlement, or an approved manual claim."""

    on: date  # the Beijing calendar day of the visit
    institution: str
    scene: str | None  # None for a manual claim (the agency records no scene)
    kind: Literal["settlement", "manual_claim"]
    total_fen: int
    fund_fen: int
    personal_account_fen: int  # own account and family mutual-aid accounts together
    mutual_aid_fen: int  # of personal_account_fen, what family accounts paid
    cash_fen: int


@dataclass(frozen=True)
class YearTotals:
    total_fen: int
    fund_fen: int
    personal_account_fen: int
    mutual_aid_fen: int
    cash_fen: int


def claim_visit(*, on: date, institution: str, total_fen: int, fund_fen: int) -> Visit:
    """A manual claim (手工报销) as a visit: the patient paid the whole bill at the counter and
    the agency pays back the fund's share, so what is left to them was paid in cash (001)."""
    return Visit(
        on=on,
        institution=institution,
        scene=None,
        kind="manual_claim",
        total_fen=total_fen,
        fund_fen=fund_fen,
        personal_account_fen=0,
        mutual_aid_fen=0,
        cash_fen=total_fen - fund_fen,
    )


def year_totals(visits: Sequence[Visit]) -> YearTotals:
    """The year's sums; fund + personal account + cash always make the total."""
    totals = YearTotals(
        total_fen=sum(v.total_fen for v in visits),
        fund_fen=sum(v.fund_fen for v in visits),
        personal_account_fen=sum(v.personal_account_fen for v in visits),
        mutual_aid_fen=sum(v.mutual_aid_fen for v in visits),
        cash_fen=sum(v.cash_fen for v in visits),
    )
    if totals.fund_fen + totals.personal_account_fen + totals.cash_fen != totals.total_fen:
        raise ValueError("a visit whose parts do not make its total")
    return totals


def beijing_year_bounds(year: int) -> tuple[datetime, datetime]:
    """The first instant of a Beijing calendar year and of the next one."""
    return datetime(year, 1, 1, tzinfo=BEIJING), datetime(year + 1, 1, 1, tzinfo=BEIJING)
