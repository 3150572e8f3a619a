"""COSE_Sign1 (RFC 9052 §4.2) with EdDSA over Ed25519 (RFC 9053 §2.2), the only algorithm EC1 uses.

Forty lines on cbor2 + cryptography rather than a COSE library: EC1 needs one structure and one
algorithm, and owning the decoder lets it be strict (codec.py) and map every failure to the
contract's error codes. docs/qr-format.md, "COSE_Sign1", is the spec.

DOMAIN.md: "The e-credential".
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from server.credentials.codec import cbor_decode, cbor_encode
from server.errors import QrMalformedError, QrSignatureInvalidError

ALG_EDDSA = -8
HEADER_ALG = 1
HEADER_KID = 4
KID_BYTES = 8
SIGNATURE_BYTES = 64

# COSE_Key (RFC 9053 §7.2 / RFC 8152 §13.2): kty OKP, crv Ed25519, x the public key.
KEY_KTY, KTY_OKP = 1, 1
KEY_CRV, CRV_ED25519 = -1, 6
KEY_X = -2
PUBLIC_KEY_BYTES = 32


@dataclass(frozen=True)
class Sign1:
    """A COSE_Sign1 as it travels: `protected` is the serialized header map."""

    protected: bytes
    payload: bytes
    signature: bytes

    def as_cbor_item(self) -> list[Any]:
        return [self.protected, {}, self.payload, self.signature]

    def encode(self) -> bytes:
        return cbor_encode(self.as_cbor_item())

    @functools.cached_property
    def header(self) -> Any:
        """The protected header, decoded (strictly) once: a scan reads it three times."""
        return cbor_decode(self.protected)

    @property
    def alg(self) -> int:
        value = self.header.get(HEADER_ALG)
        return value if isinstance(value, int) else 0

    @property
    def kid(self) -> bytes | None:
        value = self.header.get(HEADER_KID)
        return value if isinstance(value, bytes) else None


def sig_structure(protected: bytes, external_aad: bytes, payload: bytes) -> bytes:
    """The bytes that are signed: ["Signature1", protected, external_aad, payload]."""
    return cbor_encode(["Signature1", protected, external_aad, payload])


def sign1(
    key: Ed25519PrivateKey, payload: bytes, *, kid: bytes | None = None, external_aad: bytes = b""
) -> Sign1:
    header: dict[int, Any] = {HEADER_ALG: ALG_EDDSA}
    if kid is not None:
        header[HEADER_KID] = kid
    protected = cbor_encode(header)
    signature = key.sign(sig_structure(protected, external_aad, payload))
    return Sign1(protected=protected, payload=payload, signature=signature)


def parse_sign1(item: Any, *, needs_kid: bool) -> Sign1:
    """Check the shape of a decoded COSE_Sign1 array; raises QrMalformedError.

    The protected header holds `alg` and, when `needs_kid`, an 8-byte `kid`, nothing else;
    the unprotected header is empty. The algorithm's value is checked by `verify_sign1`.
    """
    if not (isinstance(item, list) and len(item) == 4):
        raise QrMalformedError(reason="a COSE_Sign1 is an array of 4")
    protected, unprotected, payload, signature = item
    if not (isinstance(protected, bytes) and isinstance(payload, bytes)):
        raise QrMalformedError(reason="COSE_Sign1 protected header and payload are byte strings")
    if unprotected != {}:
        raise QrMalformedError(reason="the unprotected header must be empty")
    if not (isinstance(signature, bytes) and len(signature) == SIGNATURE_BYTES):
        raise QrMalformedError(reason="an Ed25519 signature is 64 bytes")
    message = Sign1(protected=protected, payload=payload, signature=signature)
    header = message.header
    expected_labels = {HEADER_ALG, HEADER_KID} if needs_kid else {HEADER_ALG}
    if not isinstance(header, dict) or set(header) != expected_labels:
        raise QrMalformedError(reason="unexpected protected header labels")
    if not isinstance(header[HEADER_ALG], int):
        raise QrMalformedError(reason="alg is an integer")
    if needs_kid and not (
        isinstance(header[HEADER_KID], bytes) and len(header[HEADER_KID]) == KID_BYTES
    ):
        raise QrMalformedError(reason="kid is 8 bytes")
    return message


def verify_sign1(
    message: Sign1, keys: Sequence[Ed25519PublicKey], *, external_aad: bytes = b""
) -> Ed25519PublicKey:
    """Return the key that verifies `message`, trying every candidate.

    Raises QrSignatureInvalidError when alg is not EdDSA, no candidate is given (an unknown or
    retired kid) or none verifies.
    """
    if message.alg != ALG_EDDSA:
        raise QrSignatureInvalidError(reason="alg is not EdDSA (-8)")
    signed = sig_structure(message.protected, external_aad, message.payload)
    for key in keys:
        try:
            key.verify(message.signature, signed)
        except InvalidSignature:
            continue
        return key
    raise QrSignatureInvalidError()


def cose_key(public_raw: bytes) -> dict[int, Any]:
    return {KEY_KTY: KTY_OKP, KEY_CRV: CRV_ED25519, KEY_X: public_raw}


def parse_cose_key(item: Any) -> bytes:
    """The raw 32-byte Ed25519 key from a COSE_Key; raises QrMalformedError."""
    if not (isinstance(item, dict) and set(item) == {KEY_KTY, KEY_CRV, KEY_X}):
        raise QrMalformedError(reason="the device key is a COSE_Key {1, -1, -2}")
    if item[KEY_KTY] != KTY_OKP or item[KEY_CRV] != CRV_ED25519:
        raise QrMalformedError(reason="the device key is an OKP Ed25519 key")
    x = item[KEY_X]
    if not (isinstance(x, bytes) and len(x) == PUBLIC_KEY_BYTES):
        raise QrMalformedError(reason="an Ed25519 public key is 32 bytes")
    return x
