"""A kit and a device, as the server and a phone hold them, for the pure QR tests."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from server.credentials import ec1
from server.credentials.keys import KeyRing, ServerKey, public_raw
from server.credentials.rules import KIT_LIFETIME_SECONDS, code_window

T0 = datetime(2026, 11, 24, 12, 0, 5, tzinfo=UTC)  # 5 s into an RFC 6238 step


@dataclass
class Kit:
    ring: KeyRing
    device: Ed25519PrivateKey
    attestation: bytes
    claims: ec1.AttestationClaims
    counter: int = 0

    def resolver(self) -> Callable[[str], Sequence[Ed25519PublicKey]]:
        return lambda kid: [k.public_key for k in self.ring.candidates(kid)]

    def code(self, at: datetime = T0, **changes: int) -> str:
        window = code_window(at)
        self.counter += 1
        fields = {
            "issued_at": window.issued_at,
            "expires_at": window.expires_at,
            "counter": self.counter,
        } | changes
        claims = ec1.PresentationClaims(code_id=os.urandom(16), **fields)
        return ec1.present(self.attestation, self.device, claims)


def make_kit(ring: KeyRing | None = None, at: datetime = T0, presenter: bytes | None = None) -> Kit:
    ring = ring or KeyRing(keys=(ServerKey.generate(),))
    device = Ed25519PrivateKey.generate()
    issued = int(at.timestamp())
    claims = ec1.AttestationClaims(
        handle=os.urandom(16),
        issued_at=issued,
        expires_at=issued + KIT_LIFETIME_SECONDS,
        device_public_key=public_raw(device),
        role=ec1.ROLE_PROXY if presenter else ec1.ROLE_SELF,
        presenter=presenter,
    )
    attestation = ec1.sign_attestation(ring.active.private_key, ring.active.kid_raw, claims)
    return Kit(ring=ring, device=device, attestation=attestation, claims=claims)


@pytest.fixture
def t0() -> datetime:
    return T0


@pytest.fixture
def new_kit() -> Callable[..., Kit]:
    """Make a kit: `new_kit(ring=..., at=..., presenter=...)`."""
    return make_kit


@pytest.fixture
def kit() -> Kit:
    return make_kit()
