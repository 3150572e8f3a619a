"""Shared benchmark tools: serve an app with gunicorn, drive it with keep-alive HTTP clients from
several processes, and print Markdown tables. Nothing here is imported by the server."""

from __future__ import annotations

import contextlib
import http.client
import json
import multiprocessing as mp
import os
import platform
import secrets
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Seconds a gunicorn master may take to open its port (BENCH_START_SECONDS).
START_SECONDS = float(os.environ.get("BENCH_START_SECONDS", "120"))


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
        # Initial passwords are read back from this process's outbox, so their job runs here.
        "JOBS_BACKEND": "inline",
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


class Served(str):
    """The `host:port` a server listens on; `pid` is its gunicorn master's process id."""

    pid: int


@contextlib.contextmanager
def gunicorn(
    app: str, env: dict[str, str] | None = None, workers: int = 2, threads: int = 1
) -> Iterator[Served]:
    """Serve `module:app` with gunicorn on a free port; yields the base URL (a `Served`)."""
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
        # A playground (DEMO_MODE) is refused by the production gunicorn.conf.py.
        *(["-c", "bench/gunicorn_bench.py"] if (env or {}).get("DEMO_MODE") else []),
        app,
    ]
    # gunicorn's own messages go to a file: shown when it does not start (an import error, a
    # refused setting), never mixed into a table.
    log = tempfile.TemporaryFile()  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    try:
        # A loaded 2-core machine can take many seconds to import gunicorn (load average 9 was
        # seen): wait up to START_SECONDS, but give up at once when gunicorn has exited.
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline and proc.poll() is None:
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            time.sleep(0.1)
        else:
            log.seek(0)
            tail = log.read()[-2000:].decode(errors="replace")
            why = f"exited with {proc.returncode}" if proc.poll() is not None else "no port"
            raise RuntimeError(f"gunicorn did not start ({why}): {cmd}\n{tail}")
        served = Served(f"127.0.0.1:{port}")
        served.pid = proc.pid
        yield served
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        log.close()


@dataclass
class Result:
    requests: int
    seconds: float
    latencies_ms: list[float]
    errors: int
    # CPU per request from /proc (see CpuMeter), filled by measured(); None when not measured.
    app_cpu_ms: float | None = None
    pg_cpu_ms: float | None = None
    rss_mb: float | None = None  # resident memory per gunicorn worker after the run

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
    try:
        for i in range(start, start + count):
            method, path, body, headers = make(i)
            data = json.dumps(body) if body is not None else None
            hdrs = {"Content-Type": "application/json", **headers} if data else headers
            t = time.perf_counter()
            try:
                conn.request(method, path, body=data, headers=hdrs)
                resp = conn.getresponse()
                resp.read()
                status = resp.status
            except (OSError, http.client.HTTPException):
                # A timeout or a dropped connection is an error of this request, not the end of
                # the run (a client that died here would leave drive() waiting forever).
                conn.close()
                conn = http.client.HTTPConnection(host, timeout=30)
                status = 0
            lat.append((time.perf_counter() - t) * 1000)
            if status not in ok:
                errors += 1
    finally:
        out.put((lat, errors + count - len(lat)))  # requests never sent are errors too


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
    """Requests per second (and app CPU per request) of a bare Flask endpoint through the same
    gunicorn set-up."""
    with gunicorn("bench.bare_app:app", workers=workers, threads=threads) as host:
        drive(host, lambda i: ("GET", "/ping", None, {}), 400, clients)  # warm up
        return measured(host, lambda i: ("GET", "/ping", None, {}), total, clients)


# --- CPU per request, from /proc -------------------------------------------------------------
# utime + stime (fields 14 and 15 of /proc/<pid>/stat, in clock ticks) of the gunicorn master's
# children (the workers: app CPU) and of the PostgreSQL backends serving the benchmark's database
# (their command line reads `postgres: ... <user> <database> <client> ...`: PostgreSQL CPU). A
# poller thread notes every such process while the requests run: one seen at the start counts
# from its value then, one that appears later counts from zero (its whole life). Shared
# background processes (walwriter, checkpointer, autovacuum) are not counted, for the app and
# for pgbench alike. An idle baseline, measured just before on the same processes, is taken off.
TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, utime + stime in ticks) of a live process, or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            raw = f.read()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()  # fields[0] is field 3 (state)
    return int(fields[1]), int(fields[11]) + int(fields[12])


def _pids() -> list[int]:
    return [int(d) for d in os.listdir("/proc") if d.isdigit()]


def children(parent: int) -> list[int]:
    """Live child processes of `parent` (no /proc/<pid>/task/*/children on this kernel)."""
    out = []
    for pid in _pids():
        st = _stat(pid)
        if st is not None and st[0] == parent:
            out.append(pid)
    return out


def pg_backends(database: str) -> list[int]:
    """PostgreSQL backend processes serving `database` on this machine."""
    needle = f" {database} ".encode()
    out = []
    for pid in _pids():
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read(200)
        except OSError:
            continue
        if cmd.startswith(b"postgres: ") and needle in cmd:
            out.append(pid)
    return out


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class CpuMeter:
    """CPU ticks spent by a set of processes (found afresh at every poll) between start and stop."""

    def __init__(self, find: Callable[[], list[int]], interval: float = 0.2) -> None:
        self.find, self.interval = find, interval
        self.base: dict[int, int] = {}
        self.last: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _sample(self) -> None:
        for pid in self.find():
            st = _stat(pid)
            if st is None:
                continue
            self.base.setdefault(pid, 0)
            self.last[pid] = st[1]

    def _poll(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def start(self) -> CpuMeter:
        for pid in self.find():
            st = _stat(pid)
            if st is not None:
                self.base[pid] = self.last[pid] = st[1]
        self._thread.start()
        return self

    def stop(self) -> float:
        """Milliseconds of CPU spent since start."""
        self._stop.set()
        self._thread.join()
        self._sample()
        return sum(self.last[p] - self.base[p] for p in self.last) * TICK_MS


def cpu_ms(find: Callable[[], list[int]], seconds: float) -> float:
    """CPU milliseconds the processes spend in `seconds` of idleness (the baseline)."""
    meter = CpuMeter(find).start()
    time.sleep(seconds)
    return meter.stop()


def measured(
    host: str,
    make: RequestMaker,
    total: int,
    clients: int = 8,
    ok: tuple[int, ...] = (200, 201),
    database: str | None = None,
    idle_seconds: float = 1.0,
) -> Result:
    """drive(), with app CPU per request (the gunicorn workers of `host`, a `Served`) and, when
    `database` is given, PostgreSQL CPU per request (its backends); idle baselines taken off."""
    master = getattr(host, "pid", None)
    app_find: Callable[[], list[int]] = (lambda: children(master)) if master else list
    pg_find: Callable[[], list[int]] = (lambda: pg_backends(database)) if database else list
    app_idle = cpu_ms(app_find, idle_seconds) / idle_seconds
    pg_idle = cpu_ms(pg_find, idle_seconds) / idle_seconds
    app, pg = CpuMeter(app_find).start(), CpuMeter(pg_find).start()
    r = drive(host, make, total, clients, ok)
    app_ms, pg_ms = app.stop(), pg.stop()
    n = max(r.requests, 1)
    if master:
        r.app_cpu_ms = max(app_ms - app_idle * r.seconds, 0.0) / n
        workers = children(master)
        r.rss_mb = max((rss_mb(w) for w in workers), default=0.0)
    if database:
        r.pg_cpu_ms = max(pg_ms - pg_idle * r.seconds, 0.0) / n
    return r


# --- round trips, counted on the wire ----------------------------------------------------------
class RoundTrips:
    """A TCP relay to `upstream_host:upstream_port` that counts round trips: one each time a
    client starts sending after the server has answered (a "flight"). It knows no protocol, so it
    counts PostgreSQL (a pipeline is one trip) and Redis (a MULTI/pipeline is one trip) alike.
    Point the app at `port` for a short, separate counting pass (it costs a hop, so never during
    a timed run); `reset()` after warming up so connection set-up is not counted. `sent` keeps
    what the clients sent since then, for a test that reads the protocol (Redis commands)."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.flights = 0
        self.sent = bytearray()
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def reset(self) -> None:
        with self._lock:
            self.flights = 0
            self.sent.clear()

    def close(self) -> None:
        self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        upstream = socket.create_connection(self.upstream)
        sel = selectors.DefaultSelector()
        sel.register(client, selectors.EVENT_READ)
        sel.register(upstream, selectors.EVENT_READ)
        client_turn = False
        try:
            while True:
                for key, _ in sel.select():
                    sock = key.fileobj
                    assert isinstance(sock, socket.socket)
                    data = sock.recv(65536)
                    if not data:
                        return
                    if sock is client:
                        with self._lock:
                            if not client_turn:
                                client_turn = True
                                self.flights += 1
                            self.sent += data
                        upstream.sendall(data)
                    else:
                        client_turn = False
                        client.sendall(data)
        except OSError:
            return
        finally:
            sel.close()
            client.close()
            upstream.close()


# --- results.json ------------------------------------------------------------------------------
RESULTS = Path(__file__).resolve().parent / "results.json"


def machine() -> str:
    cpu = "?"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), "?")
    return f"{platform.node()}: {os.cpu_count()} cores, {cpu}, Linux {platform.release()}"


def save(rows: dict[str, dict[str, Any]]) -> None:
    """Merge `rows` (name -> figures) into bench/results.json, stamped with date and machine."""
    data: dict[str, Any] = {}
    if RESULTS.exists():
        data = json.loads(RESULTS.read_text())
    stamp = {"date": time.strftime("%Y-%m-%d %H:%M %z"), "machine": machine()}
    for name, row in rows.items():
        data[name] = {
            k: (round(v, 3) if isinstance(v, float) else v) for k, v in {**row, **stamp}.items()
        }
    RESULTS.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def row(r: Result, **extra: Any) -> dict[str, Any]:
    """A results.json row from a measured Result."""
    return {
        "rate": r.rate,
        "app_cpu_ms": r.app_cpu_ms,
        "pg_cpu_ms": r.pg_cpu_ms,
        "p50_ms": r.pct(50),
        "p99_ms": r.pct(99),
        "errors": r.errors,
        "rss_mb_per_worker": r.rss_mb,
        **extra,
    }


def ms(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.2f}"


def main() -> None:
    r = ceiling()
    print(
        table(
            ["endpoint", "requests/s", "app CPU ms/req", "p50 ms", "p99 ms"],
            [["bare Flask /ping (ceiling)", r.rate, ms(r.app_cpu_ms), r.pct(50), r.pct(99)]],
        )
    )
