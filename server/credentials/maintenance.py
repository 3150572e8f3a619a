"""Housekeeping of the credential tables: expired scan tokens and offline kits.

A scan makes one scan-token row; kits are made at activation and on request. Neither is needed
once expired: a scan token past its 10 minutes is refused by its time, and a code from an expired
kit is refused by its signed attestation's expiry (KIT_EXPIRED) before any row is read. So rows
expired for more than `keep_days` are deleted; no answer changes.

DOMAIN.md: "The e-credential".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from server.credentials.models import OfflineKit, ScanToken


@dataclass(frozen=True)
class Purged:
    scan_tokens: int
    offline_kits: int


def purge_expired(session: Session, *, now: datetime, keep_days: int = 1) -> Purged:
    """Delete scan tokens and kits that expired more than `keep_days` before `now`."""
    cutoff = now - timedelta(days=keep_days)
    with session.begin():
        tokens = session.execute(delete(ScanToken).where(ScanToken.expires_at < cutoff))
        still_referenced = exists(select(ScanToken.kit_id).where(ScanToken.kit_id == OfflineKit.id))
        kits = session.execute(
            delete(OfflineKit).where(OfflineKit.expires_at < cutoff, ~still_referenced)
        )
    return Purged(int(tokens.rowcount or 0), int(kits.rowcount or 0))  # type: ignore[attr-defined]
