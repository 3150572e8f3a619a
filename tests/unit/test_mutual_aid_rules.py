"""Rules of family mutual aid (DOMAIN.md: "Family mutual aid")."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.clock import BEIJING
from server.mutual_aid.rules import (
    FilingRefusal,
    effective_at,
    filing_refusal,
    holder_relation,
    reorder_problem,
)


def refusal(
    relation: str = "spouse", *, is_self: bool = False, filed: bool = False, spouse: bool = False
) -> FilingRefusal | None:
    return filing_refusal(
        relation=relation, is_self=is_self, is_already_filed=filed, has_spouse_filed=spouse
    )


@pytest.mark.parametrize("relation", ["spouse", "parent", "child"])
def test_spouse_parents_and_children_may_be_filed(relation):
    assert refusal(relation) is None


@pytest.mark.parametrize("relation", ["grandparent", "grandchild", "sibling", "friend"])
def test_anyone_else_is_refused(relation):
    assert refusal(relation) is FilingRefusal.RELATION_NOT_ALLOWED


def test_a_holder_cannot_file_themselves():
    assert refusal("child", is_self=True) is FilingRefusal.SELF


def test_a_beneficiary_is_filed_once():
    assert refusal("child", filed=True) is FilingRefusal.ALREADY_FILED


def test_a_holder_has_one_spouse_but_many_children():
    assert refusal("spouse", spouse=True) is FilingRefusal.SECOND_SPOUSE
    assert refusal("child", spouse=True) is None


@pytest.mark.parametrize(
    ("filed_as", "holder_is"), [("spouse", "spouse"), ("parent", "child"), ("child", "parent")]
)
def test_the_beneficiary_sees_the_holder_from_their_side(filed_as, holder_is):
    assert holder_relation(filed_as) == holder_is


def test_with_no_delay_a_filing_counts_at_once():
    filed = datetime(2026, 11, 24, 10, 0, 7, tzinfo=BEIJING)
    assert effective_at(filed, delay_days=0) == filed


@pytest.mark.parametrize(
    ("filed", "days", "starts"),
    [
        # 23:30 in Beijing is 15:30 UTC the same day: days are counted in Beijing.
        (datetime(2026, 11, 24, 15, 30, tzinfo=UTC), 1, datetime(2026, 11, 25, tzinfo=BEIJING)),
        # 00:30 in Beijing is still the previous day in UTC.
        (datetime(2026, 11, 23, 16, 30, tzinfo=UTC), 1, datetime(2026, 11, 25, tzinfo=BEIJING)),
        (datetime(2026, 12, 30, 9, 0, tzinfo=BEIJING), 3, datetime(2027, 1, 2, tzinfo=BEIJING)),
    ],
)
def test_a_delay_starts_the_filing_at_beijing_midnight(filed, days, starts):
    assert effective_at(filed, delay_days=days) == starts


def test_a_negative_delay_is_a_configuration_bug():
    with pytest.raises(ValueError):
        effective_at(datetime(2026, 1, 1, tzinfo=BEIJING), delay_days=-1)


@given(st.lists(st.text(min_size=1, max_size=4), unique=True, max_size=6), st.randoms())
def test_any_permutation_of_the_current_sources_is_a_valid_order(current, rnd):
    wanted = list(current)
    rnd.shuffle(wanted)
    assert reorder_problem(current, wanted) is None


@pytest.mark.parametrize("wanted", [["a"], ["a", "b", "c"], ["a", "a", "b"], ["a", "c"], []])
def test_an_order_must_name_exactly_the_current_sources(wanted):
    assert reorder_problem(["a", "b"], wanted) is not None
