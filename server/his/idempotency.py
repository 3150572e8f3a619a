"""msgid replay: what "the same request" means, and what a re-sent msgid is answered.

A client re-sends a msgid after a timeout or a 5xx. The msgid log is keyed by
(fixmedins_code, msgid). "The same body" is the fingerprint below: the SHA-256 of the canonical
JSON of the fields that say what is asked, that is infno, fixmedins_code, the two areas and the
input. Left out, because a re-send may change them without changing the request: msgid (the
key), inf_time (re-stamped), sign_no (a re-sign in between), cainfo, dev_safe_info, signtype
(signatures over the new time), opter_type, opter, opter_name, dev_no, infver, recer_sys_code,
fixmedins_name and enc_type. In the input, an object and the string holding it are the same,
and numbers compare by value (12.3 and 12.30 are the same; "12.30" the string is text).

- same key, same fingerprint: the first answer again, byte for byte (decide -> REPLAY);
- same key, another fingerprint: refused with ORDER_NO_CONFLICT (decide -> CONFLICT);
- a transient refusal (codes.TRANSIENT_CODES) is not recorded, so its re-send is tried afresh.
docs/his-interface.md, "Re-sent messages".
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from server.his.codes import TRANSIENT_CODES
from server.his.envelope import Envelope


class Replay(StrEnum):
    NEW = "new"
    REPLAY = "replay"
    CONFLICT = "conflict"


@dataclass(frozen=True)
class Recorded:
    """A msgid log row: the fingerprint of the first request and the bytes answered to it."""

    fingerprint: str
    answer: bytes


def replay_key(env: Envelope) -> tuple[str, str]:
    return env.fixmedins_code, env.msgid


def _canonical(value: Any) -> Any:
    if isinstance(value, Decimal):
        normal = value.normalize()
        return {"$num": format(normal, "f")}  # tagged: the number 12.3 is not the text "12.3"
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return {"$num": str(value)}
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    raise TypeError(f"cannot fingerprint {type(value).__name__}")


def fingerprint(env: Envelope) -> str:
    """SHA-256 (hex) of what the request asks; equal for a faithful re-send."""
    asked = {
        "infno": env.infno,
        "fixmedins_code": env.fixmedins_code,
        "mdtrtarea_admvs": env.mdtrtarea_admvs,
        "insuplc_admdvs": env.insuplc_admdvs,
        "input": _canonical(dict(env.input)),
    }
    text = json.dumps(asked, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def decide(recorded: Recorded | None, env: Envelope) -> Replay:
    """NEW (no row), REPLAY (same fingerprint) or CONFLICT (another request under this msgid)."""
    if recorded is None:
        return Replay.NEW
    return Replay.REPLAY if recorded.fingerprint == fingerprint(env) else Replay.CONFLICT


def is_recordable(code: str | None) -> bool:
    """Whether an answer goes into the msgid log: successes and non-transient refusals."""
    return code is None or code not in TRANSIENT_CODES
