"""Tables of the HIS interface (issue 12; docs/his-interface.md).

- `his_keys`: one gateway access key per institution. The secret must be readable to verify an
  HmacSHA1, so it cannot be hashed: it is encrypted (Fernet, with a key derived from
  PASSWORD_PEPPER by HKDF). During a rotation the previous secret keeps working until
  `previous_until`.
- `his_messages`: the msgid log, keyed by (fixmedins_code, msgid): the first answer's bytes, or a
  tombstone (`reversed_at` with no answer) when a 2601 reversed a msgid never seen.
- `his_sign_ins`: 9001 sign-ins, valid for the Beijing day.
- `his_visits`, `his_fee_lines`: 2201 registrations and 2204 fee lines (cancelled, not deleted).
- `his_settlements`: one 2207 with every figure in fen, linked to the settlement that moved the
  money (none when the fund and the accounts pay nothing).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base
from server.db.types import UtcDateTime


class HisKey(Base):
    __tablename__ = "his_keys"
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), primary_key=True)
    access_key: Mapped[str] = mapped_column(String(64), unique=True)
    secret_encrypted: Mapped[str] = mapped_column(Text)
    previous_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    previous_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime)


class HisMessage(Base):
    __tablename__ = "his_messages"
    fixmedins_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    msgid: Mapped[str] = mapped_column(String(30), primary_key=True)
    infno: Mapped[str] = mapped_column(String(4))
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    answer: Mapped[bytes | None] = mapped_column(LargeBinary)
    code: Mapped[str | None] = mapped_column(String(40))  # None for a success
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    reversed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class HisSignIn(Base):
    __tablename__ = "his_sign_ins"
    __table_args__ = (Index("ix_his_sign_ins_institution_id_day", "institution_id", "day"),)
    sign_no: Mapped[str] = mapped_column(String(30), primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    opter_no: Mapped[str] = mapped_column(String(30))
    day: Mapped[date] = mapped_column(Date)
    signed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class HisVisit(Base):
    __tablename__ = "his_visits"
    mdtrt_id: Mapped[str] = mapped_column(String(30), primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    insutype: Mapped[str] = mapped_column(String(6))
    ipt_otp_no: Mapped[str | None] = mapped_column(String(30))
    msgid: Mapped[str] = mapped_column(String(30))
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class HisFeeLine(Base):
    __tablename__ = "his_fee_lines"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mdtrt_id: Mapped[str] = mapped_column(ForeignKey("his_visits.mdtrt_id"), index=True)
    chrg_bchno: Mapped[str] = mapped_column(String(30))
    feedetl_sn: Mapped[str] = mapped_column(String(30))
    med_list_codg: Mapped[str] = mapped_column(String(50))
    rxno: Mapped[str | None] = mapped_column(String(30))  # a prescription's line (外配处方)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    msgid: Mapped[str] = mapped_column(String(30))
    uploaded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class HisSettlement(Base):
    __tablename__ = "his_settlements"
    __table_args__ = (
        Index("ix_his_settlements_institution_id_settled_at", "institution_id", "settled_at"),
        Index("ix_his_settlements_institution_id_msgid", "institution_id", "msgid", unique=True),
        Index("ix_his_settlements_person_id_settled_at", "person_id", "settled_at"),
    )
    setl_id: Mapped[str] = mapped_column(String(30), primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    msgid: Mapped[str] = mapped_column(String(30))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    settlement_id: Mapped[str | None] = mapped_column(ForeignKey("settlements.id"))
    mdtrt_id: Mapped[str | None] = mapped_column(String(30))
    med_type: Mapped[str] = mapped_column(String(6))
    insutype: Mapped[str] = mapped_column(String(6))
    medfee_fen: Mapped[int] = mapped_column(BigInteger)
    fund_fen: Mapped[int] = mapped_column(BigInteger)
    account_fen: Mapped[int] = mapped_column(BigInteger)  # own account and mutual aid
    mutual_aid_fen: Mapped[int] = mapped_column(BigInteger)
    cash_fen: Mapped[int] = mapped_column(BigInteger)
    fulamt_ownpay_fen: Mapped[int] = mapped_column(BigInteger)
    overlmt_selfpay_fen: Mapped[int] = mapped_column(BigInteger)
    preselfpay_fen: Mapped[int] = mapped_column(BigInteger)
    inscp_scp_fen: Mapped[int] = mapped_column(BigInteger)
    settled_at: Mapped[datetime] = mapped_column(UtcDateTime)
    cancel_setl_id: Mapped[str | None] = mapped_column(String(30))
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
