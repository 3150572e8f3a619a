"""Binary fields of phone request bodies (base64 text), decoded strictly; pure.

Serves DOMAIN.md "Activation = real-name verification" and "Family proxy accounts (亲情账户)"
(the live face photo) and "The e-credential" (the phone's device key). Anything that is not the
one expected spelling is VALIDATION_ERROR. Routes decode before calling a service, so services
take bytes (family binding still decodes in its service: its service tests pass base64 text).
"""

from __future__ import annotations

import base64
import binascii

from server.credentials.codec import b64url_decode
from server.errors import RequestValidationError

MAX_IMAGE_BYTES = 2 * 1024 * 1024
ED25519_KEY_BYTES = 32


def device_public_key(text: str | None) -> bytes | None:
    """The phone's Ed25519 public key from canonical base64url (no padding); None when absent."""
    if text is None:
        return None
    try:
        raw = b64url_decode(text)
    except ValueError:
        raise RequestValidationError("device_public_key must be base64url") from None
    if len(raw) != ED25519_KEY_BYTES:
        raise RequestValidationError("device_public_key must be a 32-byte Ed25519 key")
    return raw


def image(text: str, field: str) -> bytes:
    """A photo from standard base64: non-empty and at most 2 MiB."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise RequestValidationError(f"{field} must be base64") from exc
    if not raw or len(raw) > MAX_IMAGE_BYTES:
        raise RequestValidationError(f"{field} must be a non-empty image up to 2 MiB")
    return raw
