"""The gateway signature headers (`_api_*`): sign them, and verify them.

The platform's gateway signs four headers: the string is the four `k=v` pairs sorted by key and
joined by `&` (`_api_access_key=..&_api_name=..&_api_timestamp=..&_api_version=..`), the
signature is Base64(HmacSHA1(secret, that string)), UTF-8 throughout. The timestamp is epoch
milliseconds (13 digits). docs/his-interface.md, "Authentication".

A refusal is a HisAuthError with a plain reason, answered with HTTP 401.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from server.his.errors import HisAuthError

WINDOW_SECONDS = 300  # a signed request is good for 5 minutes either side of our clock
HEADERS = ("_api_access_key", "_api_name", "_api_timestamp", "_api_version")
SIGNATURE_HEADER = "_api_signature"
_TIMESTAMP = re.compile(r"\d{13}")
_API_NAME_INFNO = re.compile(r"(?:api_)?(\d{4})")


@dataclass(frozen=True)
class HisKey:
    """An access key issued to one institution, with its secrets (new first during a rotation)."""

    access_key: str
    fixmedins_code: str
    secrets: tuple[str, ...]


@dataclass(frozen=True)
class GatewayCaller:
    """Who signed: the access key, its institution, and the infno the api name names (if any)."""

    access_key: str
    fixmedins_code: str
    api_name: str
    api_version: str
    infno: str | None


def string_to_sign(*, access_key: str, api_name: str, timestamp: str, version: str) -> str:
    pairs = {
        "_api_access_key": access_key,
        "_api_name": api_name,
        "_api_timestamp": timestamp,
        "_api_version": version,
    }
    return "&".join(f"{k}={pairs[k]}" for k in sorted(pairs))


def signature(secret: str, text: str) -> str:
    """Base64(HmacSHA1(secret, text)), both UTF-8."""
    digest = hmac.new(secret.encode("utf-8"), text.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def epoch_ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def sign_headers(
    *, access_key: str, secret: str, api_name: str, now: datetime, version: str = "1.0.0"
) -> dict[str, str]:
    """The five `_api_*` headers a client sends (for tests and our own clients)."""
    timestamp = str(epoch_ms(now))
    text = string_to_sign(
        access_key=access_key, api_name=api_name, timestamp=timestamp, version=version
    )
    return {
        "_api_access_key": access_key,
        "_api_name": api_name,
        "_api_timestamp": timestamp,
        "_api_version": version,
        SIGNATURE_HEADER: signature(secret, text),
    }


def infno_of_api_name(api_name: str) -> str | None:
    """`1101` and `api_1101` name transaction 1101; a gateway-wide name names none."""
    match = _API_NAME_INFNO.fullmatch(api_name)
    return match.group(1) if match else None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:  # a plain dict is case-sensitive; werkzeug's Headers is not
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return value.strip() if value is not None and value.strip() else None


def verify_headers(
    headers: Mapping[str, str],
    *,
    key_for: Callable[[str], HisKey | None],
    now: datetime,
    fixmedins_code: str | None = None,
    infno: str | None = None,
    window_seconds: int = WINDOW_SECONDS,
) -> GatewayCaller:
    """Check the `_api_*` headers; return who signed. Raises HisAuthError with a plain reason.

    Checks, in order: all five present; the timestamp is 13 digits within the window; the access
    key is known; the signature matches one of its secrets (constant-time); the key belongs to
    `fixmedins_code`; an api name that names a transaction names `infno`.
    """
    values = {name: _header(headers, name) for name in (*HEADERS, SIGNATURE_HEADER)}
    missing = [name for name, value in values.items() if value is None]
    if missing:
        raise HisAuthError(f"missing gateway header {missing[0]}")
    access_key, api_name = str(values["_api_access_key"]), str(values["_api_name"])
    timestamp, version = str(values["_api_timestamp"]), str(values["_api_version"])
    if not _TIMESTAMP.fullmatch(timestamp):
        raise HisAuthError("_api_timestamp must be 13 digits of epoch milliseconds")
    if abs(epoch_ms(now) - int(timestamp)) > window_seconds * 1000:
        raise HisAuthError(f"_api_timestamp is more than {window_seconds} seconds from our clock")
    key = key_for(access_key)
    if key is None:
        raise HisAuthError("unknown _api_access_key")
    text = string_to_sign(
        access_key=access_key, api_name=api_name, timestamp=timestamp, version=version
    )
    given = str(values[SIGNATURE_HEADER]).encode("ascii", "replace")
    matched = False
    for secret in key.secrets:  # no early exit: every secret is compared
        matched |= hmac.compare_digest(signature(secret, text).encode("ascii"), given)
    if not matched:
        raise HisAuthError("wrong _api_signature")
    if fixmedins_code is not None and key.fixmedins_code != fixmedins_code:
        raise HisAuthError("this access key belongs to another institution than fixmedins_code")
    named = infno_of_api_name(api_name)
    if named is not None and infno is not None and named != infno:
        raise HisAuthError(f"_api_name names transaction {named}, the body {infno}")
    return GatewayCaller(
        access_key=access_key,
        fixmedins_code=key.fixmedins_code,
        api_name=api_name,
        api_version=version,
        infno=named,
    )
