"""The pages blueprint serves every page and asset itself (no CDN). CONTRACT.md: public pages."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse


def fetch(client: FlaskClient, path: str) -> TestResponse:
    """GET and read the whole body, closing the file the response streams from."""
    r = client.get(path)
    r.get_data()
    r.close()
    return r


@pytest.mark.parametrize("path", ["/app/", "/counter/", "/agency/", "/docs"])
def test_each_page_is_served_as_html_and_revalidated(client: FlaskClient, path: str) -> None:
    r = fetch(client, path)
    assert r.status_code == 200
    assert r.mimetype == "text/html"
    assert r.headers["Cache-Control"] == "no-cache"


def test_a_page_without_its_slash_redirects_to_it(client: FlaskClient) -> None:
    r = fetch(client, "/app")
    assert r.status_code == 308
    assert r.headers["Location"].endswith("/app/")


def test_the_phone_page_is_installable_and_its_service_worker_is_never_stale(
    client: FlaskClient,
) -> None:
    manifest = fetch(client, "/app/manifest.webmanifest")
    assert manifest.mimetype == "application/manifest+json"
    assert manifest.get_json()["start_url"] == "/app/"
    worker = fetch(client, "/app/sw.js")
    assert worker.mimetype == "text/javascript"
    assert worker.headers["Cache-Control"] == "no-cache"


def test_vendored_code_is_served_beside_its_licence(client: FlaskClient) -> None:
    for folder, script in [("qrcodegen", "qrcodegen.js"), ("swagger-ui", "swagger-ui-bundle.js")]:
        assert fetch(client, f"/vendor/{folder}/{script}").mimetype == "text/javascript"
        assert fetch(client, f"/vendor/{folder}/LICENSE").status_code == 200


def test_no_page_reaches_outside_the_app(client: FlaskClient) -> None:
    for path in ["/app/", "/counter/", "/agency/", "/docs"]:
        html = fetch(client, path).get_data(as_text=True)
        assert "http://" not in html
        assert "https://" not in html


def test_a_missing_asset_is_not_found(client: FlaskClient) -> None:
    assert fetch(client, "/app/nothing-here.js").status_code == 404
    assert fetch(client, "/app/../__init__.py").status_code == 404
