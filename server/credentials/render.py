"""The code as an image: QR alphanumeric mode, error correction M, a fixed mask pattern.

A fixed mask skips qrcode's trial of all eight patterns (about half the render time, see
docs/qr-benchmarks.md); any mask is valid for every reader, it only shifts the module balance.

DOMAIN.md: "The e-credential".
"""

from __future__ import annotations

import io

import qrcode
import qrcode.image.svg
from qrcode.constants import ERROR_CORRECT_M

MASK_PATTERN = 4  # chosen once; every reader decodes any of the 8 patterns
BOX_PIXELS = 6
QUIET_ZONE = 4  # modules, as ISO/IEC 18004 asks


def _code(text: str, mask_pattern: int | None) -> qrcode.QRCode:
    qr = qrcode.QRCode(
        error_correction=ERROR_CORRECT_M,
        box_size=BOX_PIXELS,
        border=QUIET_ZONE,
        mask_pattern=mask_pattern,
    )
    qr.add_data(text)
    qr.make(fit=True)
    return qr


def version_of(text: str) -> int:
    """The QR version (size) the text needs at level M."""
    version: int = _code(text, MASK_PATTERN).version
    return version


def png(text: str, *, mask_pattern: int | None = MASK_PATTERN) -> bytes:
    out = io.BytesIO()
    _code(text, mask_pattern).make_image().save(out, format="PNG")
    return out.getvalue()


def svg(text: str, *, mask_pattern: int | None = MASK_PATTERN) -> bytes:
    out = io.BytesIO()
    _code(text, mask_pattern).make_image(image_factory=qrcode.image.svg.SvgPathFillImage).save(out)
    return out.getvalue()
