"""Prometheus metrics (issue 10): GET /metrics in the text format.

- `ecredential_request_seconds{route,method,status}`: latency by URL rule (never the raw path,
  which may hold an ID number) and status class (2xx, 4xx, ...);
- `ecredential_errors_total{code}`: every answer in the error envelope, by its code (counted by
  server/web/errors.py);
- `ecredential_settlements_total{channel,outcome}` and `ecredential_scans_total{channel,outcome}`:
  counted here from the endpoint and its answer (terminal API and HIS interface), so the
  settlement and scanning code knows nothing of metrics. `outcome` is `settled`/`replayed`/`ok`
  or the error code (HIS refusals: `refused`);
- `ecredential_dependency_failures_total{dependency}`: `database` or `store`, each 503 a failed
  dependency caused (and OUTCOME_UNKNOWN, a database failure during COMMIT).

Under gunicorn, `PROMETHEUS_MULTIPROC_DIR` (prepared by gunicorn.conf.py before the workers fork)
puts prometheus_client in multiprocess mode: every worker writes its own files and /metrics sums
them; `child_exit` marks a dead worker's gauges. Without it (tests, `flask run`) the process's own
registry answers.

Access: with `METRICS_TOKEN` set, /metrics wants `Authorization: Bearer <token>` (401 otherwise).
Without a token it is open in a playground and absent (404) in production: a production scrape
must be configured on purpose (docs/operations.md, "Metrics").

DOMAIN.md: none: operations.
"""

from __future__ import annotations

import hmac
import json
import os
import time

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as _multiprocess

from server.errors import AppError, NotFoundError, UnauthorizedError

REQUEST_SECONDS = Histogram(
    "ecredential_request_seconds",
    "Request latency by route rule, method and status class",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
ERRORS = Counter("ecredential_errors", "Answers in the error envelope, by code", ["code"])
SETTLEMENTS = Counter(
    "ecredential_settlements", "Settlement requests by channel and outcome", ["channel", "outcome"]
)
SCANS = Counter("ecredential_scans", "Code scans by channel and outcome", ["channel", "outcome"])
DEPENDENCY_FAILURES = Counter(
    "ecredential_dependency_failures",
    "Requests refused because the database or the short-lived store failed",
    ["dependency"],
)

# The HIS interface: which infno is a settlement and which reads a code (a scan).
HIS_SETTLE_INFNOS = frozenset({"2207"})
HIS_SCAN_INFNOS = frozenset({"1101"})

bp = Blueprint("metrics", __name__)


def count_error(error: AppError) -> None:
    """Called by the error handlers for every answer in the envelope."""
    ERRORS.labels(code=error.code).inc()
    g.error_code = error.code
    if error.code in {"SERVICE_UNAVAILABLE", "OUTCOME_UNKNOWN"}:
        DEPENDENCY_FAILURES.labels(dependency=failed_dependency(error)).inc()


def count_database_failure() -> None:
    DEPENDENCY_FAILURES.labels(dependency="database").inc()


def failed_dependency(error: BaseException) -> str:
    """`database` or `store`, from the exception chain (the store raises from redis' errors or,
    without Redis, from the database's), else `details.dependency`, else `unknown`."""
    details = getattr(error, "details", {}) or {}
    cause = error.__cause__
    while cause is not None:
        module = type(cause).__module__
        if module.startswith("redis"):
            return "store"
        if module.startswith(("sqlalchemy", "psycopg", "sqlite3")):
            return "database"
        cause = cause.__cause__
    named = str(details.get("dependency", ""))
    if named == "redis":
        return "store"
    return named or "unknown"


def _status_class(status: int) -> str:
    return f"{status // 100}xx"


def _his_infno() -> str | None:
    infno = (request.view_args or {}).get("infno")
    if infno:
        return str(infno)
    try:
        body = json.loads(request.get_data(cache=True) or b"{}")
    except ValueError:
        return None
    value = body.get("infno") if isinstance(body, dict) else None
    return str(value) if value is not None else None


def _his_outcome(response: Response) -> str:
    if response.status_code != 200 or response.direct_passthrough:
        return "refused"
    try:
        answer = json.loads(response.get_data())
    except ValueError:
        return "refused"
    return "ok" if isinstance(answer, dict) and answer.get("infcode") == 0 else "refused"


def _outcome(response: Response, success: str) -> str:
    code = g.get("error_code")
    if code:
        return str(code)
    return success if response.status_code < 400 else _status_class(response.status_code)


# Labelled children looked up once per process: labels() validates the values and takes a lock
# on every call, which cost more than the increment itself on the settlement and scan paths.
_CHILDREN: dict[tuple[Counter, str, str], Counter] = {}


def _count(counter: Counter, channel: str, outcome: str) -> None:
    key = (counter, channel, outcome)
    child = _CHILDREN.get(key)
    if child is None:
        child = _CHILDREN.setdefault(key, counter.labels(channel=channel, outcome=outcome))
    child.inc()


def _count_business(response: Response) -> None:
    endpoint = request.endpoint
    if endpoint == "terminal.settle":
        success = "replayed" if response.status_code == 200 else "settled"
        _count(SETTLEMENTS, "terminal", _outcome(response, success))
    elif endpoint == "terminal.scan":
        _count(SCANS, "terminal", _outcome(response, "ok"))
    elif endpoint == "his.local_qr_code_query":
        _count(SCANS, "his", _his_outcome(response))
    elif endpoint == "his.call_service":
        infno = _his_infno()
        if infno in HIS_SETTLE_INFNOS:
            _count(SETTLEMENTS, "his", _his_outcome(response))
        elif infno in HIS_SCAN_INFNOS:
            _count(SCANS, "his", _his_outcome(response))


def init_app(app: Flask) -> None:
    # The request's latency from the start time server/observability.py keeps; one labelled
    # child per (rule, method, status class), looked up once (labels() validates and locks).
    children: dict[tuple[str, str, str], Histogram] = {}

    @app.after_request
    def _observe(response: Response) -> Response:
        started = g.get("request_started")
        if started is not None:
            rule = request.url_rule.rule if request.url_rule is not None else "<unmatched>"
            key = (rule, request.method, _status_class(response.status_code))
            child = children.get(key)
            if child is None:
                child = children.setdefault(key, REQUEST_SECONDS.labels(*key))
            child.observe(time.perf_counter() - started)
        _count_business(response)
        return response

    app.register_blueprint(bp)


def _allowed() -> None:
    settings = current_app.extensions["wiring"].settings
    token: str | None = settings.metrics_token
    if token is None:
        if settings.testing or settings.demo_mode:
            return
        raise NotFoundError()
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        raise UnauthorizedError()


@bp.get("/metrics")
def metrics() -> Response:
    _allowed()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        _multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = REGISTRY
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
