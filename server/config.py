"""Typed settings, read from the environment and overridden by the dict given to create_app.

There are no secret defaults: outside TESTING, a missing secret stops the app at start. Under
TESTING every secret is made at random for that app, so no test depends on a fixed key.

Two modes that cannot be confused (docs/operations.md, "Modes"):
- a playground: TESTING, or DEMO_MODE=1 (given only by `make run` on its own command line). The SMS
  outbox, /api/v1/dev/* and the stub face verifier exist only here;
- production: everything else (`make serve`, gunicorn). SMS_BACKEND must name a real sender and
  FACE_VERIFIER a real vendor's class; the outbox and the stub are refused at start, with the
  reason, because the outbox hands every login code to anyone who asks for it.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_TRUE = {"1", "true", "yes", "on"}


class ConfigError(RuntimeError):
    """The configuration cannot run the app (a secret is missing, a value is malformed)."""


@dataclass(frozen=True)
class Settings:
    testing: bool
    database_url: str
    redis_url: str | None
    jwt_secret_key: str
    password_pepper: bytes
    admin_username: str | None
    admin_password: str | None
    sms_backend: str  # "outbox"/"log" (playground), "http" or "package.module:ClassName"
    face_verifier: str  # "stub" (playground) or "package.module:ClassName"
    jobs_backend: str  # "inline" (testing), "thread" (no Redis) or "rq" (REDIS_URL; `rq worker`)
    signing_key_file: str | None
    signing_keys: str | None  # PEM keys in an environment variable, instead of a file
    access_token_seconds: int = 15 * 60
    refresh_token_seconds: int = 30 * 24 * 3600
    # argon2id cost: about 20-50 ms a check on one core here (docs/operations.md)
    argon2_time_cost: int = 2
    argon2_memory_kib: int = 19456
    mutual_aid_delay_days: int = 0
    # DOMAIN.md's "when a password is needed" table: JSON of the cells that differ from the
    # default (server/settlement/rules.py), read from "@path" when given so; parsed (and a typo
    # refused) once at start by server/wiring.py.
    password_policy: str = ""
    # The benefit policy file (YAML or JSON, docs/benefit-policy.md); unset: the shipped demo.
    policy_file: str | None = None
    # Connections per process on PostgreSQL (gunicorn.conf.py: the worker's threads minus two).
    db_pool_size: int | None = None
    demo_mode: bool = False
    # The HTTP SMS gateway (SMS_BACKEND=http, server/ports/sms_http.py).
    sms_gateway_url: str | None = None
    sms_gateway_key: str | None = None
    sms_gateway_timeout_seconds: float = 3.0
    # Throttles on the anonymous doors (server/web/throttle.py): per 15 minutes for sign-in,
    # per hour for SMS sends from one address across phones.
    throttle_admin_account: int = 5
    throttle_admin_address: int = 30
    throttle_terminal_account: int = 10
    throttle_terminal_address: int = 120
    throttle_sms_address: int = 20
    # REDIS_URL names one node of a Redis Cluster (docs/capacity.md, "Past one machine").
    redis_cluster: bool = False
    proxy_hops: int = 0  # trusted proxies in front (X-Forwarded-For gives the client address)
    # GET /metrics wants `Authorization: Bearer <METRICS_TOKEN>`; without one it is open in a
    # playground only and absent (404) in production (server/metrics.py).
    metrics_token: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _get(config: dict[str, Any], key: str, default: Any = None) -> Any:
    if key in config:
        return config[key]
    return os.environ.get(key, default)


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in _TRUE


def _password_policy(value: Any) -> str:
    """The password table's overrides as JSON text (server/wiring.py parses them at start)."""
    text = value if isinstance(value, str) else json.dumps(value)
    if text.startswith("@"):
        try:
            text = Path(text[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"PASSWORD_POLICY file cannot be read: {exc}") from exc
    return text


_PLAYGROUND_ONLY = (
    "exists only under TESTING or DEMO_MODE=1 (`make run`); a production start refuses it"
)


def _sms_backend(value: Any, *, playground: bool) -> str:
    """SMS_BACKEND, checked against the mode: the outbox would publish every login code."""
    if not value:
        if playground:
            return "outbox"
        raise ConfigError(
            "SMS_BACKEND must be set in production: 'http' (SMS_GATEWAY_URL, SMS_GATEWAY_KEY) "
            "or 'package.module:ClassName' of a real sender (docs/operations.md)"
        )
    backend = str(value)
    if backend in {"outbox", "log"} and not playground:
        raise ConfigError(
            f"SMS_BACKEND={backend} {_PLAYGROUND_ONLY}: the outbox answers every login code to "
            "anyone at /api/v1/dev/sms-outbox, and 'log' delivers nothing"
        )
    if backend not in {"outbox", "log", "http"} and ":" not in backend:
        raise ConfigError("SMS_BACKEND must be 'outbox', 'log', 'http' or 'package.module:Class'")
    return backend


def _face_verifier(value: Any, *, playground: bool) -> str:
    """FACE_VERIFIER, checked against the mode: the stub is no face check at all."""
    if not value:
        if playground:
            return "stub"
        raise ConfigError(
            "FACE_VERIFIER must name a real vendor's adapter in production: "
            "'package.module:ClassName' (docs/operations.md)"
        )
    spec = str(value)
    if spec == "stub" and not playground:
        raise ConfigError(f"FACE_VERIFIER=stub {_PLAYGROUND_ONLY}")
    return spec


def load_settings(config: dict[str, Any] | None = None) -> Settings:
    """Build Settings from the environment, with `config` taking precedence key by key."""
    config = dict(config or {})
    testing = _flag(_get(config, "TESTING", False))

    database_url = _get(config, "DATABASE_URL")
    if not database_url:
        if testing:
            # A fresh, private in-memory database per app (shared-cache so that the
            # short-lived store's own connection sees the same tables).
            database_url = (
                f"sqlite+pysqlite:///file:ec-{secrets.token_hex(8)}"
                "?mode=memory&cache=shared&uri=true"
            )
        else:
            database_url = "sqlite+pysqlite:///instance/ecredential.db"

    def secret(key: str) -> str:
        value = _get(config, key)
        if value:
            return str(value)
        if testing:
            return secrets.token_urlsafe(32)
        raise ConfigError(f"{key} must be set (make run writes instance/dev.env)")

    def number(key: str, default: int) -> int:
        value = _get(config, key, default)
        try:
            return int(value)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{key} must be an integer") from exc

    demo_mode = _flag(_get(config, "DEMO_MODE", False))
    playground = testing or demo_mode
    sms_backend = _sms_backend(_get(config, "SMS_BACKEND"), playground=playground)
    face_verifier = _face_verifier(_get(config, "FACE_VERIFIER"), playground=playground)
    gateway_url = _get(config, "SMS_GATEWAY_URL") or None
    gateway_key = _get(config, "SMS_GATEWAY_KEY") or None
    if sms_backend == "http" and not (gateway_url and gateway_key):
        raise ConfigError("SMS_BACKEND=http needs SMS_GATEWAY_URL and SMS_GATEWAY_KEY")

    redis_url = _get(config, "REDIS_URL") or None
    # REDIS_CLUSTER=1: REDIS_URL names one node of a Redis Cluster (the store then hash-tags its
    # keys, server/ports/store.py). python-rq needs one Redis, so jobs then default to threads.
    redis_cluster = _flag(_get(config, "REDIS_CLUSTER", False))
    if redis_cluster and not redis_url:
        raise ConfigError("REDIS_CLUSTER=1 needs REDIS_URL (a node of the cluster)")
    default_jobs = "inline" if testing else ("rq" if redis_url and not redis_cluster else "thread")
    jobs_backend = str(_get(config, "JOBS_BACKEND", default_jobs))
    if jobs_backend not in {"inline", "thread", "rq"}:
        raise ConfigError("JOBS_BACKEND must be 'inline', 'thread' or 'rq'")
    if jobs_backend == "rq" and not redis_url:
        raise ConfigError("JOBS_BACKEND=rq needs REDIS_URL")
    if jobs_backend == "rq" and redis_cluster:
        raise ConfigError("JOBS_BACKEND=rq needs a single Redis, not REDIS_CLUSTER=1")

    known = {f.upper() for f in Settings.__dataclass_fields__}
    return Settings(
        testing=testing,
        database_url=str(database_url),
        redis_url=redis_url,
        redis_cluster=redis_cluster,
        jwt_secret_key=secret("JWT_SECRET_KEY"),
        password_pepper=secret("PASSWORD_PEPPER").encode(),
        admin_username=_get(config, "ADMIN_USERNAME"),
        admin_password=_get(config, "ADMIN_PASSWORD"),
        sms_backend=sms_backend,
        face_verifier=face_verifier,
        jobs_backend=jobs_backend,
        signing_key_file=_get(config, "SIGNING_KEY_FILE"),
        signing_keys=_get(config, "SIGNING_KEYS"),
        access_token_seconds=min(number("ACCESS_TOKEN_SECONDS", 15 * 60), 15 * 60),
        refresh_token_seconds=number("REFRESH_TOKEN_SECONDS", 30 * 24 * 3600),
        # Tests keep argon2id cheap (the cost is a setting, not a rule); production keeps it slow.
        argon2_time_cost=number("ARGON2_TIME_COST", 1 if testing else 2),
        argon2_memory_kib=number("ARGON2_MEMORY_KIB", 1024 if testing else 19456),
        mutual_aid_delay_days=number("MUTUAL_AID_DELAY_DAYS", 0),
        password_policy=_password_policy(_get(config, "PASSWORD_POLICY", "")),
        policy_file=_get(config, "POLICY_FILE") or None,
        db_pool_size=number("DB_POOL_SIZE", 0) or None,
        demo_mode=demo_mode,
        throttle_admin_account=number("THROTTLE_ADMIN_ACCOUNT", 5),
        throttle_admin_address=number("THROTTLE_ADMIN_ADDRESS", 30),
        throttle_terminal_account=number("THROTTLE_TERMINAL_ACCOUNT", 10),
        throttle_terminal_address=number("THROTTLE_TERMINAL_ADDRESS", 120),
        throttle_sms_address=number("THROTTLE_SMS_ADDRESS", 20),
        proxy_hops=number("PROXY_HOPS", 0),
        metrics_token=_get(config, "METRICS_TOKEN") or None,
        sms_gateway_url=gateway_url,
        sms_gateway_key=gateway_key,
        sms_gateway_timeout_seconds=float(_get(config, "SMS_GATEWAY_TIMEOUT_SECONDS", 3.0)),
        extra={k: v for k, v in config.items() if k not in known},
    )
