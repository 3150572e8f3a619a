"""The app factory's Flask: hooks and views run as Flask runs them; the sync check remembered."""

from __future__ import annotations

from typing import Any

from flask import Flask

from server.app import App


def test_ensure_sync_is_remembered_and_bounded(app: Flask) -> None:
    assert isinstance(app, App)

    def view() -> str:
        return "ok"

    assert app.ensure_sync(view) is view
    assert view in app._sync  # asked once; the next request's call is a dict lookup
    remembered = dict(app._sync)
    try:
        app._sync.update({object(): view for _ in range(App.MAX_REMEMBERED)})  # type: ignore[misc]
        fresh = lambda: "fresh"  # noqa: E731
        assert app.ensure_sync(fresh) is fresh
        assert fresh not in app._sync  # full: answered, not remembered
    finally:
        app._sync.clear()
        app._sync.update(remembered)


def test_every_request_still_runs_every_hook(client: Any) -> None:
    r = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert r.headers["X-Request-ID"] == "abc-123"  # before and after hooks both ran
    again = client.get("/healthz")
    assert again.headers["X-Request-ID"] and again.headers["X-Request-ID"] != "abc-123"
