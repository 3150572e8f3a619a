"""The EC1 verifier: genuine codes pass, the first broken step names the error, nothing else."""

from __future__ import annotations

import os
import string
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
import qrcode
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.credentials import cose, ec1
from server.credentials.codec import b45decode, b45encode, cbor_decode, cbor_encode
from server.credentials.keys import KeyRing, ServerKey
from server.errors import (
    KitExpiredError,
    QrExpiredError,
    QrMalformedError,
    QrNotYetValidError,
    QrSignatureInvalidError,
    QrUnsupportedVersionError,
)

QR_ERRORS = (
    QrMalformedError,
    QrUnsupportedVersionError,
    QrSignatureInvalidError,
    QrExpiredError,
    QrNotYetValidError,
    KitExpiredError,
)


def test_a_fresh_code_verifies_with_its_kit_and_code_claims(kit: Any, t0: datetime) -> None:
    text = kit.code(t0)
    verified = ec1.verify_code(text, keys=kit.resolver(), now=t0)
    assert verified.handle == kit.claims.handle
    assert verified.kid == kit.ring.active.kid
    assert verified.presentation.counter == 1
    assert verified.presentation.expires_at - verified.presentation.issued_at == 60
    assert not verified.attestation.is_proxy


def test_a_proxy_code_names_its_presenter(new_kit: Callable[..., Any], t0: datetime) -> None:
    presenter = os.urandom(16)
    kit = new_kit(presenter=presenter)
    verified = ec1.verify_code(kit.code(t0), keys=kit.resolver(), now=t0)
    assert verified.attestation.is_proxy
    assert verified.attestation.presenter == presenter


def test_the_code_holds_no_personal_data_only_random_handles(kit: Any, t0: datetime) -> None:
    outer = cbor_decode(b45decode(kit.code(t0)[4:]))
    claims = cbor_decode(outer[0][2])
    assert set(claims) == {1, 2, 3, 4, 5}
    assert all(not isinstance(v, str) for v in claims.values())


def test_a_code_fits_qr_version_12_at_level_m(kit: Any, t0: datetime) -> None:
    text = kit.code(t0, counter=2**40)
    assert len(text) <= 420
    assert _qr_version(text) <= 12


def test_a_proxy_code_fits_qr_version_13_at_level_m(
    new_kit: Callable[..., Any], t0: datetime
) -> None:
    text = new_kit(presenter=os.urandom(16)).code(t0, counter=2**62)
    assert _qr_version(text) <= 13


def _qr_version(text: str) -> int:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(text)
    qr.make(fit=True)
    version: int = qr.version
    return version


def test_only_a_genuine_code_can_be_expired(kit: Any, t0: datetime) -> None:
    text = kit.code(t0)
    late = t0 + timedelta(minutes=10)
    with pytest.raises(QrExpiredError):
        ec1.verify_code(text, keys=kit.resolver(), now=late)
    with pytest.raises(QrSignatureInvalidError):
        ec1.verify_code(text, keys=lambda kid: [], now=late)


def test_an_expired_kit_is_reported_before_the_code_times(
    new_kit: Callable[..., Any], t0: datetime
) -> None:
    kit = new_kit(at=t0 - timedelta(days=3, seconds=30))
    with pytest.raises(KitExpiredError):
        ec1.verify_code(kit.code(t0), keys=kit.resolver(), now=t0)


def test_a_kit_signed_by_a_rotated_out_key_verifies_while_that_key_is_published(
    new_kit: Callable[..., Any], t0: datetime
) -> None:
    old = ServerKey.generate()
    kit = new_kit(ring=KeyRing(keys=(old,)))
    after_rotation = KeyRing(keys=(old, ServerKey.generate()))
    dropped = KeyRing(keys=(after_rotation.active,))
    text = kit.code(t0)

    def published(ring: KeyRing) -> Any:
        return lambda kid: [k.public_key for k in ring.candidates(kid)]

    assert ec1.verify_code(text, keys=published(after_rotation), now=t0).kid == old.kid
    with pytest.raises(QrSignatureInvalidError):
        ec1.verify_code(text, keys=published(dropped), now=t0)


def test_every_key_under_the_kid_is_tried(kit: Any, t0: datetime) -> None:
    impostor = ServerKey.generate().public_key
    real = kit.ring.active.public_key
    assert ec1.verify_code(kit.code(t0), keys=lambda kid: [impostor, real], now=t0)


def test_a_presentation_of_another_kit_of_the_same_device_is_refused(
    kit: Any, t0: datetime
) -> None:
    other_claims = ec1.AttestationClaims(
        handle=os.urandom(16),
        issued_at=kit.claims.issued_at,
        expires_at=kit.claims.expires_at,
        device_public_key=kit.claims.device_public_key,
    )
    other = ec1.sign_attestation(kit.ring.active.private_key, kit.ring.active.kid_raw, other_claims)
    outer = cbor_decode(b45decode(kit.code(t0)[4:]))
    swapped = "EC1:" + b45encode(cbor_encode([cbor_decode(other), outer[1]]))
    with pytest.raises(QrSignatureInvalidError):
        ec1.verify_code(swapped, keys=kit.resolver(), now=t0)


def test_a_device_cannot_make_a_code_that_lives_longer_than_60_seconds(kit: Any) -> None:
    with pytest.raises(ValueError, match="60"):
        ec1.sign_presentation(
            kit.device,
            kit.attestation,
            ec1.PresentationClaims(code_id=os.urandom(16), issued_at=0, expires_at=61, counter=1),
        )


@pytest.mark.parametrize(
    ("offset", "error"),
    [
        (-31, QrNotYetValidError),
        (-30, None),
        (60 + 29, None),
        (60 + 30, QrExpiredError),
    ],
)
def test_the_verifier_allows_30_seconds_of_skew_and_no_more(
    new_kit: Callable[..., Any], t0: datetime, offset: int, error: type[Exception] | None
) -> None:
    kit = new_kit(at=t0 - timedelta(hours=1))
    text = kit.code(t0)
    issued_at = ec1.parse_code(text).presentation_claims.issued_at
    now = datetime.fromtimestamp(issued_at + offset, t0.tzinfo)
    if error is None:
        ec1.verify_code(text, keys=kit.resolver(), now=now)
    else:
        with pytest.raises(error):
            ec1.verify_code(text, keys=kit.resolver(), now=now)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("EC2:ABC", QrUnsupportedVersionError),
        ("SHC1:ABC", QrUnsupportedVersionError),
        ("ec1:ABC", QrMalformedError),
        ("https://example.org/?EC1:ABC", QrMalformedError),
        ("", QrMalformedError),
        ("EC1:", QrMalformedError),
        ("EC1:" + "0" * 597, QrMalformedError),
    ],
)
def test_prefix_and_length_are_checked_first(text: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        ec1.parse_code(text)


def test_a_long_text_is_refused_before_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def must_not_run(_text: str) -> bytes:
        raise AssertionError("decoded an oversized text")

    monkeypatch.setattr(ec1, "b45decode", must_not_run)
    with pytest.raises(QrMalformedError):
        ec1.parse_code("EC1:" + "A" * 597)


def _mutations(text: str) -> st.SearchStrategy[str]:
    alphabet = string.ascii_uppercase + string.digits + " $%*+-./:" + "a\n"
    return st.tuples(
        st.integers(min_value=0, max_value=len(text) - 1), st.sampled_from(alphabet)
    ).map(lambda change: text[: change[0]] + change[1] + text[change[0] + 1 :])


def test_one_changed_character_is_never_accepted(kit: Any, t0: datetime) -> None:
    text = kit.code(t0)

    @settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(_mutations(text))
    def check(mutated: str) -> None:
        if mutated == text:
            return
        with pytest.raises((QrMalformedError, QrSignatureInvalidError, QrUnsupportedVersionError)):
            ec1.verify_code(mutated, keys=kit.resolver(), now=t0)

    check()


@settings(max_examples=300)
@given(st.text(max_size=700))
def test_any_text_is_a_code_or_a_qr_error(text: str) -> None:
    from datetime import UTC

    now = datetime(2026, 11, 24, tzinfo=UTC)
    try:
        ec1.verify_code(text, keys=lambda kid: [], now=now)
    except QR_ERRORS:
        return
    raise AssertionError("accepted an arbitrary text")


@settings(max_examples=200)
@given(st.binary(max_size=420))
def test_any_bytes_behind_the_prefix_are_a_qr_error(data: bytes) -> None:
    from datetime import UTC

    now = datetime(2026, 11, 24, tzinfo=UTC)
    with pytest.raises(QR_ERRORS):
        ec1.verify_code("EC1:" + b45encode(data), keys=lambda kid: [], now=now)


def test_a_wrong_algorithm_is_an_invalid_signature(kit: Any, t0: datetime) -> None:
    payload = cbor_encode(kit.claims.to_cbor_item())
    protected = cbor_encode({1: -7, 4: kit.ring.active.kid_raw})
    signature = kit.ring.active.private_key.sign(cose.sig_structure(protected, b"", payload))
    attestation = cose.Sign1(protected, payload, signature).encode()
    kit.attestation = attestation
    with pytest.raises(QrSignatureInvalidError, match="signature"):
        ec1.verify_code(kit.code(t0), keys=kit.resolver(), now=t0)
