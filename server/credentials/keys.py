"""The server's Ed25519 signing keys: loading, kids, the published JWKs and rotation.

Private keys live outside the code: in a PEM file named by SIGNING_KEY_FILE (what `make run`
creates and `POST /api/v1/admin/keys/rotate` appends to) or in PEM text in the SIGNING_KEYS
environment variable. Under TESTING with neither, a fresh key is made in memory. The keys are
kept oldest first; the last one signs. QR.md point 8 and docs/qr-format.md, "Keys".

Key material never reaches a log, an error message or a repr.

DOMAIN.md: "The e-credential".
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import math
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from server.config import ConfigError
from server.credentials.codec import b64url
from server.errors import ForbiddenError

KID_BYTES = 8
_PEM_BLOCK = re.compile(
    r"-----BEGIN PRIVATE KEY-----\s+[A-Za-z0-9+/=\s]+?-----END PRIVATE KEY-----"
)


class KeyConfigError(ConfigError):
    """The signing keys cannot be loaded; the message never holds key material."""


def jwk_thumbprint(public_raw: bytes) -> bytes:
    """RFC 7638 §3 SHA-256 thumbprint of an Ed25519 JWK (members crv, kty, x; RFC 8037 §2)."""
    canonical = json.dumps(
        {"crv": "Ed25519", "kty": "OKP", "x": b64url(public_raw)},
        separators=(",", ":"),
        sort_keys=True,
    )
    return hashlib.sha256(canonical.encode("ascii")).digest()


def kid_for(public_raw: bytes) -> bytes:
    """The key id: the first 8 bytes of the RFC 7638 thumbprint (raw in the COSE header)."""
    return jwk_thumbprint(public_raw)[:KID_BYTES]


def public_raw(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@dataclass(frozen=True, eq=False)
class ServerKey:
    """One signing key. Its repr shows the kid only."""

    private_key: Ed25519PrivateKey = field(repr=False)
    public_raw: bytes = field(repr=False)
    kid_raw: bytes = field(repr=False)
    kid: str

    @classmethod
    def of(cls, private_key: Ed25519PrivateKey) -> ServerKey:
        raw = public_raw(private_key)
        kid_raw = kid_for(raw)
        return cls(private_key=private_key, public_raw=raw, kid_raw=kid_raw, kid=b64url(kid_raw))

    @classmethod
    def generate(cls) -> ServerKey:
        return cls.of(Ed25519PrivateKey.generate())

    @functools.cached_property
    def public_key(self) -> Ed25519PublicKey:
        """Derived once (each scan's attestation check asks for it)."""
        return self.private_key.public_key()

    def jwk(self) -> dict[str, str]:
        """The published form: {kty, crv, x, kid, alg, use}."""
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": b64url(self.public_raw),
            "kid": self.kid,
            "alg": "EdDSA",
            "use": "sig",
        }


@dataclass(frozen=True)
class KeyRing:
    """The keys this server holds, oldest first; the last one signs."""

    keys: tuple[ServerKey, ...]

    def __post_init__(self) -> None:
        if not self.keys:
            raise KeyConfigError("a key ring needs at least one key")

    @property
    def active(self) -> ServerKey:
        return self.keys[-1]

    def candidates(self, kid: str) -> list[ServerKey]:
        """Every key under `kid` (a kid is 64 bits: a collision is rare, never ruled out)."""
        return [key for key in self.keys if key.kid == kid]

    def with_key(self, key: ServerKey) -> KeyRing:
        return KeyRing(keys=(*self.keys, key))


def load_pem_keys(text: str) -> list[Ed25519PrivateKey]:
    """Every `PRIVATE KEY` block of `text` (PKCS#8 Ed25519), in order.

    A `\\n` escape counts as a newline, so one environment variable can hold several keys.
    Raises KeyConfigError when there is none or one is not an unencrypted Ed25519 key.
    """
    text = text.replace("\\n", "\n")
    blocks = _PEM_BLOCK.findall(text)
    if not blocks:
        raise KeyConfigError("no PEM 'PRIVATE KEY' block found")
    keys: list[Ed25519PrivateKey] = []
    for number, block in enumerate(blocks, start=1):
        try:
            key = serialization.load_pem_private_key(block.encode("ascii"), password=None)
        except (ValueError, TypeError):
            raise KeyConfigError(f"PEM block {number} is not a readable private key") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyConfigError(f"PEM block {number} is not an Ed25519 key")
        keys.append(key)
    return keys


def dump_pem(key: Ed25519PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def ring_of(keys: Sequence[Ed25519PrivateKey]) -> KeyRing:
    return KeyRing(keys=tuple(ServerKey.of(key) for key in keys))


class KeySource(Protocol):
    """Where the ring comes from; `ring()` is called per use so rotations are seen (from a key
    file within FileKeySource.CHECK_SECONDS)."""

    def ring(self) -> KeyRing: ...

    def rotate(self) -> ServerKey:
        """Add a new key that signs from now on; raises ForbiddenError where that cannot last."""
        ...


class MemoryKeySource:
    """Keys held by this process only: TESTING without configured keys, and the test suite."""

    def __init__(self, ring: KeyRing | None = None) -> None:
        self._ring = ring or KeyRing(keys=(ServerKey.generate(),))
        self._lock = threading.Lock()

    def ring(self) -> KeyRing:
        return self._ring

    def rotate(self) -> ServerKey:
        key = ServerKey.generate()
        with self._lock:
            self._ring = self._ring.with_key(key)
        return key


class EnvKeySource:
    """Keys from SIGNING_KEYS: read once; they rotate by deploying a new key appended there."""

    def __init__(self, text: str) -> None:
        self._ring = ring_of(load_pem_keys(text))

    def ring(self) -> KeyRing:
        return self._ring

    def rotate(self) -> ServerKey:
        # A key made here would live in one worker's memory and vanish at restart.
        raise ForbiddenError(
            "Signing keys come from SIGNING_KEYS here: append a new key there and redeploy"
        )


class FileKeySource:
    """Keys in a PEM file, re-read whenever it changes, so every worker sees a rotation.

    Whether it changed (inode, mtime, size) is looked at most once every `check_seconds`, not on
    every scan: another worker's rotation is seen within that second, this one's at once.
    """

    CHECK_SECONDS = 1.0

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        check_seconds: float = CHECK_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._path = Path(path)
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._ring: KeyRing | None = None
        self._check_seconds = check_seconds
        self._monotonic = monotonic
        self._checked_at = -math.inf
        self.ring()  # fail at start, not at the first scan

    def _read_stamp(self) -> tuple[int, int, int]:
        try:
            st = self._path.stat()
        except OSError:
            raise KeyConfigError(f"cannot read SIGNING_KEY_FILE {self._path}") from None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def ring(self) -> KeyRing:
        now = self._monotonic()
        ring = self._ring
        if ring is not None and now - self._checked_at < self._check_seconds:
            return ring
        with self._lock:
            stamp = self._read_stamp()
            if self._ring is None or stamp != self._stamp:
                self._ring = ring_of(load_pem_keys(self._path.read_text("ascii")))
                self._stamp = stamp
            self._checked_at = now
            return self._ring

    def rotate(self) -> ServerKey:
        key = ServerKey.generate()
        with self._exclusive():
            current = self._path.read_text("ascii")
            if current and not current.endswith("\n"):
                current += "\n"
            write_private_file(self._path, current + dump_pem(key.private_key))
        with self._lock:
            self._checked_at = -math.inf  # the next ring() here reads the new key
        return key

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        # Two clerks rotating at once must not lose a key: one writer at a time, across workers.
        lock_path = self._path.with_name(self._path.name + ".lock")
        with open(lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def write_private_file(path: Path, text: str) -> None:
    """Replace `path` atomically with `text`, readable by its owner only."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def create_key_file(path: str | os.PathLike[str]) -> str:
    """Write a new key file with one fresh key (`make run`); returns the key's kid."""
    key = ServerKey.generate()
    write_private_file(Path(path), dump_pem(key.private_key))
    return key.kid


def key_source(
    *, signing_key_file: str | None, signing_keys: str | None, testing: bool
) -> KeySource:
    """The source the settings name: the file, else the variable, else (TESTING) memory.

    Raises KeyConfigError outside TESTING when neither is set or the keys cannot be read.
    """
    if signing_key_file:
        return FileKeySource(signing_key_file)
    if signing_keys:
        return EnvKeySource(signing_keys)
    if testing:
        return MemoryKeySource()
    raise KeyConfigError("SIGNING_KEY_FILE or SIGNING_KEYS must be set (make run creates one)")


def keys_document(keys: Sequence[ServerKey]) -> dict[str, Any]:
    """The body of /.well-known/ecredential-keys.json."""
    return {"keys": [key.jwk() for key in keys]}
