"""Typed settings, read from the environment and overridden by the dict given to create_app.

There are no secret defaults: outside TESTING, a missing secret stops the app at start. Under
TESTING every secret is made at random for that app, so no test depends on a fixed key.
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
    sms_backend: str  # "outbox" (testing, demo) or "log"
    face_verifier: str  # "stub" or "package.module:ClassName"
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
    # default (server/settlement/rules.py), or "@path/to/file.json"; checked at start.
    # DOMAIN.md's "when a password is needed" table: JSON of the cells that differ from the
    # default (server/settlement/rules.py), read from "@path" when given so; parsed (and a typo
    # refused) once at start by server/wiring.py.
    password_policy: str = ""
    # The benefit policy file (YAML or JSON, docs/benefit-policy.md); unset: the shipped demo.
    policy_file: str | None = None
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

    sms_backend = str(_get(config, "SMS_BACKEND", "outbox" if testing else "log"))
    if sms_backend not in {"outbox", "log"}:
        raise ConfigError("SMS_BACKEND must be 'outbox' or 'log'")

    redis_url = _get(config, "REDIS_URL") or None
    default_jobs = "inline" if testing else ("rq" if redis_url else "thread")
    jobs_backend = str(_get(config, "JOBS_BACKEND", default_jobs))
    if jobs_backend not in {"inline", "thread", "rq"}:
        raise ConfigError("JOBS_BACKEND must be 'inline', 'thread' or 'rq'")
    if jobs_backend == "rq" and not redis_url:
        raise ConfigError("JOBS_BACKEND=rq needs REDIS_URL")

    known = {f.upper() for f in Settings.__dataclass_fields__}
    return Settings(
        testing=testing,
        database_url=str(database_url),
        redis_url=redis_url,
        jwt_secret_key=secret("JWT_SECRET_KEY"),
        password_pepper=secret("PASSWORD_PEPPER").encode(),
        admin_username=_get(config, "ADMIN_USERNAME"),
        admin_password=_get(config, "ADMIN_PASSWORD"),
        sms_backend=sms_backend,
        face_verifier=str(_get(config, "FACE_VERIFIER", "stub")),
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
        extra={k: v for k, v in config.items() if k not in known},
    )
