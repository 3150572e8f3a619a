"""The HIS interface's gateway: one callService message in, the answer's bytes out (issue 12).

`call` runs docs/his-interface.md for one parsed envelope: the msgid log (a re-sent msgid gets
the first answer again, another request under it is refused, a reversed one is refused), the
sign-in rule, then the transaction named by `infno` through `HANDLERS`, whose functions live by
group in people (9001/1162/1101), visits (2201/2202/2204/2205), settling (2206/2207),
cancelling (2208), reversal (2601) and reconciliation (3201). Money is fen inside; server/his
writes the yuan. A refusal is an answer (infcode -1), never an exception.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from server.clock import beijing_date
from server.db.models import Institution
from server.errors import AppError
from server.his.envelope import (
    Envelope,
    answer_error,
    answer_input_error,
    answer_ok,
)
from server.his.errors import HisAuthError, HisInputError
from server.his.idempotency import Recorded, Replay, decide, fingerprint, is_recordable
from server.his.money import dumps_answer
from server.his.signature import GatewayCaller, verify_headers
from server.hospital import keys
from server.hospital.cancelling import cancel_settlement
from server.hospital.context import Ctx, Handler
from server.hospital.models import HisMessage, HisSignIn
from server.hospital.people import ec_query, local_qr_code_query, person_info, sign_in
from server.hospital.reconciliation import reconcile
from server.hospital.reversal import reverse
from server.hospital.settling import pre_settle, settle_bill
from server.hospital.visits import cancel_fees, cancel_registration, register, upload_fees
from server.uow import UnitOfWork

# Transactions that need no sign-in: the sign-in itself and the two that only read a patient.
NO_SIGN_IN = frozenset({"9001", "1162", "1101"})


# --- the gateway ----------------------------------------------------------------------------
def authenticate(
    uow: UnitOfWork,
    headers: Mapping[str, str],
    *,
    fixmedins_code: str | None = None,
    infno: str | None = None,
) -> GatewayCaller:
    """Check the `_api_*` headers against the issued keys. Raises HisAuthError (HTTP 401)."""
    session, now, pepper = uow.session, uow.clock.now(), uow.settings.password_pepper
    with session.begin():
        return verify_headers(
            headers,
            key_for=lambda ak: keys.key_for(session, pepper=pepper, access_key=ak, now=now),
            now=now,
            fixmedins_code=fixmedins_code,
            infno=infno,
        )


def call(uow: UnitOfWork, env: Envelope, *, received_at: datetime) -> bytes:
    """Answer one callService message (its bytes): replayed, refused or run. Never raises for a
    business refusal; a bug still raises."""
    session, clock = uow.session, uow.clock
    with session.begin():
        institution_id = session.scalar(
            select(Institution.id).where(Institution.code == env.fixmedins_code)
        )
        row = session.get(HisMessage, (env.fixmedins_code, env.msgid))
        recorded = (
            None
            if row is None or row.answer is None
            else Recorded(str(row.fingerprint), bytes(row.answer))
        )
        is_reversed = row is not None and row.reversed_at is not None
    if is_reversed:
        return _refusal(
            env, "ORDER_NO_CONFLICT", "该报文ID已冲正，不能再办理", clock.now(), received_at
        )
    verdict = decide(recorded, env)
    if verdict is Replay.REPLAY:
        assert recorded is not None
        return recorded.answer
    if verdict is Replay.CONFLICT:
        return _refusal(env, "ORDER_NO_CONFLICT", None, clock.now(), received_at)
    if institution_id is None:
        return _refusal(env, "FORBIDDEN", "未登记的定点医药机构", clock.now(), received_at)

    ctx = Ctx(uow, env, institution_id, clock.now())
    code: str | None = None
    try:
        handler = HANDLERS.get(env.infno)
        if handler is None:
            supported = "、".join(sorted(HANDLERS))
            raise HisInputError("infno", f"不支持的交易 {env.infno}；支持：{supported}")
        if env.infno not in NO_SIGN_IN:
            _check_sign_in(ctx)
        answer = answer_ok(env, handler(ctx), clock.now(), received_at=received_at)
    except HisInputError as exc:
        code = exc.code
        answer = answer_error(env, exc.code, exc.message_zh, clock.now(), received_at=received_at)
    except AppError as exc:
        code = exc.code
        answer = answer_error(env, exc.code, None, clock.now(), received_at=received_at)
    body = dumps_answer(answer)
    if is_recordable(code):
        body = _record(uow, env, body, code, received_at)
    return body


def _refusal(
    env: Envelope, code: str, detail: str | None, now: datetime, received_at: datetime
) -> bytes:
    return dumps_answer(answer_error(env, code, detail, now, received_at=received_at))


def _record(
    uow: UnitOfWork, env: Envelope, body: bytes, code: str | None, received_at: datetime
) -> bytes:
    """Keep the answer under (fixmedins_code, msgid); a twin that recorded first wins."""
    session = uow.session
    try:
        with session.begin():
            session.add(
                HisMessage(
                    fixmedins_code=env.fixmedins_code,
                    msgid=env.msgid,
                    infno=env.infno,
                    fingerprint=fingerprint(env),
                    answer=body,
                    code=code,
                    received_at=received_at,
                )
            )
    except IntegrityError:
        with session.begin():
            row = session.get(HisMessage, (env.fixmedins_code, env.msgid))
            if row is not None and row.answer is not None:
                return bytes(row.answer)
    return body


def refusal_without_envelope(exc: HisInputError, now: datetime) -> bytes:
    """The answer to a request that could not be parsed (nothing is recorded)."""
    return dumps_answer(answer_input_error(exc, None, now))


def _check_sign_in(ctx: Ctx) -> None:
    """A given sign_no must be today's of this institution; a missing one is tolerated when the
    institution signed in today (real clients omit it)."""
    today = beijing_date(ctx.now)
    session = ctx.uow.session
    with session.begin():
        if ctx.env.sign_no is not None:
            row = session.get(HisSignIn, ctx.env.sign_no)
            ok = row is not None and row.institution_id == ctx.institution_id and row.day == today
        else:
            ok = (
                session.scalar(
                    select(HisSignIn.sign_no)
                    .where(HisSignIn.institution_id == ctx.institution_id, HisSignIn.day == today)
                    .limit(1)
                )
                is not None
            )
    if not ok:
        raise HisInputError("sign_no", "签到编号无效或已过期", code="UNAUTHORIZED")


HANDLERS: Mapping[str, Handler] = {
    "9001": sign_in,
    "1162": ec_query,
    "1101": person_info,
    "2201": register,
    "2202": cancel_registration,
    "2204": upload_fees,
    "2205": cancel_fees,
    "2206": pre_settle,
    "2207": settle_bill,
    "2208": cancel_settlement,
    "2601": reverse,
    "3201": reconcile,
}

__all__ = ["HANDLERS", "HisAuthError", "authenticate", "call", "local_qr_code_query"]
