"""Rules of family proxy accounts (亲情账户). DOMAIN.md: "Family proxy accounts".

Pure: no Flask, no SQLAlchemy. The service maps each refusal to its contract error.
"""

from __future__ import annotations

from enum import StrEnum

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
