"""Shared benchmark tools: serve an app with gunicorn, drive it with keep-alive HTTP clients from
several processes, and print Markdown tables. Nothing here is imported by the server."""

from __future__ import annotations

import contextlib
import http.client
import json
import multiprocessing as mp
import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def scratch_database(default_sqlite: str) -> str:
    """The benchmark's database: BENCH_DATABASE_URL (a scratch PostgreSQL database, emptied and
    migrated here, never DATABASE_URL) or a new SQLite file."""
    from sqlalchemy import create_engine, text

    import server.db.all_models  # noqa: F401
    from server.cli import migrate
    from server.db.base import Base

    url = os.environ.get("BENCH_DATABASE_URL") or default_sqlite
    if url.startswith("postgresql"):
        engine = create_engine(url)
        Base.metadata.drop_all(engine)
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        engine.dispose()
    migrate(url)
    return url


def app_env(database_url: str, tmp: str) -> dict[str, str]:
    """Production-like settings for a benchmark's app: fresh secrets, a signing-key file in `tmp`,
    the SMS outbox, and BENCH_REDIS_URL (a scratch Redis database, emptied here because every run
    starts from an empty database; never REDIS_URL) when it is set."""
    from server.credentials.keys import create_key_file

    key_file = Path(tmp) / "signing-keys.pem"
    create_key_file(key_file)
    env = {
        "DATABASE_URL": database_url,
        "JWT_SECRET_KEY": secrets.token_urlsafe(32),
        "PASSWORD_PEPPER": secrets.token_urlsafe(32),
        "ADMIN_USERNAME": "bench",
        "ADMIN_PASSWORD": secrets.token_urlsafe(12),
        "SIGNING_KEY_FILE": str(key_file),
        "SMS_BACKEND": "outbox",
        "DEMO_MODE": "1",  # the outbox exists only in a playground (server/config.py)
        "THROTTLE_SMS_ADDRESS": "1000000",  # every bench phone asks from 127.0.0.1
        "THROTTLE_TERMINAL_ADDRESS": "1000000",
    }
    redis_url = os.environ.get("BENCH_REDIS_URL")
    if redis_url:
        import redis

        redis.Redis.from_url(redis_url).flushdb()
        env["REDIS_URL"] = redis_url
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def gunicorn(
    app: str, env: dict[str, str] | None = None, workers: int = 2, threads: int = 1
) -> Iterator[str]:
    """Serve `module:app` with gunicorn on a free port; yields the base URL."""
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "-w",
        str(workers),
        "--threads",
        str(threads),
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        app,
    ]
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 20
        while time.time() < deadline:
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            time.sleep(0.1)
        else:
            raise RuntimeError(f"gunicorn did not start: {cmd}")
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


@dataclass
class Result:
    requests: int
    seconds: float
    latencies_ms: list[float]
    errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def pct(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        xs = sorted(self.latencies_ms)
        return xs[min(len(xs) - 1, int(p / 100 * len(xs)))]


# A request maker returns (method, path, body or None, headers) for the i-th request.
RequestMaker = Callable[[int], tuple[str, str, Any, dict[str, str]]]


def _client(
    host: str, make: RequestMaker, start: int, count: int, ok: tuple[int, ...], out: Any
) -> None:
    conn = http.client.HTTPConnection(host, timeout=30)
    lat: list[float] = []
    errors = 0
    for i in range(start, start + count):
        method, path, body, headers = make(i)
        data = json.dumps(body) if body is not None else None
        hdrs = {"Content-Type": "application/json", **headers} if data else headers
        t = time.perf_counter()
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        resp.read()
        lat.append((time.perf_counter() - t) * 1000)
        if resp.status not in ok:
            errors += 1
    out.put((lat, errors))


def drive(
    host: str, make: RequestMaker, total: int, clients: int = 8, ok: tuple[int, ...] = (200, 201)
) -> Result:
    """Send `total` requests from `clients` processes (keep-alive), each its own share."""
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    share = total // clients
    procs = [
        ctx.Process(target=_client, args=(host, make, c * share, share, ok, out))
        for c in range(clients)
    ]
    t = time.perf_counter()
    for p in procs:
        p.start()
    parts = [out.get() for _ in procs]
    for p in procs:
        p.join()
    seconds = time.perf_counter() - t
    lat = [x for part in parts for x in part[0]]
    return Result(share * clients, seconds, lat, sum(part[1] for part in parts))


def table(headers: list[str], rows: list[list[Any]]) -> str:
    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:,.1f}"
        return str(v)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def ceiling(total: int = 4000, clients: int = 8, workers: int = 2, threads: int = 1) -> Result:
    """Requests per second of a bare Flask endpoint through the same gunicorn set-up."""
    with gunicorn("bench.bare_app:app", workers=workers, threads=threads) as host:
        drive(host, lambda i: ("GET", "/ping", None, {}), 400, clients)  # warm up
        return drive(host, lambda i: ("GET", "/ping", None, {}), total, clients)


def main() -> None:
    r = ceiling()
    print(
        table(
            ["endpoint", "requests/s", "p50 ms", "p99 ms"],
            [["bare Flask /ping (ceiling)", r.rate, r.pct(50), r.pct(99)]],
        )
    )
