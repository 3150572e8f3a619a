"""The gateway signature headers: HmacSHA1 over the four sorted k=v pairs, Base64."""

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from server.his.errors import HisAuthError
from server.his.signature import (
    HisKey,
    infno_of_api_name,
    sign_headers,
    signature,
    string_to_sign,
    verify_headers,
)

NOW = datetime(2026, 1, 15, 1, 30, tzinfo=UTC)
NEW_SECRET, OLD_SECRET = "sk-new", "sk-old"
KEY = HisKey(access_key="ak-h1", fixmedins_code="H11010800001", secrets=(NEW_SECRET, OLD_SECRET))
KEYS = {KEY.access_key: KEY}


def headers(secret=NEW_SECRET, api_name="api_2207", at=NOW, access_key="ak-h1"):
    return sign_headers(access_key=access_key, secret=secret, api_name=api_name, now=at)


def verify(h, **kw):
    kw.setdefault("fixmedins_code", "H11010800001")
    kw.setdefault("infno", "2207")
    return verify_headers(h, key_for=KEYS.get, now=NOW, **kw)


def test_the_string_to_sign_is_the_four_pairs_sorted_and_joined_by_ampersands():
    assert string_to_sign(access_key="A", api_name="N", timestamp="1", version="1.0.0") == (
        "_api_access_key=A&_api_name=N&_api_timestamp=1&_api_version=1.0.0"
    )


def test_the_signature_is_base64_of_hmac_sha1():
    text = "_api_access_key=A&_api_name=N&_api_timestamp=1&_api_version=1.0.0"
    expected = base64.b64encode(hmac.new(b"S", text.encode(), hashlib.sha1).digest()).decode()
    assert signature("S", text) == expected
    assert len(expected) == 28


def test_a_correctly_signed_request_names_its_key_and_institution():
    caller = verify(headers())
    assert caller.access_key == "ak-h1"
    assert caller.fixmedins_code == "H11010800001"
    assert caller.infno == "2207"
    assert len(headers()["_api_timestamp"]) == 13


def test_the_previous_secret_still_verifies_during_a_rotation():
    assert verify(headers(secret="sk-old")).access_key == "ak-h1"


def test_header_names_are_matched_without_case():
    assert verify({k.upper(): v for k, v in headers().items()}).access_key == "ak-h1"


@pytest.mark.parametrize(
    ("api_name", "infno"), [("2207", "2207"), ("api_2207", "2207"), ("api-powersi-test-pri", None)]
)
def test_the_api_name_may_name_the_transaction_or_the_gateway(api_name, infno):
    assert infno_of_api_name(api_name) == infno
    assert verify(headers(api_name=api_name)).infno == infno


def test_a_wrong_signature_is_refused():
    with pytest.raises(HisAuthError, match="wrong _api_signature"):
        verify(headers(secret="guess"))
    tampered = headers()
    tampered["_api_version"] = "2.0.0"
    with pytest.raises(HisAuthError, match="wrong _api_signature"):
        verify(tampered)


@pytest.mark.parametrize("skew", [timedelta(minutes=-6), timedelta(minutes=6)])
def test_a_stale_or_future_timestamp_is_refused(skew):
    with pytest.raises(HisAuthError, match="seconds from our clock"):
        verify(headers(at=NOW + skew))


def test_a_timestamp_within_five_minutes_is_accepted():
    assert verify(headers(at=NOW - timedelta(minutes=4, seconds=59))).access_key == "ak-h1"


@pytest.mark.parametrize("stamp", ["1768440600", "abc", "17684406000000"])
def test_a_timestamp_that_is_not_13_digits_is_refused(stamp):
    h = headers()
    h["_api_timestamp"] = stamp
    with pytest.raises(HisAuthError, match="13 digits"):
        verify(h)


def test_a_key_of_another_institution_is_refused():
    with pytest.raises(HisAuthError, match="another institution"):
        verify(headers(), fixmedins_code="H31010100002")


def test_an_unknown_key_is_refused():
    with pytest.raises(HisAuthError, match="unknown _api_access_key"):
        verify(headers(access_key="ak-nobody"))


@pytest.mark.parametrize("name", ["_api_signature", "_api_access_key", "_api_timestamp"])
def test_a_missing_header_is_refused_by_name(name):
    h = headers()
    h[name] = " "
    with pytest.raises(HisAuthError, match=name):
        verify(h)


def test_an_api_name_naming_another_transaction_is_refused():
    with pytest.raises(HisAuthError, match="names transaction 1101"):
        verify(headers(api_name="api_1101"))


def test_the_worked_example_of_the_documentation_is_true():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "his-interface.md").read_text()
    text = (
        "_api_access_key=ak-H11010800001-1&_api_name=api_2207"
        "&_api_timestamp=1768440612345&_api_version=1.0.0"
    )
    assert text in doc
    assert f"_api_signature = {signature('demo-secret-do-not-use', text)}" in doc
