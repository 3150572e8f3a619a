"""Reading a drawn code back with a third-party decoder (zxing-cpp), one rule for every test.

The reader may report one symbol twice (seen once in a few hundred random codes, and once in CI
as `too many values to unpack`): every report must then be a QR code of the same text. Two
different texts, or none, fail.
"""

from __future__ import annotations

import io

import zxingcpp
from PIL import Image


def read_qr(png: bytes) -> str:
    """The text of the one QR symbol in `png`."""
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    texts = {str(f.text) for f in found if f.format == zxingcpp.BarcodeFormat.QRCode}
    assert len(texts) == 1, f"expected one QR code in the picture, found {sorted(texts)}"
    return texts.pop()
