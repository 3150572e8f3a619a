"""The API explorer at /docs renders /openapi.json with the vendored Swagger UI."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.steps import snap

pytestmark = pytest.mark.browser


def test_the_explorer_lists_the_contracts_calls_from_the_apps_own_assets(
    context: Any, live_url: str
) -> None:
    outside: list[str] = []
    page = context.new_page()
    page.on(
        "request",
        lambda r: None if r.url.startswith((live_url, "data:")) else outside.append(r.url),
    )
    page.goto("/docs")
    page.get_by_text("/api/v1/terminal/settlements/by-order/{order_no}").first.wait_for()
    page.get_by_text("/api/v1/admin/insured/check").first.wait_for()
    snap(page, "docs")
    assert outside == []
