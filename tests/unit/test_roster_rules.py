import pytest

from server.roster.rules import id_check_digit, id_number_problem, is_valid_phone


@pytest.mark.parametrize(
    ("first17", "check"),
    [("11010519491231002", "X"), ("44052418800101001", "4")],  # GB 11643 and a published example
)
def test_check_digit_follows_gb_11643(first17, check):
    assert id_check_digit(first17) == check


def test_valid_id_number_has_no_problem():
    assert id_number_problem("11010519491231002X") is None


@pytest.mark.parametrize(
    ("number", "why"),
    [
        ("110105194912310021", "check digit"),
        ("11010519491331002X"[:17] + id_check_digit("11010519491331002"), "birth date"),
        ("11010519491231002x", "digit or X"),
        ("1101051949123100", "digit or X"),
    ],
)
def test_invalid_id_numbers_say_why(number, why):
    problem = id_number_problem(number)
    assert problem is not None and why in problem


@pytest.mark.parametrize(
    ("phone", "ok"),
    [("13800138000", True), ("12800138000", False), ("1380013800", False), ("138001380001", False)],
)
def test_mainland_mobile_numbers(phone, ok):
    assert is_valid_phone(phone) is ok
