"""Strict Base45 (RFC 9285) and strict, deterministic CBOR (RFC 8949 §4.2) for the EC1 code.

"Strict" means one text for one byte string and one byte string for one value: a decoder that
accepted two spellings of the same code would let a mangled scan through as a new code, and
scanners do mangle (trailing spaces, lower case, URL-decoded `%`). Everything that is not the
single canonical form raises QrMalformedError. docs/qr-format.md, "Encoding", is the spec.

DOMAIN.md: "The e-credential".
"""

from __future__ import annotations

import base64
import binascii
import struct
from typing import Any

import cbor2

from server.errors import QrMalformedError

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}

# Our structures nest four deep (code > COSE_Sign1 > payload > COSE_Key); allow a little more.
_MAX_DEPTH = 8


def b45encode(data: bytes) -> str:
    """RFC 9285 §4: two bytes to three characters, least significant first; a last odd byte
    to two characters."""
    out: list[str] = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        e, rest = divmod(n, 45 * 45)
        d, c = divmod(rest, 45)
        out += (ALPHABET[c], ALPHABET[d], ALPHABET[e])
    if len(data) % 2:
        d, c = divmod(data[-1], 45)
        out += (ALPHABET[c], ALPHABET[d])
    return "".join(out)


def b45decode(text: str) -> bytes:
    """Decode Base45, refusing anything RFC 9285 §4 does not produce.

    Raises QrMalformedError for a character outside the 45 (lower case, tab, newline, any
    non-ASCII), a length of 3k+1, a triplet above 65535 or a last pair above 255.
    """
    try:
        values = [_VALUE[c] for c in text]
    except KeyError:
        raise QrMalformedError(reason="a character outside the Base45 alphabet") from None
    triplets, rest = divmod(len(values), 3)
    if rest == 1:
        raise QrMalformedError(reason="Base45 text of length 3k+1")
    end = 3 * triplets
    # Each triplet c, d, e is the 16-bit number c + 45 d + 45² e, written as two bytes, most
    # significant first: all of them packed in one call (a loop of divmod cost a scan ~20 us).
    numbers = [
        c + d * 45 + e * 45 * 45
        for c, d, e in zip(values[0:end:3], values[1:end:3], values[2:end:3], strict=True)
    ]
    if numbers and max(numbers) > 0xFFFF:
        raise QrMalformedError(reason="a Base45 triplet above 65535")
    out = struct.pack(f">{triplets}H", *numbers)
    if rest == 2:
        n = values[-2] + values[-1] * 45
        if n > 0xFF:
            raise QrMalformedError(reason="a final Base45 pair above 255")
        out += bytes((n,))
    return out


def cbor_encode(value: Any) -> bytes:
    """Deterministic CBOR: shortest heads, definite lengths, sorted map keys."""
    return bytes(cbor2.dumps(value, canonical=True))


def cbor_decode(data: bytes) -> Any:
    """Decode exactly one deterministic CBOR item that fills `data`.

    Raises QrMalformedError for trailing bytes, indefinite lengths, duplicate map keys, tags,
    floats or any non-shortest encoding: the item must re-encode to the very same bytes.
    """
    try:
        value = cbor2.loads(
            data,
            allow_indefinite=False,
            allow_duplicate_keys=False,
            max_depth=_MAX_DEPTH,
            tag_hook=_refuse_tag,
        )
    except QrMalformedError:
        raise
    except Exception as exc:  # cbor2 raises several types on hostile input; all mean the same
        raise QrMalformedError(reason="not CBOR") from exc
    _only_plain_types(value, 0)
    if cbor_encode(value) != data:
        # Trailing bytes, or a valid but non-deterministic spelling of the same value.
        raise QrMalformedError(reason="trailing bytes or non-deterministic CBOR")
    return value


def _refuse_tag(_decoder: Any, _tag: Any) -> Any:
    raise QrMalformedError(reason="CBOR tags are not used in EC1")


def _only_plain_types(value: Any, depth: int) -> None:
    # Built-in semantic decoders turn some tags (bignums, dates, sets...) into Python values;
    # EC1 only ever holds these five types.
    if depth > _MAX_DEPTH:
        raise QrMalformedError(reason="CBOR nested too deep")
    if isinstance(value, bool) or not isinstance(value, int | bytes | str | list | dict):
        raise QrMalformedError(reason="a CBOR type EC1 does not use")
    if isinstance(value, list):
        for item in value:
            _only_plain_types(item, depth + 1)
    elif isinstance(value, dict):
        for key, item in value.items():
            _only_plain_types(key, depth + 1)
            _only_plain_types(item, depth + 1)


def b64url(data: bytes) -> str:
    """base64url without padding (RFC 7515 §2), as JWKs and kids are written."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """The inverse of b64url; raises ValueError for anything else (padding, other alphabets)."""
    if not isinstance(text, str) or "=" in text or not text.isascii():
        raise ValueError("not base64url")
    try:
        data = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except binascii.Error as exc:
        raise ValueError("not base64url") from exc
    if b64url(data) != text:
        raise ValueError("not canonical base64url")
    return data
