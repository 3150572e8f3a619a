"""The reference phone generator: codes made offline from a kit verify, rotate and expire."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from mobile_api.offline import OfflineGenerator
from server.clock import FrozenClock, iso
from server.credentials import ec1
from server.credentials.codec import b64url
from server.credentials.keys import keys_document
from server.errors import KitExpiredError, QrAlreadyUsedError

VERIFIER = Path(__file__).parents[3] / "docs" / "examples" / "verify_qr.py"


def kit_answer(kit: Any, server_time: datetime, with_private_key: bool) -> dict[str, Any]:
    """The shape of POST /api/v1/credential/offline-kit, as the server fills it."""
    answer = {
        "kit_id": kit.claims.handle.hex(),
        "device_attestation": b64url(kit.attestation),
        "expires_at": iso(datetime.fromtimestamp(kit.claims.expires_at, server_time.tzinfo)),
        "server_time": iso(server_time),
    }
    if with_private_key:
        answer["device_private_key"] = b64url(kit.device.private_bytes_raw())
    return answer


def test_a_phone_makes_verifiable_codes_with_no_network(kit: Any, t0: datetime) -> None:
    phone = OfflineGenerator.from_kit(kit_answer(kit, t0, with_private_key=True), received_at=t0)
    code = phone.next_code(t0 + timedelta(hours=5))
    verified = ec1.verify_code(code.qr_text, keys=kit.resolver(), now=t0 + timedelta(hours=5))
    assert verified.handle == kit.claims.handle


def test_a_phone_with_its_own_key_signs_with_it(new_kit: Callable[..., Any], t0: datetime) -> None:
    kit = new_kit()
    phone = OfflineGenerator.from_kit(
        kit_answer(kit, t0, with_private_key=False), received_at=t0, device_key=kit.device
    )
    assert ec1.verify_code(phone.next_code(t0).qr_text, keys=kit.resolver(), now=t0)
    stranger = OfflineGenerator.from_kit(
        kit_answer(kit, t0, with_private_key=False),
        received_at=t0,
        device_key=Ed25519PrivateKey.generate(),
    )
    with pytest.raises(Exception, match="signature"):
        ec1.verify_code(stranger.next_code(t0).qr_text, keys=kit.resolver(), now=t0)


def test_a_phone_clock_five_minutes_slow_still_makes_current_codes(kit: Any, t0: datetime) -> None:
    phone_clock = FrozenClock(t0 - timedelta(minutes=5))
    phone = OfflineGenerator.from_kit(
        kit_answer(kit, t0, with_private_key=True), received_at=phone_clock.now()
    )
    phone_clock.advance(3600)
    code = phone.next_code(phone_clock.now())
    scanner_now = t0 + timedelta(seconds=3600)
    assert ec1.verify_code(code.qr_text, keys=kit.resolver(), now=scanner_now)
    assert code.expires_at - scanner_now <= timedelta(seconds=60)


def test_codes_rotate_every_step_with_a_growing_counter(kit: Any, t0: datetime) -> None:
    phone = OfflineGenerator.from_kit(kit_answer(kit, t0, with_private_key=True), received_at=t0)
    first = phone.next_code(t0)
    second = phone.next_code(t0 + timedelta(seconds=first.refresh_after_seconds))
    assert first.qr_text != second.qr_text
    a = ec1.parse_code(first.qr_text).presentation_claims
    b = ec1.parse_code(second.qr_text).presentation_claims
    assert b.counter > a.counter
    assert b.issued_at == a.issued_at + 30
    assert first.expires_at.timestamp() == a.expires_at


def test_an_expired_kit_makes_no_code(kit: Any, t0: datetime) -> None:
    phone = OfflineGenerator.from_kit(kit_answer(kit, t0, with_private_key=True), received_at=t0)
    with pytest.raises(KitExpiredError):
        phone.next_code(t0 + timedelta(days=3))


def test_the_standalone_verifier_accepts_a_fresh_code_once(kit: Any, t0: datetime) -> None:
    phone = OfflineGenerator.from_kit(kit_answer(kit, t0, with_private_key=True), received_at=t0)
    keys = json.dumps(keys_document(list(kit.ring.keys)))
    sys.path.insert(0, str(VERIFIER.parent))
    try:
        import verify_qr
    finally:
        sys.path.remove(str(VERIFIER.parent))
    verifier = verify_qr.Verifier(json.loads(keys))
    text = phone.next_code(t0).qr_text
    claims = verifier.verify(text, t0.timestamp())
    assert claims["handle"] == kit.claims.handle.hex()
    with pytest.raises(verify_qr.RefusedError) as refused:
        verifier.verify(text, t0.timestamp())
    assert refused.value.code == QrAlreadyUsedError.code


def test_the_standalone_verifier_runs_as_a_script_on_a_fresh_code(
    kit: Any, t0: datetime, tmp_path: Path
) -> None:
    phone = OfflineGenerator.from_kit(kit_answer(kit, t0, with_private_key=True), received_at=t0)
    keys_file = tmp_path / "ecredential-keys.json"
    keys_file.write_text(json.dumps(keys_document(list(kit.ring.keys))))
    text = phone.next_code(t0).qr_text
    done = subprocess.run(  # noqa: S603 - our own script, fixed arguments
        [sys.executable, str(VERIFIER), str(keys_file), text, "--now", str(t0.timestamp())],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,  # nothing of the server is importable from here
        env={"PATH": "", "PYTHONPATH": ""},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["handle"] == kit.claims.handle.hex()
    late = subprocess.run(  # noqa: S603
        [sys.executable, str(VERIFIER), str(keys_file), text, "--now", str(t0.timestamp() + 600)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env={"PATH": "", "PYTHONPATH": ""},
    )
    assert late.returncode == 1
    assert json.loads(late.stdout) == {"error": "QR_EXPIRED"}
