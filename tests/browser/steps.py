"""Steps shared by the browser tests: reading the drawn code back, and the till's API calls."""

from __future__ import annotations

from typing import Any

from tests.qr_reading import read_qr


def shown_code(page: Any, previous: str | None = None) -> str:
    """Wait for the page's code (a new one when `previous` is given) and decode its picture."""
    canvas = page.get_by_role("img", name="医保码")
    page.wait_for_function(
        "prev => { const c = document.getElementById('qr');"
        " return c && !c.hidden && c.dataset.text && c.dataset.text !== prev; }",
        arg=previous,
    )
    drawn = canvas.get_attribute("data-text")
    text = read_qr(canvas.screenshot())
    assert text == drawn
    return text


def snap(page: Any, name: str) -> None:
    """Save a screenshot to docs/screenshots/ when SAVE_SCREENSHOTS=1 (the README shows them)."""
    import os
    from pathlib import Path

    if os.environ.get("SAVE_SCREENSHOTS") == "1":
        folder = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
