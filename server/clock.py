"""Time: aware instants, and the Beijing calendar that days and months are counted in.

DOMAIN.md: "Dates and money".
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock that moves only when told to; tests use it instead of sleeping."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FrozenClock needs an aware datetime")
        self._at = at
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._at

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._at += timedelta(seconds=seconds)

    def set(self, at: datetime) -> None:
        with self._lock:
            self._at = at


def beijing_date(at: datetime) -> date:
    """The Beijing calendar day of an instant."""
    return at.astimezone(BEIJING).date()


def beijing_midnight_after(at: datetime) -> datetime:
    """The first instant of the Beijing day after `at`'s day."""
    day = beijing_date(at) + timedelta(days=1)
    return datetime(day.year, day.month, day.day, tzinfo=BEIJING)


def epoch_ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def iso(at: datetime) -> str:
    """ISO-8601 with the Beijing offset, as every answer shows times."""
    return at.astimezone(BEIJING).isoformat(timespec="seconds")
