"""Which payment passwords are refused as WEAK_PASSWORD."""

from __future__ import annotations

from datetime import date

import pytest

from server.accounts.password_rules import Weakness, birth_date_of, is_well_formed, weakness

# A made-up resident ID number born 1990-03-15, and a made-up phone.
ID_NUMBER = "110101199003151234"
PHONE = "13800138000"


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("000000", Weakness.COMMON),
        ("123456", Weakness.COMMON),
        ("777777", Weakness.REPEATED_DIGIT),
        ("345678", Weakness.STRAIGHT_RUN),
        ("012345", Weakness.STRAIGHT_RUN),
        ("987654", Weakness.STRAIGHT_RUN),
        ("543210", Weakness.STRAIGHT_RUN),
        ("900315", Weakness.BIRTH_DATE),  # YYMMDD
        ("031590", Weakness.BIRTH_DATE),  # MMDDYY
        ("150390", Weakness.BIRTH_DATE),  # DDMMYY
        ("199003", Weakness.BIRTH_DATE),  # YYYYMM
        ("031577", Weakness.BIRTH_DATE),  # MMDD anywhere
        ("840315", Weakness.BIRTH_DATE),
        ("151234", Weakness.ID_NUMBER_TAIL),
        ("138000", Weakness.PHONE_TAIL),
    ],
)
def test_guessable_payment_passwords_are_weak(password: str, why: Weakness) -> None:
    assert weakness(password, id_number=ID_NUMBER, phone=PHONE) is why


@pytest.mark.parametrize("password", ["739164", "890123", "135790", "031400", "112233"])
def test_ordinary_passwords_are_accepted(password: str) -> None:
    assert weakness(password, id_number=ID_NUMBER, phone=PHONE) is None


def test_a_birth_date_is_weak_only_for_its_own_holder() -> None:
    other = "110101198511204321"
    assert weakness("900315", id_number=other, phone=None) is None
    assert weakness("851120", id_number=other, phone=None) is Weakness.BIRTH_DATE


def test_a_person_without_a_phone_is_checked_without_it() -> None:
    assert weakness("138000", id_number=ID_NUMBER, phone=None) is None


def test_old_fifteen_digit_id_numbers_hold_the_birth_date_too() -> None:
    assert birth_date_of("110101900315123") == date(1990, 3, 15)
    assert weakness("900315", id_number="110101900315123", phone=None) is Weakness.BIRTH_DATE


def test_an_id_number_without_a_real_date_is_not_a_birth_date() -> None:
    assert birth_date_of("110101199013451234") is None


@pytest.mark.parametrize("password", ["12345", "1234567", "12345a", "１２３４５６", ""])
def test_a_payment_password_is_six_ascii_digits(password: str) -> None:
    assert not is_well_formed(password)
    with pytest.raises(ValueError):
        weakness(password, id_number=ID_NUMBER, phone=PHONE)
