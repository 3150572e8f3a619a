import pytest

from server.roster.rules import id_check_digit, id_number_problem, is_valid_phone, name_problem


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


@pytest.mark.parametrize("name", ["王秀英", "阿依古丽·买买提", "Anna Li", "李" * 64])
def test_ordinary_names_have_no_problem(name):
    assert name_problem(name) is None


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("", "1-64"),
        ("   ", "1-64"),
        ("李" * 65, "1-64"),
        ("王\n五", "control character U+000A"),
        ("王\t五", "control character U+0009"),
        ("王\x00五", "control character U+0000"),
        ("王\u2028五", "control character U+2028"),
        ("\u202e英秀王", "bidirectional control U+202E"),
        ("王\u2066五\u2069", "bidirectional control U+2066"),
        ("王\u200f五", "bidirectional control U+200F"),
    ],
)
def test_a_name_with_control_or_bidi_characters_is_refused(name, why):
    problem = name_problem(name)
    assert problem is not None and why in problem
