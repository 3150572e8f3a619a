#!/usr/bin/env python3
"""A standalone verifier of EC1 e-credential codes, written from docs/qr-format.md alone.

It needs the published keys document (/.well-known/ecredential-keys.json) and three libraries
from PyPI (`cbor2`, `base45`, `cryptography`); it imports nothing of the server. A hospital's
programmer can start from it: the used-code and counter records here live in memory, for one
scanner; the real service keeps them in a shared atomic store.

    python verify_qr.py ecredential-keys.json 'EC1:...' [--now UNIX_SECONDS]

prints the verified claims as JSON, or the error code and exits with status 1.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
import time
from typing import Any

import base45
import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

B45_ALPHABET = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
SKEW, MAX_LIFE, MAX_LENGTH = 30, 60, 600
KID_BYTES, HANDLE_BYTES, CODE_ID_BYTES, KEY_BYTES, SIGNATURE_BYTES = 8, 16, 16, 32, 64
MAX_TIME, MAX_COUNTER = 2**40, 2**63 - 1  # the counter runs from 1


class RefusedError(Exception):
    def __init__(self, code: str, reason: str = "") -> None:
        super().__init__(f"{code}: {reason}" if reason else code)
        self.code = code


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def strict_cbor(data: bytes) -> Any:
    """One deterministic CBOR item filling `data` (so no trailing bytes), of EC1's types only."""
    try:
        value = cbor2.loads(data)
        same = cbor2.dumps(value, canonical=True) == data
    except Exception as exc:
        raise RefusedError("QR_MALFORMED", "not CBOR") from exc
    if not same:
        raise RefusedError("QR_MALFORMED", "trailing bytes or non-deterministic CBOR")
    plain_types(value)
    return value


def plain_types(value: Any) -> None:
    """EC1 holds integers, byte and text strings, arrays and maps: no tag, float, bool or null."""
    if isinstance(value, bool) or not isinstance(value, int | bytes | str | list | dict):
        raise RefusedError("QR_MALFORMED", "a CBOR type EC1 does not use")
    for item in value if isinstance(value, list) else []:
        plain_types(item)
    for key, item in value.items() if isinstance(value, dict) else []:
        plain_types(key)
        plain_types(item)


def integer(value: Any, low: int, high: int, what: str) -> int:
    if not (isinstance(value, int) and low <= value <= high):
        raise RefusedError("QR_MALFORMED", f"{what} is an integer from {low} to {high}")
    return value


def sized(value: Any, size: int, what: str) -> bytes:
    if not (isinstance(value, bytes) and len(value) == size):
        raise RefusedError("QR_MALFORMED", f"{what} is {size} bytes")
    return value


def labels(item: Any, expected: set[int], what: str) -> dict[int, Any]:
    if not (isinstance(item, dict) and set(item) == expected):
        raise RefusedError("QR_MALFORMED", f"{what} has exactly the labels {sorted(expected)}")
    return item


def sign1(item: Any, needs_kid: bool) -> tuple[bytes, dict[Any, Any], bytes, bytes]:
    if not (isinstance(item, list) and len(item) == 4):
        raise RefusedError("QR_MALFORMED", "COSE_Sign1 is an array of 4")
    protected, unprotected, payload, signature = item
    if not (isinstance(protected, bytes) and isinstance(payload, bytes) and unprotected == {}):
        raise RefusedError("QR_MALFORMED", "COSE_Sign1 fields")
    sized(signature, SIGNATURE_BYTES, "an Ed25519 signature")
    header = labels(strict_cbor(protected), {1, 4} if needs_kid else {1}, "protected header")
    if not isinstance(header[1], int):
        raise RefusedError("QR_MALFORMED", "alg is an integer")
    if needs_kid:
        sized(header[4], KID_BYTES, "kid")
    return protected, header, payload, signature


def attestation_claims(item: Any) -> dict[str, Any]:
    """The kit's payload: labels 1-5, and 6 (presenter) exactly when role is 1 (proxy)."""
    role = item.get(5) if isinstance(item, dict) else None
    if role not in (0, 1) or isinstance(role, bool):
        raise RefusedError("QR_MALFORMED", "role is 0 (self) or 1 (proxy)")
    kit = labels(item, {1, 2, 3, 4, 5, 6} if role == 1 else {1, 2, 3, 4, 5}, "attestation")
    key = labels(kit[4], {1, -1, -2}, "device key")
    if key[1] != 1 or key[-1] != 6:
        raise RefusedError("QR_MALFORMED", "the device key is an OKP Ed25519 key")
    claims = {
        "handle": sized(kit[1], HANDLE_BYTES, "handle"),
        "issued_at": integer(kit[2], 0, MAX_TIME, "issued-at"),
        "expires_at": integer(kit[3], 0, MAX_TIME, "expires"),
        "device": sized(key[-2], KEY_BYTES, "device key"),
        "role": role,
        "presenter": sized(kit[6], HANDLE_BYTES, "presenter") if role == 1 else None,
    }
    if claims["expires_at"] <= claims["issued_at"]:
        raise RefusedError("QR_MALFORMED", "a kit expires after it is issued")
    return claims


def presentation_claims(item: Any) -> dict[str, Any]:
    shown = labels(item, {1, 2, 3, 4}, "presentation")
    return {
        "code_id": sized(shown[1], CODE_ID_BYTES, "code id"),
        "issued_at": integer(shown[2], 0, MAX_TIME, "issued-at"),
        "expires_at": integer(shown[3], 0, MAX_TIME, "expires"),
        "counter": integer(shown[4], 1, MAX_COUNTER, "counter"),
    }


def check_signature(
    protected: bytes,
    header: dict[Any, Any],
    payload: bytes,
    signature: bytes,
    keys: list[Ed25519PublicKey],
    aad: bytes,
) -> None:
    if header.get(1) != -8:
        raise RefusedError("QR_SIGNATURE_INVALID", "alg is not EdDSA")
    to_sign = cbor2.dumps(["Signature1", protected, aad, payload], canonical=True)
    for key in keys:
        try:
            key.verify(signature, to_sign)
            return
        except InvalidSignature:
            continue
    raise RefusedError("QR_SIGNATURE_INVALID")


def check_times(issued_at: int, expires_at: int, now: float, expired_code: str) -> None:
    if now < issued_at - SKEW:
        raise RefusedError("QR_NOT_YET_VALID")
    if now >= expires_at + SKEW:
        raise RefusedError(expired_code)


class Verifier:
    def __init__(self, keys_document: dict[str, Any], revoked_handles: set[bytes] = frozenset()):
        self.keys: dict[str, list[Ed25519PublicKey]] = {}
        for jwk in keys_document["keys"]:
            if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
                key = Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"]))
                self.keys.setdefault(jwk["kid"], []).append(key)
        self.revoked = set(revoked_handles)
        self.used: set[tuple[bytes, bytes]] = set()
        self.counters: dict[bytes, int] = {}

    def verify(self, text: str, now: float) -> dict[str, Any]:
        # 1. prefix and length
        if len(text) > MAX_LENGTH:
            raise RefusedError("QR_MALFORMED", "too long")
        if not text.startswith("EC1:"):
            head = text.split(":", 1)[0]
            if (
                ":" in text
                and head.isascii()
                and head.isalnum()
                and head == head.upper()
                and head[:1].isalpha()
                and len(head) <= 8
            ):
                raise RefusedError("QR_UNSUPPORTED_VERSION")
            raise RefusedError("QR_MALFORMED", "no EC1: prefix")
        # 2. strict Base45: only the 45 characters, and exactly what encoding the bytes gives
        body = text[4:]
        if not set(body) <= B45_ALPHABET:
            raise RefusedError("QR_MALFORMED", "not Base45")
        try:
            data = base45.b45decode(body)
        except ValueError as exc:
            raise RefusedError("QR_MALFORMED", "not Base45") from exc
        if base45.b45encode(data).decode() != body:
            raise RefusedError("QR_MALFORMED", "non-canonical Base45")
        # 3. strict CBOR
        outer = strict_cbor(data)
        if not (isinstance(outer, list) and len(outer) == 2):
            raise RefusedError("QR_MALFORMED", "array of 2")
        a_prot, a_head, a_payload, a_sig = sign1(outer[0], needs_kid=True)
        p_prot, p_head, p_payload, p_sig = sign1(outer[1], needs_kid=False)
        kit = attestation_claims(strict_cbor(a_payload))
        shown = presentation_claims(strict_cbor(p_payload))
        kid = a_head[4]
        handle, k_iat, k_exp, device = (
            kit["handle"],
            kit["issued_at"],
            kit["expires_at"],
            kit["device"],
        )
        code_id, iat, exp, counter = (
            shown["code_id"],
            shown["issued_at"],
            shown["expires_at"],
            shown["counter"],
        )
        # 4. attestation signature: every key under the kid is tried
        check_signature(a_prot, a_head, a_payload, a_sig, self.keys.get(b64url(kid), []), b"")
        # 5. attestation times
        check_times(k_iat, k_exp, now, "KIT_EXPIRED")
        # 6. presentation signature by the attested device key, bound to this attestation
        attestation_bytes = cbor2.dumps(outer[0], canonical=True)
        try:
            device_key = Ed25519PublicKey.from_public_bytes(device)
        except ValueError as exc:
            raise RefusedError("QR_SIGNATURE_INVALID", "the attested device key") from exc
        check_signature(
            p_prot,
            p_head,
            p_payload,
            p_sig,
            [device_key],
            hashlib.sha256(attestation_bytes).digest(),
        )
        # 7. presentation times
        if not 0 < exp - iat <= MAX_LIFE:
            raise RefusedError("QR_MALFORMED", "a code lives 60 s at most")
        check_times(iat, exp, now, "QR_EXPIRED")
        # 8. revocation
        if handle in self.revoked:
            raise RefusedError("CREDENTIAL_REVOKED")
        # 9. used once, and the counter only grows within this kit (one attestation)
        kit_id = hashlib.sha256(attestation_bytes).digest()
        if (handle, code_id) in self.used or counter <= self.counters.get(kit_id, 0):
            raise RefusedError("QR_ALREADY_USED")
        self.used.add((handle, code_id))
        self.counters[kit_id] = counter
        return {
            "kid": b64url(kid),
            "handle": handle.hex(),
            "role": "proxy" if kit["role"] else "self",
            "presenter": kit["presenter"].hex() if kit["role"] else None,
            "code_id": code_id.hex(),
            "issued_at": iat,
            "expires_at": exp,
            "counter": counter,
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("keys", help="the keys document (a JSON file)")
    parser.add_argument("qr_text")
    parser.add_argument("--now", type=float, default=None, help="Unix seconds (default: now)")
    args = parser.parse_args()
    with open(args.keys, encoding="utf-8") as f:
        verifier = Verifier(json.load(f))
    try:
        claims = verifier.verify(args.qr_text, time.time() if args.now is None else args.now)
    except RefusedError as refused:
        print(json.dumps({"error": refused.code}))
        return 1
    print(json.dumps(claims))
    return 0


if __name__ == "__main__":
    sys.exit(main())
