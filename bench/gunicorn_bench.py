"""gunicorn settings for the benchmarks (a playground: DEMO_MODE, for the SMS outbox from which
they read their people's initial passwords). gunicorn.conf.py, the production file, refuses a
playground; the settings a benchmark measures through are the ones below, as in production."""

from __future__ import annotations

import os
from typing import Any

header_map = "dangerous"


def post_fork(server: Any, worker: object) -> None:
    """As gunicorn.conf.py: leave two of a worker's threads free of database connections."""
    os.environ.setdefault("DB_POOL_SIZE", str(max(1, int(server.cfg.threads) - 2)))
