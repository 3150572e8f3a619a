"""Which payment passwords are too easy to guess (WEAK_PASSWORD). DOMAIN.md, "Payment password".

Pure: no Flask, no SQLAlchemy. A payment password is 6 digits; someone who holds the card, the
phone or a photocopy of the ID card tries these first, so they are refused:

- `000000` and `123456` (the printed initial value in 003, and the most common choice);
- six equal digits (`777777`);
- a straight run up or down (`345678`, `987654`; runs do not wrap: `890123` is allowed);
- the birth date inside the ID number, in the forms people write it: YYMMDD (`900315`),
  MMDDYY (`031590`), DDMMYY (`150390`), YYYYMM (`199003`), and any password holding the
  4-digit MMDD (`0315`) at any position, since the 2 other digits are quick to try;
- the last 6 characters of the ID number (a common choice, on the ID card itself);
- the last 6 digits of the phone number.
"""

from __future__ import annotations

import itertools
import re
from datetime import date
from enum import StrEnum

_SIX_DIGITS = re.compile(r"[0-9]{6}")
_COMMON = frozenset({"000000", "123456"})


class Weakness(StrEnum):
    COMMON = "common"
    REPEATED_DIGIT = "repeated_digit"
    STRAIGHT_RUN = "straight_run"
    BIRTH_DATE = "birth_date"
    ID_NUMBER_TAIL = "id_number_tail"
    PHONE_TAIL = "phone_tail"


def is_well_formed(password: str) -> bool:
    """Exactly 6 ASCII digits."""
    return _SIX_DIGITS.fullmatch(password) is not None


def birth_date_of(id_number: str) -> date | None:
    """The birth date inside a resident ID number: YYYYMMDD at 7-14 (18 digits), YYMMDD at 7-12
    (the old 15-digit numbers, all born in the 1900s). None when it does not hold a real date."""
    try:
        if len(id_number) == 18 and id_number[6:14].isdigit():
            return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
        if len(id_number) == 15 and id_number[6:12].isdigit():
            return date(1900 + int(id_number[6:8]), int(id_number[8:10]), int(id_number[10:12]))
    except ValueError:
        return None
    return None


def _is_straight_run(password: str) -> bool:
    steps = {int(b) - int(a) for a, b in itertools.pairwise(password)}
    return steps in ({1}, {-1})


def weakness(password: str, *, id_number: str | None, phone: str | None) -> Weakness | None:
    """Why `password` is too easy to guess for this holder, or None when it is acceptable.

    Raises ValueError when `password` is not 6 digits (the request model refuses those first).
    """
    if not is_well_formed(password):
        raise ValueError("a payment password is 6 digits")
    if password in _COMMON:
        return Weakness.COMMON
    if len(set(password)) == 1:
        return Weakness.REPEATED_DIGIT
    if _is_straight_run(password):
        return Weakness.STRAIGHT_RUN
    if id_number:
        born = birth_date_of(id_number)
        if born is not None:
            yy, mm, dd = f"{born.year % 100:02d}", f"{born.month:02d}", f"{born.day:02d}"
            if password in {yy + mm + dd, mm + dd + yy, dd + mm + yy, f"{born.year:04d}" + mm}:
                return Weakness.BIRTH_DATE
            if mm + dd in password:
                return Weakness.BIRTH_DATE
        if password == id_number[-6:]:
            return Weakness.ID_NUMBER_TAIL
    if phone and len(phone) >= 6 and password == phone[-6:]:
        return Weakness.PHONE_TAIL
    return None
