"""Money: integer fen everywhere inside (DOMAIN.md "Dates and money"), within one bound.

Amounts are below 10^10 fen: 100 million yuan, far above any bill, and far inside a signed
64-bit column even after summing a year of an institution's bills.
"""

from __future__ import annotations

from typing import Any

MAX_AMOUNT_FEN = 10**10


def is_integer_fen(value: Any) -> bool:
    """An int that is not a bool (JSON true must never pass for 1 fen)."""
    return isinstance(value, int) and not isinstance(value, bool)
