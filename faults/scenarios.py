"""One function per scenario: drive the app while the fault happens; the ledger is checked after
each by faults.run (faults/checks.py)."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Callable

from faults import world
from faults.run import (
    Health,
    Row,
    Tally,
    _bound,
    _error_code,
    _request,
    background,
    kill_workers,
    settle_many,
)
from faults.services import PrivatePostgres, PrivateRedis

Scenario = Callable[[str, PrivatePostgres, PrivateRedis, world.World, int], Row]


def _during(host: str, w: world.World, n: int, bound_ms: float, fault: Callable[[], None]) -> Tally:
    """Settle n orders in the background while `fault` runs (after a 1 s head start)."""
    from faults.run import Till

    out: list[Tally] = []
    till = Till(host, w)  # signed in before the fault
    over = threading.Event()
    t = threading.Thread(target=lambda: out.append(settle_many(host, w, n, bound_ms, till, over)))
    t.start()
    time.sleep(1.0)
    fault()
    time.sleep(1.0)
    over.set()
    t.join()
    return out[0]


def kill9(host: str, pg: PrivatePostgres, rd: PrivateRedis, w: world.World, n: int) -> Row:
    name = "kill -9 a worker every 1 s"
    with background(kill_workers(getattr(host, "pid"), 1.0)):  # noqa: B009
        tally = settle_many(host, w, n, _bound(name))
    return Row(name, tally, {})


def pg_restart(host: str, pg: PrivatePostgres, rd: PrivateRedis, w: world.World, n: int) -> Row:
    name = "PostgreSQL restart (immediate)"
    health = Health(host)
    with background(health):
        tally = _during(host, w, max(n // 3, 30), _bound(name), pg.restart)
    return Row(name, tally, {}, health)


def pg_frozen(host: str, pg: PrivatePostgres, rd: PrivateRedis, w: world.World, n: int) -> Row:
    name = "PostgreSQL frozen (SIGSTOP, 8 s)"

    def fault() -> None:
        pg.freeze()
        time.sleep(8)
        pg.thaw()

    health = Health(host)
    with background(health):
        tally = _during(host, w, max(n // 3, 30), _bound(name), fault)
    return Row(name, tally, {}, health)


class SmsProbe:
    """Asks for SMS codes (a Redis-only path) every 100 ms: answers must be 202 or an envelope
    within the bound."""

    def __init__(self, host: str, tally: Tally, bound_ms: float) -> None:
        self.host, self.tally, self.bound_ms, self.i = host, tally, bound_ms, 0

    def __call__(self, stop: threading.Event) -> None:
        while not stop.wait(0.1):
            self.i += 1
            phone = f"137{self.i % 10**8:08d}"
            try:
                status, raw, ms = _request(
                    self.host, "POST", "/api/v1/auth/sms-code", {"phone": phone}
                )
            except (OSError, http.client.HTTPException):
                with self.tally.lock:
                    self.tally.dropped += 1
                continue
            if status < 400:
                continue
            code = _error_code(raw)
            if code is None:
                with self.tally.lock:
                    self.tally.not_envelope += 1
                code = f"HTTP {status}"
            self.tally.note_error(f"sms:{code}", ms, self.bound_ms)


def _redis(name: str, fault: Callable[[PrivateRedis], None]) -> Scenario:
    def scenario(host: str, pg: PrivatePostgres, rd: PrivateRedis, w: world.World, n: int) -> Row:
        health = Health(host)
        probe_tally = Tally()
        with background(health), background(SmsProbe(host, probe_tally, _bound(name))):
            tally = _during(host, w, max(n // 3, 30), _bound(name), lambda: fault(rd))
        for code, k in probe_tally.codes.items():
            tally.codes[code] = tally.codes.get(code, 0) + k
        tally.max_error_ms = max(tally.max_error_ms, probe_tally.max_error_ms)
        tally.over_bound += probe_tally.over_bound
        tally.not_envelope += probe_tally.not_envelope
        return Row(name, tally, {}, health)

    return scenario


def _stop_then_start(rd: PrivateRedis) -> None:
    rd.stop()
    time.sleep(5)
    rd.start()


def _freeze(rd: PrivateRedis) -> None:
    rd.freeze()
    time.sleep(5)
    rd.thaw()


def _scan(host: str, auth: dict[str, str], qr_text: str) -> tuple[int, str]:
    """(status, code or "ok"), retrying while the app answers 503 (Redis reconnecting)."""
    for _ in range(20):
        status, raw, _ = _request(host, "POST", "/api/v1/terminal/scan", {"qr_text": qr_text}, auth)
        if status != 503:
            return status, "ok" if status == 200 else str(_error_code(raw))
        time.sleep(0.25)
    return 503, "SERVICE_UNAVAILABLE"


def code_replay(host: str, pg: PrivatePostgres, rd: PrivateRedis, w: world.World, n: int) -> Row:
    """Issue 10, part 3: a code scanned once, Redis restarted empty, the same code again."""
    from faults.run import Till

    name = "Redis restarted empty, the same code scanned again"
    status, raw, _ = _request(
        host,
        "GET",
        "/api/v1/credential/qr",
        headers={"Authorization": f"Bearer {w.user_tokens[0]}"},
    )
    assert status == 200, raw
    qr_text = json.loads(raw)["qr_text"]
    till = Till(host, w)
    first = _scan(host, till.auth, qr_text)
    again = _scan(host, till.auth, qr_text)
    rd.stop()
    rd.start()
    after = _scan(host, till.auth, qr_text)
    notes = f"first {first[1]}, again {again[1]}, after the restart {after[1]}"
    passed = first[0] == 200 and again[0] != 200 and after[0] != 200
    return Row(name, None, {}, extra=notes, passed=passed)


def big_bodies(host: str, pg: PrivatePostgres, rd: PrivateRedis, w: world.World, n: int) -> Row:
    name = "anonymous 60 MiB bodies (8 sized, 2 chunked)"
    tally = Tally()
    bound_ms = _bound(name)
    size = 60 * 1024 * 1024
    chunk = b"x" * (1024 * 1024)
    h, p = host.split(":")

    def send(chunked: bool) -> None:
        with tally.lock:
            tally.orders += 1
            tally.attempts += 1
        t = time.perf_counter()
        head = (
            f"POST /api/v1/auth/login HTTP/1.1\r\nHost: {host}\r\n"
            "Content-Type: application/json\r\n"
            + ("Transfer-Encoding: chunked\r\n" if chunked else f"Content-Length: {size}\r\n")
            + "\r\n"
        ).encode()
        sent = 0
        try:
            with socket.create_connection((h, int(p)), timeout=30) as s:
                s.sendall(head)
                try:
                    while sent < size:
                        s.sendall((b"100000\r\n" + chunk + b"\r\n") if chunked else chunk)
                        sent += len(chunk)
                    if chunked:
                        s.sendall(b"0\r\n\r\n")
                except OSError:
                    pass  # the server stopped reading: its answer may already be there
                r = http.client.HTTPResponse(s)
                r.begin()
                raw = r.read()
        except (OSError, http.client.HTTPException):
            with tally.lock:
                tally.dropped += 1
            return
        ms = (time.perf_counter() - t) * 1000
        code = _error_code(raw)
        if code is None:
            with tally.lock:
                tally.not_envelope += 1
            code = f"HTTP {r.status}"
        tally.note_error(code, ms, bound_ms)
        with tally.lock:
            tally.latencies.append(ms)
            tally.refused += 1

    health = Health(host)
    with background(health):
        time.sleep(0.5)
        threads = [threading.Thread(target=send, args=(i >= 8,)) for i in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        time.sleep(0.5)
    passed = health.failed == 0 and health.max_ms < 1000
    return Row(
        name, tally, {}, health, extra="" if passed else "/healthz failed or slow", passed=passed
    )


def _raw(host: str, request: bytes) -> int:
    h, p = host.split(":")
    with socket.create_connection((h, int(p)), timeout=10) as s:
        s.sendall(request)
        r = http.client.HTTPResponse(s)
        r.begin()
        r.read()
        return r.status


def gunicorn_limits(
    host: str, pg: PrivatePostgres, rd: PrivateRedis, w: world.World, n: int
) -> Row:
    """The limits gunicorn enforces itself (gunicorn.conf.py), before the app: they answer in
    gunicorn's HTML, not the envelope (no setting changes that; the front proxy does it)."""
    name = "gunicorn's own limits (line, header count, header size)"
    line = _raw(host, b"GET /healthz?" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    many = b"".join(b"X-F%d: 1\r\n" % i for i in range(101))
    count = _raw(host, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
    size = _raw(host, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n")
    ok = _raw(host, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Ok: " + b"a" * 8000 + b"\r\n\r\n")
    notes = f"line 5000 B: {line}; 101 headers: {count}; header 9000 B: {size}; 8000 B: {ok}"
    passed = line == 414 and count == 431 and size == 431 and ok == 200
    return Row(name, None, {}, extra=notes, passed=passed)


ALL: list[Scenario] = [
    kill9,
    pg_restart,
    pg_frozen,
    # Before the other Redis restarts: after an empty restart, codes issued before it (their
    # 30-second step included) are refused for up to a minute, by design (docs/operations.md).
    code_replay,
    _redis("Redis stopped 5 s, restarted empty", _stop_then_start),
    _redis("Redis frozen (SIGSTOP, 5 s)", _freeze),
    big_bodies,
    gunicorn_limits,
]
