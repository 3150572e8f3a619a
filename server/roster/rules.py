"""Validation of roster rows: ID numbers (GB 11643-1999), mobile numbers, regions, types.

Pure functions; no Flask, no database.

DOMAIN.md: "Activation = real-name verification".
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

_ID = re.compile(r"^\d{17}[\dX]$")
_PHONE = re.compile(r"^1[3-9]\d{9}$")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"

# Insured regions (参保地), by GB/T 2260 province-level code. The agency's own list; an unknown
# code is refused at import and at activation.
REGIONS: dict[str, str] = {
    "110000": "北京市", "120000": "天津市", "130000": "河北省", "140000": "山西省",
    "150000": "内蒙古自治区", "210000": "辽宁省", "220000": "吉林省", "230000": "黑龙江省",
    "310000": "上海市", "320000": "江苏省", "330000": "浙江省", "340000": "安徽省",
    "350000": "福建省", "360000": "江西省", "370000": "山东省", "410000": "河南省",
    "420000": "湖北省", "430000": "湖南省", "440000": "广东省", "450000": "广西壮族自治区",
    "460000": "海南省", "500000": "重庆市", "510000": "四川省", "520000": "贵州省",
    "530000": "云南省", "540000": "西藏自治区", "610000": "陕西省", "620000": "甘肃省",
    "630000": "青海省", "640000": "宁夏回族自治区", "650000": "新疆维吾尔自治区",
}  # fmt: skip

# 职工 (employee), 退休 (retiree), 城乡居民 (resident)
INSURANCE_TYPES = frozenset({"employee", "retiree", "resident"})
# 在职 (in service), 退休 (retired): the benefit policy's person type (docs/benefit-policy.md)
PERSON_TYPES = frozenset({"in_service", "retired"})


def person_type_for(insurance_type: str, person_type: str | None) -> str:
    """The person type a roster row stores: the one given, else what `insurance_type` implies.

    `retiree` implies retired and everything else in service (the roster keeps no age class for
    residents). A given type is checked against the insurance type by `person_type_problem`.
    """
    if person_type is not None:
        return person_type
    return "retired" if insurance_type == "retiree" else "in_service"


def person_type_problem(insurance_type: str, person_type: str | None) -> str | None:
    """Why a row's person_type cannot be stored, or None: unknown, or a retiree in service."""
    if person_type is None:
        return None
    if person_type not in PERSON_TYPES:
        return f"one of {sorted(PERSON_TYPES)}"
    if insurance_type == "retiree" and person_type != "retired":
        return "a retiree is retired"
    return None


def id_check_digit(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of the first 17 digits."""
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def id_number_problem(id_number: str) -> str | None:
    """Why an 18-character resident ID number is invalid, or None when it is valid."""
    if not _ID.match(id_number):
        return "must be 17 digits and a digit or X"
    if id_check_digit(id_number[:17]) != id_number[17]:
        return "wrong check digit"
    try:
        date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return "impossible birth date"
    return None


NAME_MAX = 64
# Characters that reorder or hide text: the bidirectional embeddings, overrides and isolates
# (U+202A..U+202E, U+2066..U+2069) and marks (U+200E, U+200F, U+061C). A name with them prints
# differently from what it stores (on receipts, in the agency's pages, in a log).
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def name_problem(name: str) -> str | None:
    """Why a roster name cannot be stored, or None: empty, too long, control or bidi characters.

    Control characters (Cc: tabs, newlines, NUL; and the line and paragraph separators) break
    receipts and CSV exports; the
    bidirectional controls make a name display as another. The middle dot of minority names
    (·, U+00B7) and ordinary spaces are allowed.
    """
    if not name.strip() or len(name) > NAME_MAX:
        return f"must be 1-{NAME_MAX} characters"
    for ch in name:
        if ch in _BIDI:
            return f"must not contain the bidirectional control U+{ord(ch):04X}"
        if unicodedata.category(ch) in ("Cc", "Zl", "Zp"):
            return f"must not contain the control character U+{ord(ch):04X}"
    return None


def is_valid_phone(phone: str) -> bool:
    return bool(_PHONE.match(phone))


def birth_date(id_number: str) -> date:
    return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
