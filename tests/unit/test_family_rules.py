"""Rules of family proxy accounts (DOMAIN.md: "Family proxy accounts")."""

from __future__ import annotations

import pytest

from server.family.rules import (
    FAMILY_LIMIT,
    RELATIONS,
    BindingRefusal,
    binding_refusal,
    inverse_relation,
)


def refusal(
    relation: str = "parent", *, is_self: bool = False, bound: bool = False, count: int = 0
) -> BindingRefusal | None:
    return binding_refusal(
        relation=relation, is_self=is_self, is_already_bound=bound, bound_count=count
    )


def test_the_limit_is_five_members():
    assert FAMILY_LIMIT == 5
    assert refusal(count=4) is None
    assert refusal(count=5) is BindingRefusal.LIMIT_REACHED


@pytest.mark.parametrize("relation", RELATIONS)
def test_each_listed_relation_may_be_bound(relation):
    assert refusal(relation) is None


@pytest.mark.parametrize("relation", ["friend", "neighbour", "Parent", "", "cousin"])
def test_a_relation_outside_the_list_is_refused(relation):
    assert refusal(relation) is BindingRefusal.RELATION_NOT_ALLOWED


def test_nobody_is_their_own_relative():
    assert refusal(is_self=True) is BindingRefusal.SELF


def test_a_member_bound_again_is_told_so_even_at_the_limit():
    assert refusal(bound=True, count=5) is BindingRefusal.ALREADY_BOUND


@pytest.mark.parametrize(
    ("bound_as", "user_is"),
    [
        ("parent", "child"),
        ("child", "parent"),
        ("grandparent", "grandchild"),
        ("grandchild", "grandparent"),
        ("spouse", "spouse"),
        ("sibling", "sibling"),
    ],
)
def test_the_user_is_the_inverse_relation_of_the_member(bound_as, user_is):
    assert inverse_relation(bound_as) == user_is
    assert inverse_relation(inverse_relation(bound_as)) == bound_as
