"""gunicorn settings for the benchmarks (a playground: DEMO_MODE, for the SMS outbox from which
they read their people's initial passwords). gunicorn.conf.py, the production file, refuses a
playground; the settings a benchmark measures through are the ones below, as in production: its
hooks are gunicorn.conf.py's (metrics in multiprocess mode, the database pool, gc.freeze), and the
metrics directory is removed when gunicorn exits."""

from __future__ import annotations

import gc
import os
import shutil
import tempfile
from typing import Any

header_map = "dangerous"


def on_starting(server: object) -> None:
    """As gunicorn.conf.py: every worker writes its metrics under one (new) directory."""
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="bench-metrics-")


def child_exit(server: object, worker: object) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]


def on_exit(server: object) -> None:
    shutil.rmtree(os.environ.get("PROMETHEUS_MULTIPROC_DIR", ""), ignore_errors=True)


def post_fork(server: Any, worker: object) -> None:
    """As gunicorn.conf.py: leave two of a worker's threads free of database connections."""
    os.environ.setdefault("DB_POOL_SIZE", str(max(1, int(server.cfg.threads) - 2)))


def post_worker_init(worker: object) -> None:
    """As gunicorn.conf.py: the loaded app out of the collector's generations."""
    gc.collect()
    gc.freeze()
