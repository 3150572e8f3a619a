"""The images read back, with a real decoder, as the exact code text, at a size scanners like."""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from server.credentials import render
from tests.qr_reading import read_qr

WORKED = json.loads((Path(__file__).parents[2] / "vectors" / "ec1_worked.json").read_text())


@pytest.mark.parametrize("mask", [render.MASK_PATTERN, None])
def test_the_png_of_the_worked_code_decodes_to_the_exact_text(mask: int | None) -> None:
    assert read_qr(render.png(WORKED["qr_text"], mask_pattern=mask)) == WORKED["qr_text"]


def test_a_proxy_code_with_a_large_counter_decodes_exactly_and_fits_version_13(
    new_kit: Callable[..., Any], t0: datetime
) -> None:
    text = new_kit(presenter=os.urandom(16)).code(t0, counter=2**62)
    assert render.version_of(text) <= 13
    assert read_qr(render.png(text)) == text


def test_the_worked_code_fits_version_12_at_level_m() -> None:
    assert render.version_of(WORKED["qr_text"]) <= 12


def test_the_svg_is_one_vector_path() -> None:
    svg = render.svg(WORKED["qr_text"]).decode()
    assert svg.startswith("<?xml") and "<svg" in svg and "<path" in svg


def _rasterize_on_dark(svg: str, scale: int = 10) -> bytes:
    """Draw the SVG's rect and module squares as a viewer on a dark page would: what is not
    painted shows the page (black), so only a painted white background makes a readable code."""
    size = float(re.search(r'viewBox="0 0 ([\d.]+) ', svg).group(1))  # type: ignore[union-attr]
    pixels = round(size * scale)
    image = Image.new("RGB", (pixels, pixels), "black")
    draw = ImageDraw.Draw(image)
    if re.search(r'<rect fill="white"[^>]*width="100%" height="100%"', svg):
        draw.rectangle((0, 0, pixels, pixels), fill="white")
    for x0, y0, x1, y1 in re.findall(r"M([\d.]+),([\d.]+)H([\d.]+)V([\d.]+)H", svg):
        box = [round(float(v) * scale) for v in (x0, y0, x1, y1)]
        draw.rectangle((box[0], box[1], box[2] - 1, box[3] - 1), fill="black")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_the_svg_paints_a_white_background_so_it_reads_on_a_dark_page() -> None:
    svg = render.svg(WORKED["qr_text"]).decode()
    assert read_qr(_rasterize_on_dark(svg)) == WORKED["qr_text"]
