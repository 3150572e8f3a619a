"""Rules of family proxy accounts (DOMAIN.md: "Family proxy accounts")."""

from __future__ import annotations

from datetime import UTC, date

import pytest

from server.family.rules import (
    FAMILY_LIMIT,
    RELATIONS,
    BindingRefusal,
    Visit,
    YearTotals,
    beijing_year_bounds,
    binding_refusal,
    claim_visit,
    inverse_relation,
    year_totals,
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


def visit(total: int, fund: int, own: int, aid: int, cash: int) -> Visit:
    return Visit(
        on=date(2026, 3, 1),
        institution="Hospital",
        scene="outpatient",
        kind="settlement",
        total_fen=total,
        fund_fen=fund,
        personal_account_fen=own + aid,
        mutual_aid_fen=aid,
        cash_fen=cash,
    )


def test_a_manual_claims_personal_part_was_paid_in_cash():
    # 003's outpatient bill, paid in full at the counter during an outage, then claimed.
    claim = claim_visit(on=date(2026, 5, 2), institution="H", total_fen=126092, fund_fen=88264)
    assert (claim.fund_fen, claim.personal_account_fen, claim.cash_fen) == (88264, 0, 37828)


def test_a_years_totals_add_up_every_visit():
    visits = [
        visit(5000, 4000, 1000, 0, 0),  # registration 50.00 = 40.00 + 10.00 (003)
        visit(302614, 130854, 1000, 9000, 161760),  # inpatient 3026.14, part family, part cash
        claim_visit(on=date(2026, 5, 2), institution="H", total_fen=84077, fund_fen=58854),
    ]
    totals = year_totals(visits)
    assert totals == YearTotals(
        total_fen=5000 + 302614 + 84077,
        fund_fen=4000 + 130854 + 58854,
        personal_account_fen=1000 + 10000,
        mutual_aid_fen=9000,
        cash_fen=161760 + 25223,
    )


def test_an_empty_year_is_all_zero():
    assert year_totals([]) == YearTotals(0, 0, 0, 0, 0)


def test_a_beijing_year_starts_at_beijing_midnight():
    start, end = beijing_year_bounds(2026)
    assert start.isoformat() == "2026-01-01T00:00:00+08:00"
    assert end.isoformat() == "2027-01-01T00:00:00+08:00"
    assert start.astimezone(UTC).isoformat() == "2025-12-31T16:00:00+00:00"
