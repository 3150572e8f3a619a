"""The short-lived store on a Redis Cluster (issue 14, "past one machine").

The test starts its own three-master cluster (no replicas) on free ports in a temporary
directory, runs the store's behaviour suite from test_store.py against it, restarts one master
empty, and tears the processes down. It skips with a reason when `redis-server` or `redis-cli`
is missing or has no cluster support, and fails instead when TEST_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import inspect
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from server.clock import FrozenClock
from server.clock import epoch_ms as ms
from server.errors import ServiceUnavailableError
from server.ports.store import EPOCH_BUCKETS, RedisStore, epoch_bucket
from tests.conftest import START
from tests.service import test_store as suite

REQUIRE = os.environ.get("TEST_REQUIRE_SERVICES") == "1"


def _unavailable(reason: str) -> None:
    if REQUIRE:
        pytest.fail(f"TEST_REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    """A free port whose cluster bus port (port + 10000) is free too."""
    for _ in range(100):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port + 10000 > 65535:
            continue
        with socket.socket() as bus:
            try:
                bus.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port pair")


def _info(port: int, section: str) -> str:
    """INFO's section or CLUSTER INFO as `name:value` lines, whatever redis-py parses it into."""
    import redis

    with redis.Redis(port=port, socket_timeout=2, decode_responses=True) as r:
        raw: Any = r.execute_command("CLUSTER INFO") if section == "CLUSTER" else r.info(section)
    if isinstance(raw, dict):
        return "\n".join(f"{k}:{v}" for k, v in raw.items())
    return str(raw)


def _wait(check: Callable[[], bool], what: str, seconds: float = 30.0) -> None:
    import redis

    deadline = time.monotonic() + seconds
    last: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (redis.RedisError, OSError) as exc:  # the node is still starting
            last = exc
        time.sleep(0.1)
    raise TimeoutError(f"timed out waiting for {what} (last error: {last!r})")


@dataclass
class LocalCluster:
    """Three masters started by this test: processes, ports and their directory."""

    directory: Path
    server: str
    ports: list[int] = field(default_factory=list)
    processes: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.ports[0]}"

    def start(self, port: int) -> None:
        node_dir = self.directory / str(port)
        node_dir.mkdir(exist_ok=True)
        options = {
            "port": str(port),
            "bind": "127.0.0.1",
            "dir": str(node_dir),
            "cluster-enabled": "yes",
            "cluster-config-file": "nodes.conf",
            "cluster-node-timeout": "3000",
            "save": "",
            "appendonly": "no",
            "daemonize": "no",
            "protected-mode": "no",
            "logfile": str(node_dir / "redis.log"),
        }
        args = [self.server] + [a for k, v in options.items() for a in (f"--{k}", v)]
        self.processes[port] = subprocess.Popen(  # noqa: S603 - redis-server, fixed arguments
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        _wait(lambda: "cluster_enabled:1" in _info(port, "cluster"), f"redis on {port}")

    def stop(self, port: int) -> None:
        process = self.processes.pop(port)
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def wait_ok(self) -> None:
        for port in self.ports:
            _wait(lambda p=port: "cluster_state:ok" in _info(p, "CLUSTER"), f"{port} ok")

    def owner_of_slot(self, slot: int) -> int:
        import redis

        with redis.Redis(port=self.ports[0]) as r:
            for start, end, primary, *_ in r.execute_command("CLUSTER SLOTS"):
                if int(start) <= slot <= int(end):
                    return int(primary[1])
        raise LookupError(slot)

    def close(self) -> None:
        for port in list(self.processes):
            self.stop(port)


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    server, cli = shutil.which("redis-server"), shutil.which("redis-cli")
    if not server or not cli:
        _unavailable("redis-server and redis-cli are needed for the Redis Cluster test")
    assert server and cli
    version = subprocess.run(  # noqa: S603 - redis-server --version
        [server, "--version"], capture_output=True, text=True
    ).stdout
    major = int(version.split("v=")[1].split(".")[0]) if "v=" in version else 0
    if major < 5:  # `redis-cli --cluster create` arrived in Redis 5
        _unavailable(f"redis-server without `redis-cli --cluster` support: {version.strip()}")
    with tempfile.TemporaryDirectory(prefix="ec-redis-cluster-") as tmp:
        local = LocalCluster(Path(tmp), server)
        try:
            for _ in range(3):
                port = _free_port()
                local.ports.append(port)
                local.start(port)
            create = subprocess.run(  # noqa: S603 - redis-cli, fixed arguments
                [cli, "--cluster", "create"]
                + [f"127.0.0.1:{p}" for p in local.ports]
                + ["--cluster-replicas", "0", "--cluster-yes"],
                capture_output=True,
                text=True,
                timeout=60,
            )
            if create.returncode != 0:
                _unavailable(f"redis-cli --cluster create failed: {create.stdout}{create.stderr}")
            local.wait_ok()
            yield local
        finally:
            local.close()


def _store(cluster: LocalCluster, clock: FrozenClock) -> RedisStore:
    # A prefix of its own per store: the tests share the module's cluster.
    return RedisStore(cluster.url, clock, prefix=f"t{uuid.uuid4().hex[:8]}:", cluster=True)


@pytest.fixture
def store(cluster: LocalCluster, clock: FrozenClock) -> Iterator[RedisStore]:
    s = _store(cluster, clock)
    yield s
    s.close()


BEHAVIOUR = [
    suite.test_counter_counts_and_expires_on_the_app_clock,
    suite.test_add_sets_only_once_until_expiry,
    suite.test_delete_reports_only_live_keys,
    suite.test_decr_never_goes_below_zero,
]


@pytest.mark.redis_cluster
@pytest.mark.parametrize("behaviour", BEHAVIOUR, ids=lambda f: f.__name__)
def test_store_behaviour_on_the_cluster(behaviour: Any, store: RedisStore, clock: FrozenClock):
    fixtures = {"store": store, "clock": clock}
    behaviour(**{name: fixtures[name] for name in inspect.signature(behaviour).parameters})


@pytest.mark.redis_cluster
def test_add_is_atomic_under_many_threads_on_the_cluster(store: RedisStore):
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda _: store.add("race", "1", 60), range(64)))
    assert results.count(True) == 1


@pytest.mark.redis_cluster
def test_keys_spread_over_the_masters_and_keep_their_marker_in_their_slot(
    cluster: LocalCluster, store: RedisStore
):
    from redis.crc import key_slot

    keys = [f"used:{i}" for i in range(300)]
    owners = {cluster.owner_of_slot(key_slot(store._k(k).encode())) for k in keys}
    assert owners == set(cluster.ports)  # all three masters hold some
    for k in keys:
        assert key_slot(store._k(k).encode()) == key_slot(store._marker(k).encode())
    # A delete over many buckets (many slots) still claims each live key once.
    for k in keys[:20]:
        store.put(k, "v", 60)
    assert store.delete(*keys[:30]) == 20
    assert store.delete(*keys[:30]) == 0


def _eventually(call: Callable[[], Any]) -> Any:
    """The call once the client has found the restarted node (it fails closed until then)."""
    deadline = time.monotonic() + 30
    while True:
        try:
            return call()
        except ServiceUnavailableError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.mark.redis_cluster
def test_a_master_restarted_empty_refuses_its_slots_codes_only(cluster: LocalCluster):
    from redis.crc import key_slot

    clock = FrozenClock(START)
    store = _store(cluster, clock)
    try:
        restarted = cluster.ports[1]

        def on(port: int, n: int = 2) -> list[str]:
            found = []
            for i in range(EPOCH_BUCKETS * 4):
                key, slot_key = f"used:{i}", store._k(f"used:{i}").encode()
                if cluster.owner_of_slot(key_slot(slot_key)) == port and all(
                    epoch_bucket(key) != epoch_bucket(f) for f in found
                ):
                    found.append(key)
                if len(found) == n:
                    return found
            raise LookupError(port)

        lost, lost_other_bucket = on(restarted)
        (kept,) = on(cluster.ports[0], 1)
        issued = ms(clock.now())
        assert store.add(lost, "kit", 60)
        assert store.add(kept, "kit", 60)
        assert store.accepts_code_issued_at(issued, lost)
        assert store.accepts_code_issued_at(issued, kept)

        clock.advance(20)
        cluster.stop(restarted)
        cluster.start(restarted)  # same nodes.conf: it takes its slots back, empty
        cluster.wait_ok()

        assert _eventually(lambda: store.get(kept)) == "kit"  # the other masters remember
        assert not store.add(kept, "kit", 60)
        assert _eventually(lambda: store.get(lost)) is None  # its used-code record is gone...
        # ...so a code issued before the restart is refused on that master's slots only.
        assert not store.accepts_code_issued_at(issued, lost)
        assert store.accepts_code_issued_at(issued, kept)
        # Every bucket of that master got its new epoch at the first sign, not one by one.
        assert store.started_at_ms(lost_other_bucket) == ms(clock.now())
        assert store.started_at_ms(kept) == issued
        assert store.accepts_code_issued_at(ms(clock.now()), lost)
    finally:
        store.close()


def test_a_cluster_that_cannot_answer_fails_closed(clock: FrozenClock):
    broken = RedisStore("redis://127.0.0.1:1", clock, cluster=True)  # the start does not fail
    try:
        for call in (
            lambda: broken.incr("x", 1),
            lambda: broken.add("x", "1", 1),
            lambda: broken.get("x"),
            lambda: broken.delete("x", "y"),
            lambda: broken.accepts_code_issued_at(0, "x"),
            broken.ping,
        ):
            with pytest.raises(ServiceUnavailableError):
                call()
    finally:
        broken.close()
