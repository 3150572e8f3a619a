"""The EC1 code: `"EC1:" + Base45(CBOR [attestation, presentation])`, made and verified.

Pure: no Flask, no database. Time comes in as an explicit `now`; keys come in through a resolver
(kid -> candidate public keys), so the same verifier serves the scan service, the tests and
anyone reading docs/qr-format.md, which is the byte-by-byte spec. QR.md: "Recommended format".

Verification runs in the spec's order and stops at the first failure: prefix and length, strict
Base45, strict CBOR, attestation signature, attestation times, presentation signature (bound to
that attestation), presentation times. Revocation and the used-once record need state and belong
to scanning (server/credentials/scanning.py).

DOMAIN.md: "The e-credential".
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from server.credentials import cose
from server.credentials.codec import b45decode, b45encode, b64url, cbor_decode, cbor_encode
from server.errors import (
    KitExpiredError,
    QrExpiredError,
    QrMalformedError,
    QrNotYetValidError,
    QrSignatureInvalidError,
    QrUnsupportedVersionError,
)

PREFIX = "EC1:"
MAX_TEXT_LENGTH = 600  # checked before anything is decoded
SKEW_SECONDS = 30  # allowed clock difference between phone, server and scanner, no more
CODE_MAX_LIFETIME_SECONDS = 60
HANDLE_BYTES = 16
CODE_ID_BYTES = 16
MAX_TIME = 2**40  # seconds since the epoch; far beyond any real date, keeps ints bounded
MAX_COUNTER = 2**63 - 1  # fits a signed 64-bit column
MIN_COUNTER = 1  # a kit's first code is 1 (docs/qr-format.md); 0 is "none used yet" on the server

# A version prefix is upper-case letters and digits then a colon; one other than EC1 is a code
# of another (future) format, anything else is not a code at all.
_PREFIX_SHAPE = re.compile(r"[A-Z][A-Z0-9]{0,7}:")

ROLE_SELF = 0
ROLE_PROXY = 1

# Attestation payload labels.
A_HANDLE, A_ISSUED_AT, A_EXPIRES_AT, A_DEVICE_KEY, A_ROLE, A_PRESENTER = 1, 2, 3, 4, 5, 6
# Presentation payload labels.
P_CODE_ID, P_ISSUED_AT, P_EXPIRES_AT, P_COUNTER = 1, 2, 3, 4

KeyResolver = Callable[[str], Sequence[Ed25519PublicKey]]


@dataclass(frozen=True)
class AttestationClaims:
    """What the server vouches for: this device key may present this handle until expires_at."""

    handle: bytes
    issued_at: int
    expires_at: int
    device_public_key: bytes
    role: int = ROLE_SELF
    presenter: bytes | None = None  # for a proxy code, a random handle of who presents it

    @property
    def is_proxy(self) -> bool:
        return self.role == ROLE_PROXY

    def to_cbor_item(self) -> dict[int, Any]:
        item: dict[int, Any] = {
            A_HANDLE: self.handle,
            A_ISSUED_AT: self.issued_at,
            A_EXPIRES_AT: self.expires_at,
            A_DEVICE_KEY: cose.cose_key(self.device_public_key),
            A_ROLE: self.role,
        }
        if self.presenter is not None:
            item[A_PRESENTER] = self.presenter
        return item


@dataclass(frozen=True)
class PresentationClaims:
    """What the device signs for one code."""

    code_id: bytes
    issued_at: int
    expires_at: int
    counter: int

    def to_cbor_item(self) -> dict[int, Any]:
        return {
            P_CODE_ID: self.code_id,
            P_ISSUED_AT: self.issued_at,
            P_EXPIRES_AT: self.expires_at,
            P_COUNTER: self.counter,
        }


@dataclass(frozen=True)
class ParsedCode:
    """A code that passed steps 1-3 (prefix, Base45, CBOR): well formed, not yet trusted."""

    attestation: cose.Sign1
    attestation_bytes: bytes
    attestation_claims: AttestationClaims
    presentation: cose.Sign1
    presentation_claims: PresentationClaims
    kid: str


@dataclass(frozen=True)
class VerifiedCode:
    """A code that passed steps 1-7: genuine and within its times."""

    kid: str
    attestation: AttestationClaims
    presentation: PresentationClaims

    @property
    def handle(self) -> bytes:
        return self.attestation.handle

    @property
    def used_code_key(self) -> str:
        """The key of the used-once record: one per (handle, code id)."""
        return f"ec1:used:{self.attestation.handle.hex()}:{self.presentation.code_id.hex()}"


# --- making ---------------------------------------------------------------------------------
def sign_attestation(server_key: Ed25519PrivateKey, kid: bytes, claims: AttestationClaims) -> bytes:
    """The attestation, a COSE_Sign1 by the server key, as CBOR bytes (the offline kit's core)."""
    _check_attestation_claims(claims)
    payload = cbor_encode(claims.to_cbor_item())
    return cose.sign1(server_key, payload, kid=kid).encode()


def sign_presentation(
    device_key: Ed25519PrivateKey, attestation_bytes: bytes, claims: PresentationClaims
) -> bytes:
    """The presentation, a COSE_Sign1 by the device key bound to one attestation, as CBOR."""
    _check_presentation_claims(claims)
    payload = cbor_encode(claims.to_cbor_item())
    return cose.sign1(
        device_key, payload, external_aad=presentation_aad(attestation_bytes)
    ).encode()


def presentation_aad(attestation_bytes: bytes) -> bytes:
    """external_aad of the presentation: SHA-256 of the attestation's CBOR bytes."""
    return hashlib.sha256(attestation_bytes).digest()


def present(
    attestation_bytes: bytes, device_key: Ed25519PrivateKey, claims: PresentationClaims
) -> str:
    """A fresh QR text: the kit's attestation with a new presentation signed by the device."""
    return encode_code(attestation_bytes, sign_presentation(device_key, attestation_bytes, claims))


def encode_code(attestation_bytes: bytes, presentation_bytes: bytes) -> str:
    """The QR text. A CBOR array of 2 is the byte 0x82 followed by its two items."""
    return PREFIX + b45encode(b"\x82" + attestation_bytes + presentation_bytes)


# --- reading --------------------------------------------------------------------------------
def parse_code(text: str) -> ParsedCode:
    """Steps 1-3: prefix and length, strict Base45, strict CBOR and the EC1 structure.

    Raises QrMalformedError, or QrUnsupportedVersionError for a well-shaped prefix other than
    `EC1:`.
    """
    if len(text) > MAX_TEXT_LENGTH:
        raise QrMalformedError(reason=f"longer than {MAX_TEXT_LENGTH} characters")
    if not text.startswith(PREFIX):
        if _PREFIX_SHAPE.match(text):
            raise QrUnsupportedVersionError()
        raise QrMalformedError(reason="no EC1: prefix")
    data = b45decode(text[len(PREFIX) :])
    outer = cbor_decode(data)
    if not (isinstance(outer, list) and len(outer) == 2):
        raise QrMalformedError(reason="the code is an array of 2: attestation, presentation")
    attestation = cose.parse_sign1(outer[0], needs_kid=True)
    presentation = cose.parse_sign1(outer[1], needs_kid=False)
    kid = attestation.kid
    if kid is None:  # parse_sign1(needs_kid=True) checked it
        raise ValueError("attestation without kid")
    return ParsedCode(
        attestation=attestation,
        attestation_bytes=attestation.encode(),
        attestation_claims=_attestation_claims(cbor_decode(attestation.payload)),
        presentation=presentation,
        presentation_claims=_presentation_claims(cbor_decode(presentation.payload)),
        kid=b64url(kid),
    )


def verify_code(text: str, *, keys: KeyResolver, now: datetime) -> VerifiedCode:
    """Steps 1-7 of the verification order; the first failure raises.

    Errors: QR_MALFORMED, QR_UNSUPPORTED_VERSION, QR_SIGNATURE_INVALID (a wrong alg, an unknown
    or retired kid, a bad signature by the server or the device), QR_NOT_YET_VALID, KIT_EXPIRED,
    QR_EXPIRED.
    """
    code = parse_code(text)
    at = now.timestamp()
    # 4. attestation signature: every key published under this kid is tried.
    cose.verify_sign1(code.attestation, keys(code.kid))
    # 5. attestation times
    kit = code.attestation_claims
    check_times(kit.issued_at, kit.expires_at, at, expired=KitExpiredError)
    # 6. presentation signature, by the attested device key, bound to this attestation
    try:
        device_key = Ed25519PublicKey.from_public_bytes(kit.device_public_key)
    except ValueError:
        raise QrSignatureInvalidError(reason="the attested device key is not usable") from None
    cose.verify_sign1(
        code.presentation, [device_key], external_aad=presentation_aad(code.attestation_bytes)
    )
    # 7. presentation times
    shown = code.presentation_claims
    if not 0 < shown.expires_at - shown.issued_at <= CODE_MAX_LIFETIME_SECONDS:
        raise QrMalformedError(reason=f"a code lives at most {CODE_MAX_LIFETIME_SECONDS} s")
    check_times(shown.issued_at, shown.expires_at, at, expired=QrExpiredError)
    return VerifiedCode(kid=code.kid, attestation=kit, presentation=shown)


def check_times(issued_at: int, expires_at: int, now: float, *, expired: type[Exception]) -> None:
    """Valid from issued_at - skew (inclusive) until expires_at + skew (exclusive).

    Raises QrNotYetValidError before that window and `expired` after it.
    """
    if now < issued_at - SKEW_SECONDS:
        raise QrNotYetValidError()
    if now >= expires_at + SKEW_SECONDS:
        raise expired()


def _attestation_claims(item: Any) -> AttestationClaims:
    if not isinstance(item, dict):
        raise QrMalformedError(reason="the attestation payload is a map")
    role = item.get(A_ROLE)
    labels = {A_HANDLE, A_ISSUED_AT, A_EXPIRES_AT, A_DEVICE_KEY, A_ROLE}
    if role == ROLE_PROXY:
        labels.add(A_PRESENTER)
    elif role != ROLE_SELF:
        raise QrMalformedError(reason="role is 0 (self) or 1 (proxy)")
    if set(item) != labels:
        raise QrMalformedError(reason="unexpected attestation payload labels")
    claims = AttestationClaims(
        handle=_bytes(item[A_HANDLE], HANDLE_BYTES, "handle"),
        issued_at=_int(item[A_ISSUED_AT], MAX_TIME, "issued-at"),
        expires_at=_int(item[A_EXPIRES_AT], MAX_TIME, "expires"),
        device_public_key=cose.parse_cose_key(item[A_DEVICE_KEY]),
        role=role,
        presenter=_bytes(item[A_PRESENTER], HANDLE_BYTES, "presenter")
        if role == ROLE_PROXY
        else None,
    )
    _check_attestation_claims(claims)
    return claims


def _presentation_claims(item: Any) -> PresentationClaims:
    if not (
        isinstance(item, dict) and set(item) == {P_CODE_ID, P_ISSUED_AT, P_EXPIRES_AT, P_COUNTER}
    ):
        raise QrMalformedError(reason="unexpected presentation payload labels")
    return PresentationClaims(
        code_id=_bytes(item[P_CODE_ID], CODE_ID_BYTES, "code id"),
        issued_at=_int(item[P_ISSUED_AT], MAX_TIME, "issued-at"),
        expires_at=_int(item[P_EXPIRES_AT], MAX_TIME, "expires"),
        counter=_int(item[P_COUNTER], MAX_COUNTER, "counter", low=MIN_COUNTER),
    )


def _check_attestation_claims(claims: AttestationClaims) -> None:
    if claims.expires_at <= claims.issued_at:
        raise QrMalformedError(reason="an attestation expires after it is issued")
    if (claims.role == ROLE_PROXY) != (claims.presenter is not None):
        raise QrMalformedError(reason="a proxy attestation names its presenter, no other does")


def _check_presentation_claims(claims: PresentationClaims) -> None:
    if not 0 < claims.expires_at - claims.issued_at <= CODE_MAX_LIFETIME_SECONDS:
        raise ValueError(f"a code lives at most {CODE_MAX_LIFETIME_SECONDS} s")
    if not MIN_COUNTER <= claims.counter <= MAX_COUNTER:
        raise ValueError("counter out of range")


def _bytes(value: Any, size: int, what: str) -> bytes:
    if not (isinstance(value, bytes) and len(value) == size):
        raise QrMalformedError(reason=f"{what} is {size} bytes")
    return value


def _int(value: Any, bound: int, what: str, *, low: int = 0) -> int:
    if not (isinstance(value, int) and low <= value <= bound):
        raise QrMalformedError(reason=f"{what} is an integer from {low} to {bound}")
    return value
