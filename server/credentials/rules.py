"""Pure rules of the e-credential: when codes rotate, how long things live, which counter wins.

No Flask, no database. QR.md points 3, 4 and 8; docs/qr-format.md, "Rotation".

DOMAIN.md: "The e-credential".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import pyotp

from server.credentials.ec1 import CODE_MAX_LIFETIME_SECONDS, SKEW_SECONDS

STEP_SECONDS = 30  # RFC 6238 time step
KIT_LIFETIME_SECONDS = 3 * 24 * 3600  # an offline kit works for 3 days without network
# A server-held kit is replaced once it has less than this left, so a code never outlives it.
KIT_REFRESH_MARGIN_SECONDS = 3600
SCAN_TOKEN_SECONDS = 10 * 60
# The used-once record must outlive every instant at which the code could still pass the time
# checks (issued-at - skew .. expires + skew), wherever in that window it was first scanned.
USED_CODE_TTL_SECONDS = CODE_MAX_LIFETIME_SECONDS + 2 * SKEW_SECONDS + 60

# pyotp is the RFC 6238 clock: we use its time step (T = floor(unix / 30)), not its digits, so
# the secret is irrelevant and fixed.
_TOTP = pyotp.TOTP("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", interval=STEP_SECONDS)


@dataclass(frozen=True)
class CodeWindow:
    """When a code made now is valid, and when the phone should show the next one."""

    step: int
    issued_at: int
    expires_at: int
    refresh_after_seconds: int


def rotation_step(at: datetime) -> int:
    """The RFC 6238 time-step counter T of an (aware) instant."""
    if at.tzinfo is None:
        raise ValueError("rotation_step needs an aware datetime")
    return int(_TOTP.timecode(at))


def code_window(at: datetime) -> CodeWindow:
    """A code made at `at` is issued at the start of its step and lives 60 s: it stays good
    through the next step, so a code shown just before a rotation still scans."""
    step = rotation_step(at)
    issued_at = step * STEP_SECONDS
    next_step_at = issued_at + STEP_SECONDS
    refresh_after = max(1, math.ceil(next_step_at - at.timestamp()))
    return CodeWindow(
        step=step,
        issued_at=issued_at,
        expires_at=issued_at + CODE_MAX_LIFETIME_SECONDS,
        refresh_after_seconds=refresh_after,
    )


def counter_grew(last_accepted: int, shown: int) -> bool:
    """A device's counter must grow from one accepted code to the next (QR.md)."""
    return shown > last_accepted
