"""Browser tests: the pages driven by Playwright in Debian's Chromium, against the app served by
a real HTTP server in a thread.

Playwright never downloads a browser here: it drives /usr/bin/chromium (`apt-get install -y
chromium`). Without Playwright or Chromium the tests marked `browser` skip with the reason, and
fail instead when TEST_REQUIRE_SERVICES=1 (CI).
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
REQUIRE = os.environ.get("TEST_REQUIRE_SERVICES") == "1"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "needs Playwright: pip install -r requirements-dev.txt"
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)) and not shutil.which(
        CHROMIUM
    ):
        return f"needs Chromium at {CHROMIUM}: apt-get install -y chromium"
    return None


@pytest.fixture
def live_url(app: Flask) -> Iterator[str]:
    """The test's app behind a real threaded HTTP server on a free port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    server.server_close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    reason = _missing()
    if reason:
        # A skip would let CI pass without ever opening a page: there, a missing browser fails.
        if REQUIRE:
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser: Any, live_url: str) -> Iterator[Any]:
    ctx = browser.new_context(
        base_url=live_url, viewport={"width": 420, "height": 880}, locale="zh-CN"
    )
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()
