"""GET /metrics (issue 10): the Prometheus text format, counters that move, who may read it."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from tests.actors import Clerk, error_code
from tests.api.money_steps import card_bill, insured_with_money, till


def _samples(client: FlaskClient, **headers: str) -> dict[tuple[str, frozenset[Any]], float]:
    r = client.get("/metrics", headers=headers)
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.content_type.startswith("text/plain")
    out: dict[tuple[str, frozenset[Any]], float] = {}
    for family in text_string_to_metric_families(r.get_data(as_text=True)):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def _value(samples: dict[tuple[str, frozenset[Any]], float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_a_settlement_and_an_error_move_their_counters(client: FlaskClient, clerk: Clerk) -> None:
    t = till(clerk)
    p = insured_with_money(client, clerk, "李明", "13900000071", 50000)
    before = _samples(client)
    r = t.post(
        "/settlements",
        card_bill(p.card_no, total_fen=1000, fund_fen=0, payment_password=p.password),
    )
    assert r.status_code == 201, r.get_json()
    r = client.get("/api/v1/nowhere")
    assert error_code(r) == "NOT_FOUND"
    after = _samples(client)

    settled = ("ecredential_settlements_total", {"channel": "terminal", "outcome": "settled"})
    assert _value(after, settled[0], **settled[1]) == _value(before, settled[0], **settled[1]) + 1
    assert _value(after, "ecredential_errors_total", code="NOT_FOUND") == (
        _value(before, "ecredential_errors_total", code="NOT_FOUND") + 1
    )
    count = {"route": "/api/v1/terminal/settlements", "method": "POST", "status": "2xx"}
    assert _value(after, "ecredential_request_seconds_count", **count) == (
        _value(before, "ecredential_request_seconds_count", **count) + 1
    )
    # Unmatched paths are one label, never the raw path (it may hold an ID number).
    assert (
        _value(
            after,
            "ecredential_request_seconds_count",
            route="<unmatched>",
            method="GET",
            status="4xx",
        )
        >= 1
    )


def test_a_refused_settlement_counts_under_its_error_code(
    client: FlaskClient, clerk: Clerk
) -> None:
    t = till(clerk)
    before = _samples(client)
    r = t.post("/settlements", card_bill("NO-SUCH-CARD", total_fen=1000, fund_fen=0))
    code = error_code(r)
    assert code is not None
    after = _samples(client)
    name = "ecredential_settlements_total"
    assert _value(after, name, channel="terminal", outcome=code) == (
        _value(before, name, channel="terminal", outcome=code) + 1
    )


def test_a_store_failure_counts_as_a_dependency_failure(make_app: Any) -> None:
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0")
    c = app.test_client()
    before = _samples(c)
    r = c.post("/api/v1/auth/sms-code", json={"phone": "13900000302"})
    assert r.status_code == 503
    after = _samples(c)
    name = "ecredential_dependency_failures_total"
    assert _value(after, name, dependency="store") == _value(before, name, dependency="store") + 1


def test_production_metrics_want_the_bearer_token(make_app: Any) -> None:
    app = make_app(METRICS_TOKEN="s3cret-metrics")
    c = app.test_client()
    r = c.get("/metrics")
    assert r.status_code == 401 and error_code(r) == "UNAUTHORIZED"
    assert c.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    _samples(c, Authorization="Bearer s3cret-metrics")
