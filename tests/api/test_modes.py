"""Two modes that cannot be confused: the playground (TESTING, DEMO_MODE) and production.

Issue 10, findings 1, 2 and 9: `make serve` loaded SMS_BACKEND=outbox from instance/dev.env and
GET /api/v1/dev/sms-outbox answered anyone; dev.env overrode DATABASE_URL and REDIS_URL; the stub
face verifier was the silent default.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from server import create_app
from server.config import ConfigError, load_settings
from server.devsetup import dev_env_lines, exports, main, read_env_file

ROOT = Path(__file__).resolve().parents[2]
REAL = {
    "SMS_BACKEND": "tests.fakes:RecordingSmsSender",
    "FACE_VERIFIER": "tests.fakes:RefusingFaceVerifier",
}


def production(**overrides: Any) -> dict[str, Any]:
    return {
        "DATABASE_URL": "sqlite+pysqlite:///file:ec-modes?mode=memory&cache=shared&uri=true",
        "JWT_SECRET_KEY": "j" * 32,
        "PASSWORD_PEPPER": "p" * 32,
        "SIGNING_KEYS": "",
        "JOBS_BACKEND": "inline",
        **REAL,
        **overrides,
    }


def test_dev_env_never_chooses_a_mode(tmp_path):
    lines = "\n".join(dev_env_lines(tmp_path))
    assert "SMS_BACKEND" not in lines
    assert "DEMO_MODE" not in lines
    assert "FACE_VERIFIER" not in lines


@pytest.mark.parametrize("backend", ["outbox", "log"])
def test_production_refuses_the_outbox_and_says_why(backend):
    with pytest.raises(ConfigError, match=r"TESTING or DEMO_MODE"):
        load_settings(production(SMS_BACKEND=backend))


def test_production_refuses_the_stub_face_verifier():
    with pytest.raises(ConfigError, match=r"FACE_VERIFIER=stub"):
        load_settings(production(FACE_VERIFIER="stub"))


@pytest.mark.parametrize("missing", ["SMS_BACKEND", "FACE_VERIFIER"])
def test_production_has_no_silent_default_sender_or_verifier(missing):
    config = production()
    del config[missing]
    env = {k: v for k, v in os.environ.items() if k != missing}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(os, "environ", env)
        with pytest.raises(ConfigError, match=missing):
            load_settings(config)


def test_a_make_serve_start_with_the_dev_env_refuses_to_boot(tmp_path):
    """`make serve` loads instance/dev.env and nothing else: production mode, no demo parts."""
    env_file = tmp_path / "dev.env"
    env_file.write_text("\n".join(dev_env_lines(tmp_path)) + "\nSMS_BACKEND=outbox\n")
    config = read_env_file(env_file.read_text())
    with pytest.raises(ConfigError, match="outbox"):
        load_settings(config)


def test_the_outbox_route_does_not_exist_in_production(tmp_path, capsys):
    main(str(tmp_path / "dev.env"))  # makes a signing key
    key_file = str(tmp_path / "signing-keys.pem")
    app = create_app(production(SIGNING_KEY_FILE=key_file, TESTING=False))
    try:
        r = app.test_client().get("/api/v1/dev/sms-outbox?phone=13900000302")
        assert r.status_code == 404
        assert r.get_json()["error"]["code"] == "NOT_FOUND"
    finally:
        app.extensions["wiring"].close()


def test_demo_mode_keeps_the_outbox_and_the_stub():
    settings = load_settings(
        {"DEMO_MODE": "1", "JWT_SECRET_KEY": "j", "PASSWORD_PEPPER": "p", "DATABASE_URL": "x"}
    )
    assert (settings.sms_backend, settings.face_verifier) == ("outbox", "stub")


def test_the_environment_wins_over_the_dev_env_file():
    text = "DATABASE_URL=sqlite:///dev.db\nREDIS_URL=redis://dev\nJWT_SECRET_KEY=x y\n"
    out = exports(text, {"DATABASE_URL": "postgresql://prod", "REDIS_URL": "redis://prod"})
    assert out == "export JWT_SECRET_KEY='x y'\n"


def test_make_serves_shell_line_keeps_the_callers_database_and_redis(tmp_path):
    env_file = tmp_path / "dev.env"
    env_file.write_text("\n".join(dev_env_lines(tmp_path)) + "\nREDIS_URL=redis://file\n")
    script = (
        f'eval "$({sys.executable} -m server.devsetup --export {env_file})" && '
        'echo "$DATABASE_URL|$REDIS_URL|${JWT_SECRET_KEY:+set}"'
    )
    env = {**os.environ, "DATABASE_URL": "postgresql://mine", "REDIS_URL": "redis://mine"}
    out = subprocess.run(  # noqa: S603
        ["/bin/sh", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "postgresql://mine|redis://mine|set"


def test_gunicorn_refuses_demo_mode():
    env = {**os.environ, "DEMO_MODE": "1"}
    r = subprocess.run(
        [sys.executable, "-c", "import runpy; runpy.run_path('gunicorn.conf.py')"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert r.returncode != 0
    assert "refuses DEMO_MODE" in r.stderr
