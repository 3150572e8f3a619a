"""Face verification. The stub compares against the enrolled template; a real vendor plugs in
by config (FACE_VERIFIER=package.module:ClassName, a class taking no arguments)."""

from __future__ import annotations

import hashlib
import hmac
import importlib
from typing import Protocol


class FaceVerifier(Protocol):
    def matches(self, enrolled_template: bytes, live_image: bytes) -> bool:
        """True when the live image shows the person of the enrolled template."""
        ...


class StubFaceVerifier:
    """Matches when the live image is byte-for-byte the enrolled reference photo.

    A stand-in for a liveness + similarity vendor; compared in constant time.
    """

    def matches(self, enrolled_template: bytes, live_image: bytes) -> bool:
        if not enrolled_template or not live_image:
            return False
        return hmac.compare_digest(
            hashlib.sha256(enrolled_template).digest(), hashlib.sha256(live_image).digest()
        )


def load_face_verifier(spec: str) -> FaceVerifier:
    if spec == "stub":
        return StubFaceVerifier()
    module_name, _, class_name = spec.partition(":")
    if not class_name:
        raise ValueError("FACE_VERIFIER must be 'stub' or 'package.module:ClassName'")
    cls = getattr(importlib.import_module(module_name), class_name)
    verifier: FaceVerifier = cls()
    return verifier
