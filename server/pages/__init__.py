"""The browser pages: the phone page (/app/), the till (/counter/), the agency desk (/agency/)
and the API explorer (/docs). CONTRACT.md, Additions (2026-11-30): public pages.

Plain HTML and ES modules, served from `static/` by the app itself (no CDN, no build step);
what the pages share lives in `static/common/`, third-party code in `static/vendor/` beside its
licence. The pages speak only the public API, so this blueprint has no logic: it sends files,
never caches a page's HTML or the service worker (a new release is picked up on the next visit),
and lets the rest be cached briefly.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from flask import Blueprint, Response, redirect, send_from_directory

STATIC = Path(__file__).parent / "static"
PAGES = ("app", "counter", "agency")
ASSET_MAX_AGE_SECONDS = 300
# The page shell and the service worker are revalidated on every visit.
_NO_CACHE = (".html", "sw.js", ".webmanifest")

bp = Blueprint("pages", __name__)

# Not every system's MIME table knows these; a module script must be served as JavaScript.
mimetypes.add_type("application/manifest+json", ".webmanifest")
mimetypes.add_type("text/javascript", ".js")


def _send(folder: str, name: str) -> Response:
    response = send_from_directory(STATIC / folder, name, max_age=ASSET_MAX_AGE_SECONDS)
    if name.endswith(_NO_CACHE):
        response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _page_routes(page: str) -> None:
    def shell() -> Response:
        return _send(page, "index.html")

    def asset(name: str) -> Response:
        return _send(page, name)

    def bare() -> Response:
        return redirect(f"/{page}/", code=308)  # type: ignore[return-value]

    bp.add_url_rule(f"/{page}/", f"{page}_shell", shell)
    bp.add_url_rule(f"/{page}/<path:name>", f"{page}_asset", asset)
    bp.add_url_rule(f"/{page}", f"{page}_bare", bare)


for _page in PAGES:
    _page_routes(_page)


@bp.get("/common/<path:name>")
def common(name: str) -> Response:
    """The modules and styles the pages share (static/common/)."""
    return _send("common", name)


@bp.get("/vendor/<path:name>")
def vendor(name: str) -> Response:
    return _send("vendor", name)


@bp.get("/docs")
def docs() -> Response:
    """The API explorer (Swagger UI) over /openapi.json."""
    return _send("docs", "index.html")


@bp.get("/docs/<path:name>")
def docs_asset(name: str) -> Response:
    return _send("docs", name)
