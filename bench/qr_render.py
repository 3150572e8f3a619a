"""QR images: PNG and SVG renders per second with qrcode, its automatic mask choice against our
fixed mask (level M, the same ~400-character code), one core, in-process (issue 4, "Speed").

The ceiling beside them is the cost of making the code itself (ec1.present: CBOR + one Ed25519
signature), so the table shows what the image adds to GET /credential/qr.png.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.common import table
from server.credentials import ec1, render
from server.credentials.keys import ServerKey, public_raw


def _rate(work: Callable[[], object], seconds: float = 2.0) -> tuple[float, float]:
    work()  # warm up
    n, t = 0, time.perf_counter()
    while time.perf_counter() - t < seconds:
        work()
        n += 1
    per = (time.perf_counter() - t) / n
    return per * 1000, 1 / per


def main() -> None:
    server, device = ServerKey.generate(), Ed25519PrivateKey.generate()
    now = int(datetime.now(UTC).timestamp())
    attestation = ec1.sign_attestation(
        server.private_key,
        server.kid_raw,
        ec1.AttestationClaims(os.urandom(16), now, now + 3600, public_raw(device)),
    )

    def code() -> str:
        claims = ec1.PresentationClaims(os.urandom(16), now, now + 60, 1)
        return ec1.present(attestation, device, claims)

    text = code()
    rows = []
    for name, work in [
        ("make the code (ceiling): CBOR + Ed25519 sign", code),
        ("PNG, automatic mask (qrcode default)", lambda: render.png(text, mask_pattern=None)),
        (f"PNG, fixed mask {render.MASK_PATTERN} (what we serve)", lambda: render.png(text)),
        ("SVG, automatic mask", lambda: render.svg(text, mask_pattern=None)),
        (f"SVG, fixed mask {render.MASK_PATTERN} (what we serve)", lambda: render.svg(text)),
    ]:
        ms, per_s = _rate(work)
        rows.append([name, f"{ms:.2f}", f"{per_s:,.0f}"])
    print(f"code of {len(text)} characters, QR version {render.version_of(text)} at level M\n")
    print(table(["one core, in-process", "ms per call", "per second"], rows))
