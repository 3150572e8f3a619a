"""The app's collaborators in one typed place: settings, clock, database and ports.

`build_wiring` makes them once per process (the web app, a `flask` command, an rq worker);
`Wiring.unit_of_work()` hands a use case one session and the ports it may touch. Nothing here
imports Flask: the request's unit of work lives in server/web/context.py.

DOMAIN.md: none: the app's assembly.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from server.accounts.passwords import PasswordHasher
from server.benefits.policy import Policy, PolicyError, load_configured_policy
from server.clock import Clock
from server.config import ConfigError, Settings
from server.credentials.keys import KeySource, key_source
from server.db import Database
from server.ports.face import FaceVerifier, load_face_verifier
from server.ports.jobs import InlineJobs, Jobs, RqJobs, ThreadJobs
from server.ports.sms import QueuedSmsSender, SmsSender, job_cipher, load_sms_sender
from server.ports.store import DatabaseStore, RedisStore, RoutingStore, ShortLivedStore
from server.settlement.rules import PasswordPolicy, load_password_policy
from server.uow import UnitOfWork

log = logging.getLogger(__name__)


@dataclass
class Wiring:
    settings: Settings
    clock: Clock
    db: Database
    store: ShortLivedStore
    sms: SmsSender  # what use cases call: the queue in production, the outbox in a playground
    sms_delivery: SmsSender  # the sender itself, called by the "send_sms" job
    face: FaceVerifier
    hasher: PasswordHasher
    keys: KeySource
    jobs: Jobs
    password_policy: PasswordPolicy
    policy: Policy

    def unit_of_work(self, session: Session | None = None) -> UnitOfWork:
        """A unit of work on `session`, or on a new one (opened on first use) that the caller
        closes."""
        return UnitOfWork(
            opened=session,
            sessions=self.db.sessions,
            clock=self.clock,
            store=self.store,
            hasher=self.hasher,
            keys=self.keys,
            sms=self.sms,
            face=self.face,
            jobs=self.jobs,
            password_policy=self.password_policy,
            policy=self.policy,
            settings=self.settings,
            is_postgres=self.db.is_postgres,
        )

    def run_job(self, task: str, kwargs: dict[str, Any]) -> None:
        """Run one queued task with a fresh unit of work (server/jobs.py names the tasks)."""
        from server.jobs import run

        with self.unit_of_work() as uow:
            uow.sms = self.sms_delivery  # a job delivers; it never queues again
            run(uow, task, kwargs)

    def close(self) -> None:
        """Release the queue, the database pool and the store's connections."""
        self.jobs.close()
        self.store.close()
        self.db.dispose()


def _password_policy(text: str) -> PasswordPolicy:
    try:
        return load_password_policy(text)
    except ValueError as exc:  # a mistyped table must stop the start, not ask no password
        raise ConfigError(str(exc)) from exc


def _benefit_policy(policy_file: str | None) -> Policy:
    try:
        policy = load_configured_policy(policy_file)
    except PolicyError as exc:  # a typo in the policy must stop the start, naming the line
        raise ConfigError(f"POLICY_FILE: {exc}") from exc
    if policy.is_demo:
        log.warning("benefit policy %r is a DEMO policy (set POLICY_FILE)", policy.name)
    return policy


def build_wiring(settings: Settings, clock: Clock) -> Wiring:
    db = Database(settings.database_url, pool_size=settings.db_pool_size)
    # With Redis, locks, wrong-entry counts and revocations still live in the database.
    store: ShortLivedStore = (
        RoutingStore(
            durable=DatabaseStore(db.engine, clock),
            fast=RedisStore(settings.redis_url, clock, cluster=settings.redis_cluster),
        )
        if settings.redis_url
        else DatabaseStore(db.engine, clock)
    )
    sms: SmsSender = load_sms_sender(
        settings.sms_backend,
        clock,
        url=settings.sms_gateway_url,
        key=settings.sms_gateway_key,
        timeout_seconds=settings.sms_gateway_timeout_seconds,
    )
    w = Wiring(
        settings=settings,
        clock=clock,
        db=db,
        store=store,
        sms=sms,
        sms_delivery=sms,
        face=load_face_verifier(settings.face_verifier),
        hasher=PasswordHasher(
            settings.password_pepper,
            time_cost=settings.argon2_time_cost,
            memory_kib=settings.argon2_memory_kib,
        ),
        keys=key_source(
            signing_key_file=settings.signing_key_file,
            signing_keys=settings.signing_keys,
            testing=settings.testing,
        ),
        jobs=InlineJobs(lambda task, kwargs: None),
        password_policy=_password_policy(settings.password_policy),
        policy=_benefit_policy(settings.policy_file),
    )
    if settings.jobs_backend == "rq":
        assert settings.redis_url is not None
        w.jobs = RqJobs(settings.redis_url)
    elif settings.jobs_backend == "thread":
        w.jobs = ThreadJobs(w.run_job)
    else:
        w.jobs = InlineJobs(w.run_job)
    if settings.sms_backend not in {"outbox", "log"}:  # a real gateway: never inside a request
        w.sms = QueuedSmsSender(w.jobs, job_cipher(settings.password_pepper))
    return w
