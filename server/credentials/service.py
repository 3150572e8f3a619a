"""Credential use cases. Issue 4 fills in kits, codes and scanning; the signatures below are the
interface that activation (issue 3) and settlement (issue 5) code against."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from server.db.models import Credential
from server.errors import ScanTokenInvalidError


@dataclass(frozen=True)
class ScanGrant:
    """What a redeemed scan token says: whose accounts pay, and who presented the code."""

    person_id: int
    presented_by_user_id: int | None
    relation: str | None


def create_credential(
    session: Session, *, person_id: int, user_id: int, now: datetime
) -> Credential:
    """A new active credential for a person; call inside the caller's transaction."""
    credential = Credential(
        id=str(uuid.uuid4()),
        person_id=person_id,
        user_id=user_id,
        status="active",
        activated_at=now,
    )
    session.add(credential)
    session.flush()
    return credential


def issue_offline_kit(
    session: Session, *, credential: Credential, now: datetime, device_public_key: bytes | None
) -> dict[str, Any]:
    """The offline kit returned with activation; TODO(issue 4): device attestation."""
    return {}


def redeem_scan_token(
    session: Session, *, token: str, institution_id: int, now: datetime
) -> ScanGrant:
    """Use up a scan token inside the caller's transaction; TODO(issue 4)."""
    raise ScanTokenInvalidError()
