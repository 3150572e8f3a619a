"""The HIS interface's use cases: one callService message in, the answer's bytes out (issue 12).

`call` runs docs/his-interface.md for one parsed envelope: the msgid log (a re-sent msgid gets
the first answer again, another request under it is refused, a reversed one is refused), the
sign-in rule, then the transaction named by `infno`, each calling the project's services
(`credentials.scanning.scan`, `settlement.service.preview`/`settle`, `settlement.refunds.refund`).
Money is fen inside; server/his writes the yuan. A refusal is an answer (infcode -1), never an
exception.

Who pays (2206/2207): the whole bill goes to settlement with `fund_fen` None, so the benefit
policy computes the fund's share against the person's year (a cross-region bill, for which the
policy has no rule, carries the HIS's own `fund_pay_sumamt`). Settlement pays the personal burden
from the own account, then the family's mutual-aid accounts, then cash (recorded as paid from
outside, as at a till); an `acct_used_flag` that allows fewer accounts than that would draw is
refused, never overridden. docs/his-interface.md, "The fund's share".
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.benefits.service import years_of
from server.clock import BEIJING, beijing_date
from server.credentials.models import ScanToken
from server.credentials.scanning import scan
from server.db.models import Account, Institution, Person
from server.errors import AlreadyRefundedError, AppError, ScanTokenInvalidError
from server.his import codes
from server.his import transactions as tx
from server.his.envelope import (
    Envelope,
    answer_error,
    answer_input_error,
    answer_ok,
    ec_query_answer_error,
    ec_query_answer_ok,
    parse_ec_query,
    text_or_none,
)
from server.his.errors import HisAuthError, HisInputError
from server.his.idempotency import Recorded, Replay, decide, fingerprint, is_recordable
from server.his.money import dumps_answer, fen_to_yuan
from server.his.signature import GatewayCaller, verify_headers
from server.hospital import keys
from server.hospital.models import HisFeeLine, HisMessage, HisSettlement, HisSignIn, HisVisit
from server.privacy import mask_id_number
from server.settlement import rules as settlement_rules
from server.settlement.pricing import SELF
from server.settlement.refunds import refund
from server.settlement.service import SettleRequest, Terminal, look_up, preview, settle
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


# --- one message ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Ctx:
    uow: UnitOfWork
    env: Envelope
    institution_id: int
    now: datetime

    @property
    def code(self) -> str:
        return self.env.fixmedins_code

    @property
    def terminal(self) -> Terminal:
        # Settlements and scan tokens name a terminal; the HIS of an institution is one.
        return Terminal(terminal_id=his_terminal_id(self.code), institution_id=self.institution_id)


def his_terminal_id(fixmedins_code: str) -> str:
    return f"his:{fixmedins_code}"[:36]


Handler = Callable[[Ctx], Mapping[str, Any]]


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


# --- helpers ------------------------------------------------------------------------------
def psn_no(person: Person) -> str:
    """Our 人员编号: P + region + the person's id (what 1101 answers and the rest names)."""
    return f"P{person.region}{person.id:06d}"


def _wire_time(at: datetime) -> str:
    return at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def _serial(prefix: str, at: datetime) -> str:
    return (
        prefix + at.astimezone(BEIJING).strftime("%Y%m%d%H%M%S") + f"{secrets.randbelow(10**8):08d}"
    )


def _peek_token(session: Session, *, token: str, institution_id: int, now: datetime) -> Person:
    """The person a scan token stands for, without using it up (1101, 2201, 2206)."""
    digest = hashlib.sha256(token.encode("utf-8")).hexdigest()
    person_id = session.scalar(
        select(ScanToken.person_id).where(
            ScanToken.token_hash == digest,
            ScanToken.institution_id == institution_id,
            ScanToken.used_at.is_(None),
            ScanToken.expires_at > now,
        )
    )
    person = session.get(Person, person_id) if person_id is not None else None
    if person is None:
        raise ScanTokenInvalidError()
    return person


def _check_person(person: Person, given_psn_no: str | None, insutype: str | None) -> str:
    """The person's insutype, after checking psn_no and insutype agree with the e-credential."""
    if given_psn_no is not None and given_psn_no != psn_no(person):
        raise HisInputError("psn_no", "人员编号与电子凭证不符")
    theirs = codes.insutype_for(person.insurance_type)
    if insutype is not None and insutype != theirs:
        raise HisInputError("insutype", f"参保人的险种类型为 {theirs}，收到 {insutype}")
    return theirs


def _balance(session: Session, person_id: int) -> int:
    balance = session.scalar(select(Account.balance_fen).where(Account.person_id == person_id))
    if balance is None:
        raise HisInputError("psn_no", "参保人没有个人账户", code="NOT_FOUND")
    return int(balance)


def _live_visit(session: Session, ctx: Ctx, mdtrt_id: str) -> HisVisit:
    visit = session.get(HisVisit, mdtrt_id)
    if visit is None or visit.institution_id != ctx.institution_id or visit.cancelled_at:
        raise HisInputError("mdtrt_id", "就诊记录不存在或已撤销", code="NOT_FOUND")
    return visit


def _visit_settled(session: Session, mdtrt_id: str) -> bool:
    return (
        session.scalar(
            select(HisSettlement.setl_id).where(
                HisSettlement.mdtrt_id == mdtrt_id, HisSettlement.cancelled_at.is_(None)
            )
        )
        is not None
    )


# --- 9001 -----------------------------------------------------------------------------------
def sign_in(ctx: Ctx) -> Mapping[str, Any]:
    """9001: a sign_no for this institution, valid for the Beijing day."""
    asked = tx.read_sign_in(ctx.env.input)
    sign_no = _serial("SN", ctx.now)
    session = ctx.uow.session
    with session.begin():
        session.add(
            HisSignIn(
                sign_no=sign_no,
                institution_id=ctx.institution_id,
                opter_no=asked.opter_no[:30],
                day=beijing_date(ctx.now),
                signed_at=ctx.now,
            )
        )
    return tx.sign_in_output(sign_time=_wire_time(ctx.now), sign_no=sign_no)


# --- 1162 / localQrCodeQuery ---------------------------------------------------------------
def decode_ec(
    uow: UnitOfWork, *, payload: Mapping[str, Any], institution_code: str
) -> dict[str, Any]:
    """Verify a scanned EC1 code as every scan is, and grant this institution an ecToken.

    Raises HisInputError and the scan's errors (QR_EXPIRED, QR_ALREADY_USED, ...).
    """
    query = parse_ec_query(payload)
    if query.org_id != institution_code:
        raise HisInputError("orgId", "与定点医药机构编号不一致", code="FORBIDDEN")
    if query.qr_text is None:
        raise HisInputError("ecQrCode", "不能为空")
    session = uow.session
    with session.begin():
        institution_id = session.scalar(
            select(Institution.id).where(Institution.code == institution_code)
        )
    if institution_id is None:
        raise HisInputError("orgId", "未登记的定点医药机构", code="FORBIDDEN")
    scanned = scan(
        uow,
        qr_text=query.qr_text,
        terminal_id=his_terminal_id(institution_code),
        institution_id=institution_id,
    )
    with session.begin():
        person = _peek_token(
            session, token=scanned.scan_token, institution_id=institution_id, now=uow.clock.now()
        )
        region = person.region
        index_no = hashlib.sha256(f"ec-index:{person.id}".encode()).hexdigest()[:32].upper()
    return ec_query_answer_ok(
        user_name_masked=scanned.person.name_masked,
        id_no_masked=scanned.person.id_number_masked,
        ec_token=scanned.scan_token,
        insu_org=region,
        ec_index_no=index_no,
    )


def local_qr_code_query(
    uow: UnitOfWork, *, payload: Mapping[str, Any], institution_code: str
) -> bytes:
    """POST /localcfc/api/hsecfc/localQrCodeQuery: `{code, message, data}`, refusals included."""
    try:
        answer = decode_ec(uow, payload=payload, institution_code=institution_code)
    except HisInputError as exc:
        answer = ec_query_answer_error(exc.code, exc.message_zh)
    except AppError as exc:
        answer = ec_query_answer_error(exc.code, None)
    return dumps_answer(answer)


def ec_query(ctx: Ctx) -> Mapping[str, Any]:
    """1162: the decoder inside the envelope; its output is the decoder's answer."""
    return decode_ec(ctx.uow, payload=ctx.env.input, institution_code=ctx.code)


# --- 1101 -----------------------------------------------------------------------------------
def person_info(ctx: Ctx) -> Mapping[str, Any]:
    """1101: who the ecToken stands for, and their insurance with the account balance."""
    asked = tx.read_person_query(ctx.env.input)
    session = ctx.uow.session
    with session.begin():
        person = _peek_token(
            session, token=asked.ec_token, institution_id=ctx.institution_id, now=ctx.now
        )
        balance = _balance(session, person.id)
        idn = person.id_number
        born = date(int(idn[6:10]), int(idn[10:12]), int(idn[12:14]))
        today = beijing_date(ctx.now)
        age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
        return tx.person_output(
            psn_no=psn_no(person),
            certno_masked=mask_id_number(idn),
            psn_name=person.name,
            gend="1" if int(idn[16]) % 2 else "2",
            brdy=born.isoformat(),
            age=age,
            insurances=[
                tx.Insurance(
                    insutype=codes.insutype_for(person.insurance_type),
                    psn_type=codes.PSN_TYPE_OF_INSURANCE_TYPE[person.insurance_type][0],
                    balance_fen=balance,
                    insured_since=beijing_date(person.created_at).isoformat(),
                    insuplc_admdvs=person.region,
                )
            ],
        )


# --- 2201 / 2202 ----------------------------------------------------------------------------
def register(ctx: Ctx) -> Mapping[str, Any]:
    """2201: an outpatient visit (mdtrt_id) for the person the ecToken stands for."""
    cert = tx.read_person_query(ctx.env.input)
    refs = tx.read_refs(ctx.env.input, required=("psn_no",))
    node = ctx.env.input["data"]
    insutype = codes.check_insutype(text_or_none(node.get("insutype")))
    session = ctx.uow.session
    mdtrt_id = _serial("M", ctx.now)
    with session.begin():
        person = _peek_token(
            session, token=cert.ec_token, institution_id=ctx.institution_id, now=ctx.now
        )
        theirs = _check_person(person, refs.psn_no, insutype)
        session.add(
            HisVisit(
                mdtrt_id=mdtrt_id,
                institution_id=ctx.institution_id,
                person_id=person.id,
                insutype=theirs,
                ipt_otp_no=(refs.ipt_otp_no or "")[:30] or None,
                msgid=ctx.env.msgid,
                registered_at=ctx.now,
            )
        )
        return tx.registration_output(
            mdtrt_id=mdtrt_id, psn_no=psn_no(person), ipt_otp_no=refs.ipt_otp_no or ""
        )


def cancel_registration(ctx: Ctx) -> Mapping[str, Any]:
    """2202: cancel a visit that has no live settlement."""
    refs = tx.read_refs(ctx.env.input, required=("mdtrt_id",))
    assert refs.mdtrt_id is not None
    session = ctx.uow.session
    with session.begin():
        _cancel_visit(session, ctx, refs.mdtrt_id)
    return {}


def _cancel_visit(session: Session, ctx: Ctx, mdtrt_id: str) -> None:
    visit = _live_visit(session, ctx, mdtrt_id)
    if _visit_settled(session, mdtrt_id):
        raise HisInputError("mdtrt_id", "该就诊已结算，请先撤销结算")
    visit.cancelled_at = ctx.now


# --- 2204 / 2205 ----------------------------------------------------------------------------
def upload_fees(ctx: Ctx) -> Mapping[str, Any]:
    """2204: keep the fee lines of live visits of this institution; serials unique per visit."""
    lines = tx.read_fee_details(ctx.env.input)
    session = ctx.uow.session
    with session.begin():
        for mdtrt_id in {line.mdtrt_id for line in lines}:
            _live_visit(session, ctx, mdtrt_id)
            if _visit_settled(session, mdtrt_id):
                raise HisInputError("mdtrt_id", "该就诊已结算，不能再上传明细")
            taken = set(
                session.scalars(
                    select(HisFeeLine.feedetl_sn).where(
                        HisFeeLine.mdtrt_id == mdtrt_id, HisFeeLine.cancelled_at.is_(None)
                    )
                )
            )
            clash = [line.feedetl_sn for line in lines if line.feedetl_sn in taken]
            if clash:
                raise HisInputError("feedetl_sn", f"费用明细流水号已上传：{clash[0][:30]}")
        for line in lines:
            session.add(
                HisFeeLine(
                    mdtrt_id=line.mdtrt_id,
                    chrg_bchno=line.chrg_bchno[:30],
                    feedetl_sn=line.feedetl_sn[:30],
                    med_list_codg=line.med_list_codg[:50],
                    rxno=line.rxno[:30] if line.rxno else None,
                    amount_fen=line.amount_fen,
                    msgid=ctx.env.msgid,
                    uploaded_at=ctx.now,
                )
            )
    return tx.fee_result_output(lines)


def cancel_fees(ctx: Ctx) -> Mapping[str, Any]:
    """2205: cancel a visit's fee lines of one batch (all batches without chrg_bchno)."""
    refs = tx.read_refs(ctx.env.input, required=("mdtrt_id",))
    assert refs.mdtrt_id is not None
    session = ctx.uow.session
    with session.begin():
        _live_visit(session, ctx, refs.mdtrt_id)
        if _visit_settled(session, refs.mdtrt_id):
            raise HisInputError("mdtrt_id", "该就诊已结算，请先撤销结算")
        where = [HisFeeLine.mdtrt_id == refs.mdtrt_id, HisFeeLine.cancelled_at.is_(None)]
        if refs.chrg_bchno is not None:
            where.append(HisFeeLine.chrg_bchno == refs.chrg_bchno)
        done = session.execute(update(HisFeeLine).where(*where).values(cancelled_at=ctx.now))
        if not done.rowcount:  # type: ignore[attr-defined]
            raise HisInputError("chrg_bchno", "没有可撤销的费用明细", code="NOT_FOUND")
    return {}


# --- 2206 / 2207 ----------------------------------------------------------------------------
@dataclass(frozen=True)
class _Bill:
    asked: tx.SettlementRequest
    person_id: int
    psn_no: str
    psn_name: str
    certno_masked: str
    insutype: str
    scene: settlement_rules.Scene
    fund_given_fen: int | None  # the HIS's own share (cross-region only); None: computed
    own_balance_fen: int

    @property
    def who(self) -> tuple[str, str, str]:
        return self.psn_no, self.psn_name, self.certno_masked


def _given_fund(asked: tx.SettlementRequest, scene: settlement_rules.Scene) -> int | None:
    """The fund's share the HIS states, for a cross-region bill only (the policy has no rule for
    it: the place of treatment's decomposition is used as is). Elsewhere it is computed, and a
    stated share other than 0 is refused rather than silently replaced."""
    given = asked.fund_pay_fen
    if scene is settlement_rules.Scene.CROSS_REGION:
        if given is None:
            raise HisInputError("fund_pay_sumamt", "异地就医结算须传入就医地医保分解的基金支付金额")
        if given > asked.medfee_fen - asked.out_of_scope_fen:
            raise HisInputError(
                "fund_pay_sumamt", "基金支付超过政策范围内金额", code="INVALID_AMOUNT"
            )
        return given
    if given:
        raise HisInputError("fund_pay_sumamt", "本地结算的基金支付由中心按待遇政策计算，请勿传入")
    return None


def _has_prescription(session: Session, asked: tx.SettlementRequest) -> bool:
    """外配处方: the bill names a prescription (`rxno`), or a live fee line of its visit (and
    batch) was uploaded with one."""
    if asked.rxno is not None:
        return True
    if asked.mdtrt_id is None:
        return False
    where = [
        HisFeeLine.mdtrt_id == asked.mdtrt_id,
        HisFeeLine.cancelled_at.is_(None),
        HisFeeLine.rxno.is_not(None),
    ]
    if asked.chrg_bchno is not None:
        where.append(HisFeeLine.chrg_bchno == asked.chrg_bchno)
    return session.scalar(select(HisFeeLine.id).where(*where).limit(1)) is not None


def _bill(ctx: Ctx, session: Session) -> _Bill:
    """Read and check a 2206/2207 request: the person, the visit and its fees, the scene."""
    asked = tx.read_settlement(ctx.env.input)
    person = _peek_token(
        session, token=asked.ec_token, institution_id=ctx.institution_id, now=ctx.now
    )
    insutype = _check_person(person, asked.psn_no, asked.insutype)
    if asked.mdtrt_id is not None:
        visit = _live_visit(session, ctx, asked.mdtrt_id)
        if visit.person_id != person.id:
            raise HisInputError("mdtrt_id", "就诊记录不属于该参保人")
        if _visit_settled(session, asked.mdtrt_id):
            raise HisInputError("mdtrt_id", "该就诊已结算")
        where = [HisFeeLine.mdtrt_id == asked.mdtrt_id, HisFeeLine.cancelled_at.is_(None)]
        if asked.chrg_bchno is not None:
            where.append(HisFeeLine.chrg_bchno == asked.chrg_bchno)
        uploaded = session.scalar(
            select(func.coalesce(func.sum(HisFeeLine.amount_fen), 0)).where(*where)
        )
        count = session.scalar(select(func.count()).select_from(HisFeeLine).where(*where))
        if count and int(uploaded or 0) != asked.medfee_fen:
            raise HisInputError(
                "medfee_sumamt",
                f"与已上传明细合计{fen_to_yuan(int(uploaded or 0))}不符",
                code="INVALID_AMOUNT",
            )
    scene = settlement_rules.Scene(
        codes.scene_for(
            asked.med_type,
            has_prescription=_has_prescription(session, asked),
            insuplc_admdvs=ctx.env.insuplc_admdvs,
            mdtrtarea_admvs=ctx.env.mdtrtarea_admvs,
        )
    )
    return _Bill(
        asked=asked,
        person_id=person.id,
        psn_no=psn_no(person),
        psn_name=person.name,
        certno_masked=mask_id_number(person.id_number),
        insutype=insutype,
        scene=scene,
        fund_given_fen=_given_fund(asked, scene),
        own_balance_fen=_balance(session, person.id),
    )


def _request(ctx: Ctx, bill: _Bill) -> SettleRequest:
    """The whole bill, as settlement sees it: fund_fen None lets the policy compute the share."""
    a = bill.asked
    return SettleRequest(
        order_no=ctx.env.msgid,
        scene=bill.scene,
        medium=settlement_rules.Medium.ECREDENTIAL,
        scan_token=a.ec_token,
        card_no=None,
        total_fen=a.medfee_fen,
        fund_fen=bill.fund_given_fen,
        fulamt_ownpay_fen=a.fulamt_ownpay_fen,
        preselfpay_fen=a.preselfpay_fen,
        overlmt_selfpay_fen=a.overlmt_selfpay_fen,
    )


def _check_account_use(use: codes.AccountUse, *, own_fen: int, mutual_aid_fen: int) -> None:
    """Settlement pays the burden from the own account, then the family's mutual-aid accounts,
    then cash; it has no switch for fewer accounts, so a flag that allows fewer than it would
    draw is refused (not overridden)."""
    if not use.uses_own_account and own_fen + mutual_aid_fen:
        raise HisInputError(
            "acct_used_flag",
            "参保人个人账户有余额，将先支付个人负担；暂不支持不使用个人账户，请传1或2",
        )
    if not use.uses_mutual_aid and mutual_aid_fen:
        raise HisInputError(
            "acct_used_flag",
            "本人账户不足，将动用家庭共济账户；请传2（先本人账户，再家庭共济账户）",
        )


@dataclass(frozen=True)
class _Shares:
    """The policy's figures of a bill for setlinfo, in fen."""

    eligible_fen: int  # inscp_scp_amt
    deductible_fen: int  # act_pay_dedc
    pool_prop_selfpay_fen: int  # the ratio's remainder inside the pool


def _shares(
    detail: Mapping[str, Any] | None, *, medfee_fen: int, out_of_scope_fen: int, fund_fen: int
) -> _Shares:
    """inscp_scp_amt, act_pay_dedc and pool_prop_selfpay from the settlement's fund_detail.

    A pooled rule: eligible = deductible + fund + pool_prop_selfpay (the part past the cap is in
    pool_prop_selfpay too). A fixed amount per visit or a share the HIS stated (cross-region):
    no deductible and no ratio, so both are 0.
    """
    if detail is None:
        return _Shares(medfee_fen - out_of_scope_fen, 0, 0)
    eligible = int(detail["eligible_fen"])
    deductible = int(detail["deductible_applied_fen"])
    if detail.get("pool") is None:
        return _Shares(eligible, 0, 0)
    return _Shares(eligible, deductible, eligible - deductible - fund_fen)


def pre_settle(ctx: Ctx) -> Mapping[str, Any]:
    """2206: `settlement.service.preview` of the whole bill: the figures 2207 would give now;
    writes nothing, leaves the ecToken unused."""
    session = ctx.uow.session
    with session.begin():
        bill = _bill(ctx, session)
    a = bill.asked
    quote = preview(ctx.uow, terminal=ctx.terminal, request=_request(ctx, bill))
    own_fen = sum(int(leg["amount_fen"]) for leg in quote.legs if leg["source"] == SELF)
    account_fen = sum(int(leg["amount_fen"]) for leg in quote.legs)
    _check_account_use(a.account_use, own_fen=own_fen, mutual_aid_fen=account_fen - own_fen)
    shares = _shares(
        quote.fund_detail,
        medfee_fen=a.medfee_fen,
        out_of_scope_fen=a.out_of_scope_fen,
        fund_fen=quote.fund_fen,
    )
    return tx.settlement_output(
        tx.Settled(
            mdtrt_id=a.mdtrt_id or "",
            psn_no=bill.psn_no,
            psn_name=bill.psn_name,
            certno_masked=bill.certno_masked,
            insutype=bill.insutype,
            med_type=a.med_type,
            setl_time=_wire_time(ctx.now),
            medfee_fen=a.medfee_fen,
            fund_fen=quote.fund_fen,
            account_fen=account_fen,
            mutual_aid_fen=account_fen - own_fen,
            cash_fen=quote.cash_fen,
            hospital_fen=0,
            balance_fen=bill.own_balance_fen - own_fen,
            fulamt_ownpay_fen=a.fulamt_ownpay_fen,
            overlmt_selfpay_fen=a.overlmt_selfpay_fen,
            preselfpay_fen=a.preselfpay_fen,
            inscp_scp_fen=shares.eligible_fen,
            deductible_fen=shares.deductible_fen,
            pool_prop_selfpay_fen=shares.pool_prop_selfpay_fen,
            medins_setl_id=ctx.env.msgid,
        )
    )


def settle_bill(ctx: Ctx) -> Mapping[str, Any]:
    """2207: `settlement.service.settle` of the whole bill with fund_fen None (the policy's share,
    counted in the person's year), keep the figures, use up the ecToken. The order number is the
    msgid, so a twin settles once."""
    session, uow = ctx.uow.session, ctx.uow
    with session.begin():
        bill = _bill(ctx, session)
    a, use = bill.asked, bill.asked.account_use
    request = _request(ctx, bill)
    if not use.uses_mutual_aid:  # refuse before any money moves, as 2206 does
        quote = preview(uow, terminal=ctx.terminal, request=request)
        own = sum(int(leg["amount_fen"]) for leg in quote.legs if leg["source"] == SELF)
        every = sum(int(leg["amount_fen"]) for leg in quote.legs)
        _check_account_use(use, own_fen=own, mutual_aid_fen=every - own)
    done = settle(uow, terminal=ctx.terminal, request=request).settlement
    try:  # a balance that moved since the preview: undo, never keep a draw the flag forbids
        _check_account_use(
            use, own_fen=int(done.personal_account_fen), mutual_aid_fen=int(done.mutual_aid_fen)
        )
    except HisInputError:
        refund(uow, terminal=ctx.terminal, settlement_id=done.id)
        raise
    fund_fen = int(done.fund_fen)
    account_fen = int(done.personal_account_fen) + int(done.mutual_aid_fen)
    shares = _shares(
        done.fund_detail,
        medfee_fen=a.medfee_fen,
        out_of_scope_fen=a.out_of_scope_fen,
        fund_fen=fund_fen,
    )
    with session.begin():
        row = session.scalar(
            select(HisSettlement).where(
                HisSettlement.institution_id == ctx.institution_id,
                HisSettlement.msgid == ctx.env.msgid,
            )
        )
        if row is None:
            row = HisSettlement(
                setl_id=_serial("S", ctx.now),
                institution_id=ctx.institution_id,
                msgid=ctx.env.msgid,
                person_id=bill.person_id,
                settlement_id=done.id,
                mdtrt_id=a.mdtrt_id,
                med_type=a.med_type,
                insutype=bill.insutype,
                medfee_fen=a.medfee_fen,
                fund_fen=fund_fen,
                account_fen=account_fen,
                mutual_aid_fen=int(done.mutual_aid_fen),
                cash_fen=int(done.cash_fen),
                fulamt_ownpay_fen=a.fulamt_ownpay_fen,
                overlmt_selfpay_fen=a.overlmt_selfpay_fen,
                preselfpay_fen=a.preselfpay_fen,
                inscp_scp_fen=shares.eligible_fen,
                settled_at=ctx.now,
            )
            session.add(row)
            session.flush()
        balance = _balance(session, bill.person_id)
        return tx.settlement_output(_settled(row, bill.who, balance, shares))


def _settled(
    row: HisSettlement,
    who: tuple[str, str, str],
    balance_fen: int,
    shares: _Shares,
    *,
    cancel: bool = False,
) -> tx.Settled:
    psn, name, certno = who
    return tx.Settled(
        setl_id=row.cancel_setl_id if cancel else row.setl_id,
        mdtrt_id=row.mdtrt_id or "",
        psn_no=psn,
        psn_name=name,
        certno_masked=certno,
        insutype=row.insutype,
        med_type=row.med_type,
        setl_time=_wire_time(row.cancelled_at if cancel and row.cancelled_at else row.settled_at),
        medfee_fen=row.medfee_fen,
        fund_fen=row.fund_fen,
        account_fen=row.account_fen,
        mutual_aid_fen=row.mutual_aid_fen,
        cash_fen=row.cash_fen,
        hospital_fen=0,
        balance_fen=balance_fen,
        fulamt_ownpay_fen=row.fulamt_ownpay_fen,
        overlmt_selfpay_fen=row.overlmt_selfpay_fen,
        preselfpay_fen=row.preselfpay_fen,
        inscp_scp_fen=shares.eligible_fen,
        deductible_fen=shares.deductible_fen,
        pool_prop_selfpay_fen=shares.pool_prop_selfpay_fen,
        medins_setl_id=row.msgid,
    )


def _row_shares(uow: UnitOfWork, row: HisSettlement) -> _Shares:
    """The policy's figures of a kept HIS settlement, from its settlement's fund_detail."""
    detail: Mapping[str, Any] | None = None
    if row.settlement_id is not None:
        done, _ = look_up(uow, institution_id=row.institution_id, settlement_id=row.settlement_id)
        detail = done.fund_detail
    out_of_scope = row.fulamt_ownpay_fen + row.overlmt_selfpay_fen + row.preselfpay_fen
    return _shares(
        detail, medfee_fen=row.medfee_fen, out_of_scope_fen=out_of_scope, fund_fen=row.fund_fen
    )


# --- 2208 -----------------------------------------------------------------------------------
_MONEY_KEYS = (
    "medfee_sumamt",
    "fulamt_ownpay_amt",
    "overlmt_selfpay",
    "preselfpay_amt",
    "inscp_scp_amt",
    "act_pay_dedc",
    "pool_prop_selfpay",
    "hifp_pay",
    "fund_pay_sumamt",
    "psn_part_amt",
    "acct_pay",
    "acct_mulaid_pay",
    "psn_cash_pay",
    "hosp_part_amt",
)


def _negated(output: Mapping[str, Any]) -> dict[str, Any]:
    info = dict(output["setlinfo"])
    for key in _MONEY_KEYS:
        value: Decimal = info[key]
        info[key] = -value if value else value
    detail = [{**d, "fund_payamt": -d["fund_payamt"]} for d in output["setldetail"]]
    return {"setlinfo": info, "setldetail": detail}


def _cancel_settlement(ctx: Ctx, row_id: str) -> HisSettlement:
    """Refund the settlement behind a HIS settlement and mark it cancelled, once."""
    session, uow = ctx.uow.session, ctx.uow
    with session.begin():
        row = session.get(HisSettlement, row_id)
        assert row is not None
        if row.cancelled_at is not None:
            raise AlreadyRefundedError()
        settlement_id = row.settlement_id
    if settlement_id is not None:
        refund(uow, terminal=ctx.terminal, settlement_id=settlement_id)
    with session.begin():
        done = session.execute(
            update(HisSettlement)
            .where(HisSettlement.setl_id == row_id, HisSettlement.cancelled_at.is_(None))
            .values(cancelled_at=ctx.now, cancel_setl_id=_serial("C", ctx.now))
        )
        if not done.rowcount:  # type: ignore[attr-defined]
            raise AlreadyRefundedError()
    with session.begin():
        row = session.get(HisSettlement, row_id, populate_existing=True)
        assert row is not None
        session.expunge(row)
        return row


def cancel_settlement(ctx: Ctx) -> Mapping[str, Any]:
    """2208: give every fen back; answer the reversing figures (negated) and the year so far."""
    refs = tx.read_refs(ctx.env.input, required=("setl_id",))
    session = ctx.uow.session
    with session.begin():
        found = session.get(HisSettlement, refs.setl_id)
        if found is None or found.institution_id != ctx.institution_id:
            raise HisInputError("setl_id", "结算记录不存在", code="NOT_FOUND")
        if found.cancelled_at is not None:
            raise AlreadyRefundedError()
        setl_id = found.setl_id
    row = _cancel_settlement(ctx, setl_id)
    shares = _row_shares(ctx.uow, row)
    with session.begin():
        person = session.get(Person, row.person_id)
        assert person is not None
        balance = _balance(session, person.id)
        who = (psn_no(person), person.name, mask_id_number(person.id_number))
        output = _negated(tx.settlement_output(_settled(row, who, balance, shares, cancel=True)))
        output["setlinfo"]["balc"] = fen_to_yuan(balance)
        output["yearinfo"] = _year_totals(ctx.uow, session, person.id, ctx.now)
        return output


def _year_totals(
    uow: UnitOfWork, session: Session, person_id: int, now: datetime
) -> dict[str, Any]:
    """The person's year after the cancellation: their live HIS settlements of the Beijing year
    (every institution's), and per pool the benefit accumulators (`server.benefits`), which
    count every settlement of the year whatever the channel and are what the next bill's
    deductible and cap are computed against."""
    year = beijing_date(now).year
    start = datetime(year, 1, 1, tzinfo=BEIJING)
    count, medfee, fund, account, cash = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(HisSettlement.medfee_fen), 0),
            func.coalesce(func.sum(HisSettlement.fund_fen), 0),
            func.coalesce(func.sum(HisSettlement.account_fen), 0),
            func.coalesce(func.sum(HisSettlement.cash_fen), 0),
        ).where(
            HisSettlement.person_id == person_id,
            HisSettlement.cancelled_at.is_(None),
            HisSettlement.settled_at >= start,
            HisSettlement.settled_at < start.replace(year=year + 1),
        )
    ).one()
    return {
        "year": str(year),
        "setl_cnt": int(count),
        "medfee_sumamt": fen_to_yuan(int(medfee)),
        "fund_pay_sumamt": fen_to_yuan(int(fund)),
        "acct_pay": fen_to_yuan(int(account)),
        "psn_cash_pay": fen_to_yuan(int(cash)),
        "poolinfo": [
            {
                "pool": p.pool,
                "pool_name": uow.policy.pools[p.pool].name if p.pool in uow.policy.pools else None,
                "dedc_used": fen_to_yuan(p.deductible_used_fen),
                "hifp_pay_cum": fen_to_yuan(p.fund_paid_fen),
            }
            for p in years_of(session, person_id=person_id, year=year)
        ],
    }


# --- 2601 -----------------------------------------------------------------------------------
def reverse(ctx: Ctx) -> Mapping[str, Any]:
    """2601: undo what message `omsgid` did (a registration, a fee upload, a settlement).

    A message never seen is remembered as reversed, so that a late arrival of it is refused.
    """
    asked = tx.read_reversal(ctx.env.input)
    session = ctx.uow.session
    key = (ctx.code, asked.omsgid)
    with session.begin():
        row = session.get(HisMessage, key)
        if row is None:
            session.add(
                HisMessage(
                    fixmedins_code=ctx.code,
                    msgid=asked.omsgid,
                    infno=asked.oinfno,
                    received_at=ctx.now,
                    reversed_at=ctx.now,
                )
            )
        else:
            if row.infno != asked.oinfno:
                raise HisInputError("oinfno", f"原报文的交易编号为 {row.infno}")
            if row.reversed_at is not None:
                return {}
    if row is not None and row.code is None:
        _undo(ctx, asked.oinfno, asked.omsgid)
    elif row is None:
        _undo(ctx, asked.oinfno, asked.omsgid)  # settled but its log row lost: undo it too
    with session.begin():
        session.execute(
            update(HisMessage)
            .where(HisMessage.fixmedins_code == ctx.code, HisMessage.msgid == asked.omsgid)
            .values(reversed_at=ctx.now)
        )
    return {}


def _undo(ctx: Ctx, oinfno: str, omsgid: str) -> None:
    session = ctx.uow.session
    if oinfno == "2207":
        with session.begin():
            setl_id = session.scalar(
                select(HisSettlement.setl_id).where(
                    HisSettlement.institution_id == ctx.institution_id,
                    HisSettlement.msgid == omsgid,
                    HisSettlement.cancelled_at.is_(None),
                )
            )
        if setl_id is not None:
            _cancel_settlement(ctx, setl_id)
        return
    with session.begin():
        if oinfno == "2201":
            visit = session.scalar(
                select(HisVisit).where(
                    HisVisit.institution_id == ctx.institution_id,
                    HisVisit.msgid == omsgid,
                    HisVisit.cancelled_at.is_(None),
                )
            )
            if visit is not None:
                _cancel_visit(session, ctx, visit.mdtrt_id)
        else:  # 2204
            lines = list(
                session.scalars(
                    select(HisFeeLine).where(
                        HisFeeLine.msgid == omsgid, HisFeeLine.cancelled_at.is_(None)
                    )
                )
            )
            for line in lines:
                _live_visit(session, ctx, line.mdtrt_id)
                if _visit_settled(session, line.mdtrt_id):
                    raise HisInputError("omsgid", "该就诊已结算，请先撤销结算")
                line.cancelled_at = ctx.now


# --- 3201 -----------------------------------------------------------------------------------
_CLR_TYPE_OF_MED_TYPE_PREFIX = {"1": "11", "2": "21", "4": "41", "5": "11"}


def clr_type_of(med_type: str) -> str:
    """清算类别 of a med_type: 2x and 52 inpatient (21), 41 pharmacy, the rest outpatient (11)."""
    if med_type == "52":
        return "21"
    return _CLR_TYPE_OF_MED_TYPE_PREFIX.get(med_type[:1], "11")


def reconcile(ctx: Ctx) -> Mapping[str, Any]:
    """3201: the institution's totals against ours over the dates (live settlements only)."""
    asked = tx.read_reconciliation(ctx.env.input)
    try:
        begin, end = date.fromisoformat(asked.begin_date), date.fromisoformat(asked.end_date)
    except ValueError:
        raise HisInputError("stmt_begndate", "日期应为 yyyy-MM-dd") from None
    start = datetime(begin.year, begin.month, begin.day, tzinfo=BEIJING)
    stop = datetime(end.year, end.month, end.day, tzinfo=BEIJING) + timedelta(days=1)
    session = ctx.uow.session
    with session.begin():
        rows = session.execute(
            select(
                HisSettlement.med_type,
                HisSettlement.medfee_fen,
                HisSettlement.fund_fen,
                HisSettlement.account_fen,
            ).where(
                HisSettlement.institution_id == ctx.institution_id,
                HisSettlement.insutype == asked.insutype,
                HisSettlement.cancelled_at.is_(None),
                HisSettlement.settled_at >= start,
                HisSettlement.settled_at < stop,
            )
        ).all()
    mine = [r for r in rows if clr_type_of(r.med_type) == asked.clr_type]
    ours = tx.Totals(
        medfee_fen=sum(int(r.medfee_fen) for r in mine),
        fund_fen=sum(int(r.fund_fen) for r in mine),
        account_fen=sum(int(r.account_fen) for r in mine),
        settlement_count=len(mine),
    )
    return tx.reconciliation_output(asked, ours)


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
