"""The scenarios and the table. FAULTS_SETTLEMENTS (default 300) is the number of settlements of
the kill -9 scenario; the others use a third of it each."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import random
import signal
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import children, gunicorn, table
from faults import checks, world
from faults.services import PrivatePostgres, PrivateRedis

WORKERS = 3
THREADS = 4
CLIENTS = 8
# The longest an error answer may take, by scenario (docs/operations.md, "Timeouts"): a request
# already inside a statement on a frozen PostgreSQL waits for the TCP timeouts (5 s) and the
# statement timeout; anything else answers within the pool/connect (2 s) or Redis (0.5 s) bounds.
BOUND_S = {"default": 5.0, "PostgreSQL frozen (SIGSTOP, 8 s)": 12.0}
# /healthz must never starve: 1 s, and with PostgreSQL frozen one pool timeout (1 s) plus margin,
# as a free thread may first finish refusing a request that waited for a connection.
HEALTH_BOUND_S = {"default": 1.0, "PostgreSQL frozen (SIGSTOP, 8 s)": 2.5}


@dataclass
class Tally:
    orders: int = 0
    settled: int = 0  # 201
    replayed: int = 0  # 200: a retry learnt the first answer
    refused: int = 0  # a definite error code (not 503)
    unsettled: int = 0  # gave up after every retry
    attempts: int = 0
    dropped: int = 0  # no HTTP answer (a killed worker, a reset connection)
    codes: dict[str, int] = field(default_factory=dict)
    not_envelope: int = 0
    over_bound: int = 0
    max_error_ms: float = 0.0
    latencies: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note_error(self, code: str, ms: float, bound_ms: float) -> None:
        with self.lock:
            self.codes[code] = self.codes.get(code, 0) + 1
            self.max_error_ms = max(self.max_error_ms, ms)
            if ms > bound_ms:
                self.over_bound += 1


def _request(
    host: str,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    timeout: float = 40,
) -> tuple[int, bytes, float]:
    h, p = host.split(":")
    conn = http.client.HTTPConnection(h, int(p), timeout=timeout)
    data = json.dumps(body).encode() if body is not None else None
    hdrs = {"Content-Type": "application/json", **(headers or {})} if data else dict(headers or {})
    t = time.perf_counter()
    try:
        conn.request(method, path, body=data, headers=hdrs)
        r = conn.getresponse()
        raw = r.read()
        return r.status, raw, (time.perf_counter() - t) * 1000
    finally:
        conn.close()


def _error_code(raw: bytes) -> str | None:
    try:
        body = json.loads(raw)
        code = body["error"]["code"]
        return str(code) if isinstance(code, str) else None
    except (ValueError, KeyError, TypeError):
        return None


class Till:
    def __init__(self, host: str, w: world.World) -> None:
        self.host = host
        for _ in range(40):  # a till signs in again while the app answers 503
            status, raw, _ = _request(
                host,
                "POST",
                "/api/v1/terminal/token",
                {"terminal_id": w.terminal_id, "secret": w.terminal_secret},
            )
            if status != 503:
                break
            time.sleep(0.25)
        assert status == 200, raw
        self.auth = {"Authorization": f"Bearer {json.loads(raw)['access_token']}"}

    def settle(self, card_no: str, tally: Tally, bound_ms: float) -> None:
        """One order, sent again with the same order_no until a definite answer (the till's
        duty on 503 SERVICE_UNAVAILABLE / OUTCOME_UNKNOWN and on a lost connection)."""
        body = {
            "order_no": f"F-{uuid.uuid4().hex[:20]}",
            "scene": "registration",  # a card needs no password here (DEFAULT_PASSWORD_POLICY)
            "medium": "card",
            "card_no": card_no,
            "total_fen": 100,
            "fund_fen": 30,
        }
        with tally.lock:
            tally.orders += 1
        for _ in range(120):
            with tally.lock:
                tally.attempts += 1
            try:
                status, raw, ms = _request(
                    self.host, "POST", "/api/v1/terminal/settlements", body, self.auth
                )
            except (OSError, http.client.HTTPException):
                with tally.lock:
                    tally.dropped += 1
                time.sleep(0.2)
                continue
            with tally.lock:
                tally.latencies.append(ms)
            if status in (200, 201):
                with tally.lock:
                    if status == 201:
                        tally.settled += 1
                    else:
                        tally.replayed += 1
                return
            code = _error_code(raw)
            if code is None:
                with tally.lock:
                    tally.not_envelope += 1
                code = f"HTTP {status}"
            tally.note_error(code, ms, bound_ms)
            if status == 503:
                time.sleep(0.2)
                continue
            with tally.lock:
                tally.refused += 1
            return
        with tally.lock:
            tally.unsettled += 1


def settle_many(
    host: str,
    w: world.World,
    n: int,
    bound_ms: float,
    till: Till | None = None,
    until: threading.Event | None = None,
) -> Tally:
    """At least n orders from CLIENTS threads, and more until `until` is set (the fault is over)."""
    tally = Tally()
    till = till or Till(host, w)
    counter = iter(range(10**9))
    lock = threading.Lock()

    def client() -> None:
        while True:
            with lock:
                i = next(counter)
                if i >= n and (until is None or until.is_set()):
                    return
            till.settle(w.cards[i % len(w.cards)], tally, bound_ms)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return tally


@contextlib.contextmanager
def background(action: Callable[[threading.Event], None]) -> Iterator[None]:
    stop = threading.Event()
    t = threading.Thread(target=action, args=(stop,), daemon=True)
    t.start()
    try:
        yield
    finally:
        stop.set()
        t.join()


class Health:
    """Polls /healthz every 50 ms: answered, failed, the slowest answer."""

    def __init__(self, host: str) -> None:
        self.host, self.ok, self.failed, self.max_ms = host, 0, 0, 0.0

    def __call__(self, stop: threading.Event) -> None:
        while not stop.wait(0.05):
            try:
                status, _, ms = _request(self.host, "GET", "/healthz", timeout=10)
            except (OSError, http.client.HTTPException):
                self.failed += 1
                continue
            self.max_ms = max(self.max_ms, ms)
            if status == 200:
                self.ok += 1
            else:
                self.failed += 1


@dataclass
class Row:
    scenario: str
    tally: Tally | None
    ledger: dict[str, int]
    health: Health | None = None
    extra: str = ""
    passed: bool = True

    def cells(self) -> list[Any]:
        t = self.tally
        problems = [f"{k}: {v}" for k, v in self.ledger.items()]
        if t is not None:
            if t.not_envelope:
                problems.append(f"{t.not_envelope} errors outside the envelope")
            if t.over_bound:
                problems.append(f"{t.over_bound} errors over the bound")
            if t.unsettled:
                problems.append(f"{t.unsettled} orders without a definite answer")
        bound_ms = HEALTH_BOUND_S.get(self.scenario, HEALTH_BOUND_S["default"]) * 1000
        if self.health is not None and (self.health.failed or self.health.max_ms > bound_ms):
            problems.append(
                f"/healthz failed or took {self.health.max_ms:.0f} ms (bound {bound_ms:.0f} ms)"
            )
        if not self.passed:
            problems.append(self.extra)
        ok = "yes" if not problems else "NO: " + "; ".join(problems)
        codes = ", ".join(f"{k} {v}" for k, v in sorted((t.codes if t else {}).items())) or "-"
        lat = sorted(t.latencies) if t and t.latencies else []
        p99 = f"{lat[min(len(lat) - 1, int(0.99 * len(lat)))]:.0f}" if lat else "-"
        health = (
            f"{self.health.ok}/{self.health.ok + self.health.failed}, "
            f"max {self.health.max_ms:.0f} ms"
            if self.health
            else "-"
        )
        return [
            self.scenario,
            f"{t.orders}" if t else "-",
            f"{t.settled}+{t.replayed}" if t else "-",
            f"{t.attempts}" if t else "-",
            f"{t.dropped}" if t else "-",
            codes,
            f"{t.max_error_ms:.0f}" if t and t.codes else "-",
            p99,
            health,
            self.extra if self.passed else "",
            ok,
        ]


HEADERS = [
    "scenario",
    "orders",
    "settled (201+200)",
    "attempts",
    "dropped",
    "error codes seen",
    "max error ms",
    "p99 ms",
    "/healthz ok",
    "notes",
    "invariants hold",
]


def _bound(name: str) -> float:
    return BOUND_S.get(name, BOUND_S["default"]) * 1000


def main() -> int:
    n = int(os.environ.get("FAULTS_SETTLEMENTS", "300"))
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="faults-") as tmp_name:
        tmp = Path(tmp_name)
        os.chmod(tmp, 0o755)
        pg, rd = PrivatePostgres(tmp), PrivateRedis(tmp)
        pg.start()
        rd.start()
        try:
            env = world.production_env(tmp, pg.url, rd.url)
            (tmp / "metrics").mkdir()
            t0 = time.time()
            w = world.build(env)
            print(f"set-up: {world.PERSONS} patients in {time.time() - t0:.0f} s", flush=True)
            # gunicorn's own log (worker boots, kills, timeouts) beside the data; the helper
            # sends the processes' output nowhere.
            served_env = {**env, "GUNICORN_CMD_ARGS": f"--error-logfile {tmp / 'gunicorn.log'}"}
            try:
                with gunicorn("wsgi:app", env=served_env, workers=WORKERS, threads=THREADS) as host:
                    wait_ready(host)
                    rows += run_scenarios(host, pg, rd, w, n)
            finally:
                log = tmp / "gunicorn.log"
                if os.environ.get("FAULTS_VERBOSE") and log.exists():
                    print(log.read_text()[-5000:])
        finally:
            with contextlib.suppress(Exception):
                rd.thaw()
            with contextlib.suppress(Exception):
                pg.thaw()
            rd.stop()
            with contextlib.suppress(Exception):
                pg.stop("immediate")
    print()
    print(table(HEADERS, [r.cells() for r in rows]))
    failed = [r.scenario for r in rows if r.cells()[-1] != "yes"]
    if failed:
        print("\nFAILED: " + ", ".join(failed))
    return 1 if failed else 0


def wait_ready(host: str, seconds: float = 120) -> None:
    """Until /readyz answers 200: every worker may still be importing the app."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        with contextlib.suppress(OSError, http.client.HTTPException):
            if _request(host, "GET", "/readyz", timeout=5)[0] == 200:
                return
        time.sleep(0.5)
    raise RuntimeError("the app never became ready")


def run_scenarios(
    host: str, pg: PrivatePostgres, rd: PrivateRedis, w: world.World, n: int
) -> list[Row]:
    from faults import scenarios

    rows = []
    only = os.environ.get("FAULTS_ONLY", "").lower()  # a word of the scenarios' names, to rerun one
    for scenario in scenarios.ALL:
        if only and only not in scenario.__name__.lower():
            continue
        t = time.time()
        row = scenario(host, pg, rd, w, n)
        row.ledger = checks.ledger_failures(pg.url)
        print(f"{row.scenario}: {time.time() - t:.0f} s", flush=True)
        rows.append(row)
    return rows


def kill_workers(master: int, every_s: float) -> Callable[[threading.Event], None]:
    def action(stop: threading.Event) -> None:
        while not stop.wait(every_s):
            workers = children(master)
            if workers:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(random.choice(workers), signal.SIGKILL)

    return action
