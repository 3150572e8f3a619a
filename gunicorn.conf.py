"""gunicorn settings for production; every value can be overridden on the command line.

gunicorn is the production server, so it refuses the playground (DEMO_MODE, TESTING): the SMS
outbox, /api/v1/dev/* and the stub face verifier exist only under `make run` and the tests.

Workers are gthread: each process serves `threads` requests at once, so a request stuck on a
frozen dependency (bounded by the database and Redis timeouts, server/db/__init__.py and
server/ports/store.py) holds one thread, not the process, and /healthz keeps answering.
"""

import multiprocessing
import os
import tempfile
from typing import Any

for _flag in ("DEMO_MODE", "TESTING"):
    if os.environ.get(_flag, "").strip().lower() in {"1", "true", "yes", "on"}:
        raise SystemExit(
            f"gunicorn is the production server and refuses {_flag}: the SMS outbox, "
            "/api/v1/dev/* and the stub face verifier are for `make run` and the tests only"
        )

bind = os.environ.get("BIND", "127.0.0.1:5000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
timeout = 30
graceful_timeout = 20
# Request line and headers: gunicorn answers an oversize one itself (414/431, as HTML, before the
# app sees it); docs/operations.md shows the front proxy's rule that answers them in the envelope.
# gunicorn's own ceilings sit above the app's (server/http.py: 4,094-byte request line, 100
# headers, 8,190 bytes a header), so a request between the two gets the app's envelope; gunicorn
# answers (in HTML) only what is past these.
limit_request_line = 8190
limit_request_fields = 200
limit_request_field_size = 16380
# The national HIS gateway signs with `_api_*` headers, which gunicorn 22+ drops by default
# (docs/his-interface.md). Nothing in the app trusts a header whose `_`/`-` spelling could be
# confused (no forwarded-for style header is read without PROXY_HOPS), so keep them.
header_map = "dangerous"
accesslog = None  # the app logs each request itself, as JSON with the request id


def on_starting(server: object) -> None:
    """Prometheus multiprocess mode: every worker writes its metrics under one directory."""
    path = os.environ.setdefault(
        "PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="ecredential-metrics-")
    )
    os.makedirs(path, exist_ok=True)
    for name in os.listdir(path):
        if name.endswith(".db"):
            os.unlink(os.path.join(path, name))


def child_exit(server: object, worker: object) -> None:
    try:
        from prometheus_client import multiprocess
    except ImportError:
        return
    multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]


def post_fork(server: Any, worker: object) -> None:
    """Leave two of a worker's threads free of database connections (server/db/__init__.py): a
    frozen PostgreSQL then holds at most the others, and /healthz and the 503s keep answering."""
    os.environ.setdefault("DB_POOL_SIZE", str(max(1, int(server.cfg.threads) - 2)))


def post_worker_init(worker: object) -> None:
    """The app is loaded (after the fork: no preload): its modules, routes, models and caches
    live as long as the worker. `gc.freeze()` moves them out of the collector's generations, so
    the full collections a busy worker runs no longer walk them all (issue 14)."""
    import gc

    gc.collect()
    gc.freeze()
