"""Rotation on RFC 6238 steps, code life, and the growing counter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from server.credentials.rules import (
    STEP_SECONDS,
    USED_CODE_TTL_SECONDS,
    code_window,
    counter_grew,
    rotation_step,
)


@pytest.mark.parametrize("second", [0, 1, 29, 30, 59])
def test_the_rotation_step_is_the_rfc_6238_time_counter(second: int) -> None:
    at = datetime(2026, 11, 24, 12, 0, tzinfo=UTC) + timedelta(seconds=second)
    assert rotation_step(at) == int(at.timestamp()) // 30
    # The same counter pyotp's TOTP feeds HOTP: equal steps give equal one-time passwords.
    totp = pyotp.TOTP(pyotp.random_base32())
    start = datetime.fromtimestamp(rotation_step(at) * 30, UTC)
    assert totp.at(at) == totp.at(start)


def test_rfc_6238_appendix_b_step_for_unix_time_59() -> None:
    assert rotation_step(datetime.fromtimestamp(59, UTC)) == 1
    assert rotation_step(datetime.fromtimestamp(1111111109, UTC)) == 0x23523EC


@pytest.mark.parametrize(
    ("into_step", "refresh_after"),
    [(0.0, 30), (0.4, 30), (12.0, 18), (29.0, 1), (29.9, 1)],
)
def test_a_code_starts_at_its_step_lives_60_seconds_and_refreshes_at_the_next_step(
    into_step: float, refresh_after: int
) -> None:
    step_start = datetime(2026, 11, 24, 12, 0, 30, tzinfo=UTC)
    window = code_window(step_start + timedelta(seconds=into_step))
    assert window.issued_at == int(step_start.timestamp())
    assert window.expires_at - window.issued_at == 60
    assert window.refresh_after_seconds == refresh_after
    assert STEP_SECONDS == 30


def test_a_naive_time_is_a_bug() -> None:
    with pytest.raises(ValueError, match="aware"):
        rotation_step(datetime(2026, 11, 24, 12, 0))  # noqa: DTZ001


def test_the_used_code_record_outlives_every_instant_the_code_passes_the_time_checks() -> None:
    # First scan as early as issued-at - 30 s; still acceptable until expires + 30 s.
    assert USED_CODE_TTL_SECONDS > 30 + 60 + 30


@pytest.mark.parametrize(("last", "shown", "grew"), [(0, 1, True), (5, 5, False), (5, 4, False)])
def test_a_device_counter_must_grow(last: int, shown: int, grew: bool) -> None:
    assert counter_grew(last, shown) is grew
