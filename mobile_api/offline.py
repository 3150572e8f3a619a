"""A reference generator of EC1 codes from an offline kit: what a phone does with no network.

The phone keeps the kit (`POST /api/v1/credential/offline-kit`), its device private key and a
counter. For each 30-second step it signs a fresh presentation with its clock corrected by the
kit's `server_time` (the attestation's signed issued-at is the trusted time). Nothing here
touches the network or the server's state; the tests use it exactly as a phone would.
docs/qr-format.md, "Rotation and clocks".

DOMAIN.md: "The e-credential".
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from server.credentials import ec1
from server.credentials.codec import b64url_decode
from server.credentials.rules import code_window
from server.errors import KitExpiredError


@dataclass(frozen=True)
class OfflineCode:
    qr_text: str
    expires_at: datetime
    refresh_after_seconds: int


@dataclass
class OfflineGenerator:
    """One kit on one phone. `counter` is the last counter used; persist it with the kit."""

    attestation: bytes
    device_key: Ed25519PrivateKey = field(repr=False)
    expires_at: datetime
    clock_offset: timedelta
    counter: int = 0

    @classmethod
    def from_kit(
        cls,
        kit: Mapping[str, Any],
        *,
        received_at: datetime,
        device_key: Ed25519PrivateKey | None = None,
    ) -> OfflineGenerator:
        """Read the offline-kit answer received at `received_at` by the phone's own clock.

        `device_key` is the phone's own key when it sent its public half; otherwise the kit
        carries the private key the server made (`device_private_key`, shown once).
        """
        if device_key is None:
            device_key = Ed25519PrivateKey.from_private_bytes(
                b64url_decode(kit["device_private_key"])
            )
        server_time = datetime.fromisoformat(kit["server_time"])
        return cls(
            attestation=b64url_decode(kit["device_attestation"]),
            device_key=device_key,
            expires_at=datetime.fromisoformat(kit["expires_at"]),
            clock_offset=server_time - received_at,
        )

    def next_code(self, phone_now: datetime) -> OfflineCode:
        """A new code for the current step; raises KitExpiredError once the kit is over."""
        now = phone_now + self.clock_offset
        if now >= self.expires_at:
            raise KitExpiredError()
        window = code_window(now)
        self.counter += 1
        claims = ec1.PresentationClaims(
            code_id=os.urandom(ec1.CODE_ID_BYTES),
            issued_at=window.issued_at,
            expires_at=window.expires_at,
            counter=self.counter,
        )
        return OfflineCode(
            qr_text=ec1.present(self.attestation, self.device_key, claims),
            expires_at=datetime.fromtimestamp(window.expires_at, UTC),
            refresh_after_seconds=window.refresh_after_seconds,
        )
