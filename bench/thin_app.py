"""The thin reference for settlement: bare Flask + psycopg, the whole transaction in one call of
the PL/pgSQL function `bench_settle` (bench/thin.sql), autocommit, one round trip. What the real
endpoint would cost if it were nothing but its database work. Served by bench/settle.py with
BENCH_THIN_DSN (the scratch database) and BENCH_THIN_SYSTEM ("fund,external,institution" ids)."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from typing import Any

import psycopg
from flask import Flask, request

app = Flask(__name__)
_local = threading.local()
_SYSTEM = [int(x) for x in os.environ.get("BENCH_THIN_SYSTEM", "0,0,0").split(",")]
_CALL = "SELECT bench_settle(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"


def _conn() -> psycopg.Connection[Any]:
    conn = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        conn = _local.conn = psycopg.connect(os.environ["BENCH_THIN_DSN"], autocommit=True)
    return conn


@app.post("/settle/<int:institution_id>/<terminal_id>")
def settle(institution_id: int, terminal_id: str) -> tuple[Any, int]:
    body = request.get_json()
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    token_hash = hashlib.sha256(body["scan_token"].encode()).hexdigest()
    answer = (
        _conn()
        .execute(
            _CALL,
            (
                institution_id,
                terminal_id,
                body["order_no"],
                digest,
                token_hash,
                body["total_fen"],
                body["fund_fen"],
                *_SYSTEM,
            ),
        )
        .fetchone()
    )
    assert answer is not None
    return app.response_class(json.dumps(answer[0]), mimetype="application/json"), 201
