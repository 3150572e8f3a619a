"""The HIS transactions about who is at the counter: 9001, 1162 and 1101 (none needs a sign-in).

9001 signs the institution in for the Beijing day; 1162 (and its stand-alone twin, the
`localQrCodeQuery` endpoint) verifies a scanned EC1 code as every scan is and grants the
institution an ecToken; 1101 answers who the ecToken stands for, with their insurance and
account balance, without using the token up.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import select

from server.clock import beijing_date
from server.credentials.scanning import scan
from server.db.models import Institution
from server.errors import AppError
from server.his import codes
from server.his import transactions as tx
from server.his.envelope import (
    ec_query_answer_error,
    ec_query_answer_ok,
    parse_ec_query,
)
from server.his.errors import HisInputError
from server.his.money import dumps_answer
from server.hospital.context import (
    Ctx,
    _balance,
    _peek_token,
    _serial,
    _wire_time,
    his_terminal_id,
    psn_no,
)
from server.hospital.models import HisSignIn
from server.privacy import mask_id_number
from server.uow import UnitOfWork


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
