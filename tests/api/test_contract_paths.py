"""Every call the contract names is served, and documented in /openapi.json."""

import re
from pathlib import Path

import pytest

CONTRACT = Path(__file__).resolve().parents[2] / "docs" / "contract.md"
# Calls the contract writes relative to another row ("`.png`", "`DELETE .../<id>`").
RELATIVE = [
    ("GET", "/api/v1/credential/qr.png"),
    ("DELETE", "/api/v1/mutual-aid/beneficiaries/<id>"),
]


def contract_calls() -> list[tuple[str, str]]:
    found = re.findall(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`?]+)(?:\?[^`]*)?`", CONTRACT.read_text())
    return sorted(set(found) | set(RELATIVE))


def _shape(path: str) -> str:
    """A path with its parameters blanked, in either Flask (<x>) or OpenAPI ({x}) spelling."""
    return re.sub(r"<[^>]+>|\{[^}]+\}", "{}", path)


def test_the_contract_was_read():
    assert len(contract_calls()) >= 45


@pytest.mark.parametrize(("method", "path"), contract_calls())
def test_contract_call_is_served(app, method, path):
    served = {
        (m, _shape(rule.rule)) for rule in app.url_map.iter_rules() for m in rule.methods or ()
    }
    assert (method, _shape(path)) in served


@pytest.mark.parametrize(
    ("method", "path"), [c for c in contract_calls() if c[1].startswith("/api/")]
)
def test_contract_call_is_in_the_openapi_document(client, method, path):
    spec = client.get("/openapi.json").get_json()
    documented = {(m.upper(), _shape(p)) for p, ops in spec["paths"].items() for m in ops}
    assert (method, _shape(path)) in documented
