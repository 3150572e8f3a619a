"""Background work behind one port: `jobs.enqueue(task, **kwargs)`.

A task is a name in server/jobs.py's registry, run later with a fresh unit of work. Three runners:
- `InlineJobs` runs the task before `enqueue` returns (tests, and `flask` commands);
- `ThreadJobs` runs tasks one by one on a daemon thread of this process (the demo and any
  deployment without Redis; a crash loses the queue, and `flask issue-passwords` finishes it);
- `RqJobs` puts them on a python-rq queue in Redis, run by `rq worker` processes (production with
  `REDIS_URL`; a job survives a web worker's restart).
Arguments are JSON values only, so all three behave alike.
"""

from __future__ import annotations

import logging
import queue
import threading
import uuid
from collections.abc import Callable
from typing import Any, Protocol

log = logging.getLogger(__name__)

Runner = Callable[[str, dict[str, Any]], None]

QUEUE_NAME = "ecredential"


class Jobs(Protocol):
    def enqueue(self, task: str, **kwargs: Any) -> str:
        """Queue `task(uow, **kwargs)`; answers the job's id."""
        ...

    def close(self) -> None: ...


class InlineJobs:
    """Runs each task at once, in the caller's thread (tests and commands)."""

    def __init__(self, runner: Runner) -> None:
        self._runner = runner

    def enqueue(self, task: str, **kwargs: Any) -> str:
        self._runner(task, kwargs)
        return uuid.uuid4().hex

    def close(self) -> None:
        return None


class ThreadJobs:
    """One daemon thread per process working through an in-memory queue, in order."""

    def __init__(self, runner: Runner) -> None:
        self._runner = runner
        self._queue: queue.Queue[tuple[str, dict[str, Any]] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def enqueue(self, task: str, **kwargs: Any) -> str:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="jobs", daemon=True)
                self._thread.start()
        self._queue.put((task, kwargs))
        return uuid.uuid4().hex

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            task, kwargs = item
            try:
                self._runner(task, kwargs)
            except Exception:  # a failed job must not stop the ones behind it
                log.exception("job failed", extra={"task": task})
            finally:
                self._queue.task_done()

    def join(self) -> None:
        """Wait until every queued task has run (tests)."""
        self._queue.join()

    def close(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)


class RqJobs:
    """Tasks on a python-rq queue; `rq worker ecredential` runs them (server.jobs.perform)."""

    def __init__(self, redis_url: str) -> None:
        from redis import Redis
        from rq import Queue

        self._redis = Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
        self.queue = Queue(QUEUE_NAME, connection=self._redis)

    def enqueue(self, task: str, **kwargs: Any) -> str:
        job = self.queue.enqueue("server.jobs.perform", task, kwargs, job_timeout=3600)
        return str(job.id)

    def close(self) -> None:
        self._redis.close()
