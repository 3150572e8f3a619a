"""Strict Base45 and CBOR: one spelling per value, and hostile input is only ever QR_MALFORMED."""

from __future__ import annotations

import json
from pathlib import Path

import base45
import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.credentials.codec import (
    b45decode,
    b45encode,
    b64url,
    b64url_decode,
    cbor_decode,
    cbor_encode,
)
from server.errors import QrMalformedError

RFC = json.loads((Path(__file__).parents[2] / "vectors" / "rfc_known_answers.json").read_text())
B45 = RFC["base45_rfc9285"]


@pytest.mark.parametrize("case", B45["encode"], ids=lambda c: c["text"])
def test_base45_encodes_the_rfc_9285_examples(case: dict[str, str]) -> None:
    assert b45encode(bytes.fromhex(case["bytes"])) == case["text"]
    assert b45decode(case["text"]) == bytes.fromhex(case["bytes"])


@pytest.mark.parametrize("case", B45["decode"], ids=lambda c: c["text"])
def test_base45_decodes_the_rfc_9285_examples(case: dict[str, str]) -> None:
    assert b45decode(case["text"]) == bytes.fromhex(case["bytes"])


@given(st.binary(max_size=400))
def test_base45_round_trips_and_agrees_with_the_base45_package(data: bytes) -> None:
    text = b45encode(data)
    assert text == base45.b45encode(data).decode()
    assert b45decode(text) == data


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("bb8", "lower case"),
        ("BB8 ", "a trailing space makes 3k+1 characters"),
        ("BB8\n", "newline"),
        ("BB8\t", "tab"),
        ("BB８", "a full-width digit"),
        ("GGW", "65536 is above 65535"),
        (":::", "the largest triplet, 91124"),
        ("Y6", "a final pair of 34 + 6*45 = 304 is above 255"),
        ("A", "one character"),
    ],
)
def test_base45_refuses_what_rfc_9285_never_produces(text: str, why: str) -> None:
    with pytest.raises(QrMalformedError):
        b45decode(text)


@given(st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:", max_size=60))
def test_base45_text_that_decodes_is_the_only_spelling_of_its_bytes(text: str) -> None:
    try:
        data = b45decode(text)
    except QrMalformedError:
        return
    assert b45encode(data) == text


def test_cbor_decodes_what_it_encodes() -> None:
    value = [b"\x00" * 16, {1: -8, 4: b"k" * 8}, {-2: b"x", -1: 6, 1: 1}, 2**40]
    assert cbor_decode(cbor_encode(value)) == value


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (bytes.fromhex("0100"), "a trailing byte"),
        (bytes.fromhex("1801"), "1 in two bytes"),
        (bytes.fromhex("9f01ff"), "an indefinite-length array"),
        (bytes.fromhex("a201010102"), "a duplicate map key"),
        (bytes.fromhex("a202010101"), "map keys out of order"),
        (bytes.fromhex("c11a5f000000"), "a tagged date"),
        (bytes.fromhex("d8407f"), "an unknown tag"),
        (bytes.fromhex("f93c00"), "a float"),
        (bytes.fromhex("f5"), "true"),
        (bytes.fromhex("f6"), "null"),
        (bytes.fromhex("c24101"), "1 spelt as a bignum"),
        (bytes.fromhex("5a7fffffff"), "a byte string longer than the input"),
        (b"", "nothing"),
        (bytes.fromhex("81" * 20 + "00"), "nested 20 deep"),
    ],
)
def test_cbor_refuses_anything_but_one_deterministic_item(data: bytes, why: str) -> None:
    with pytest.raises(QrMalformedError):
        cbor_decode(data)


@given(st.binary(max_size=64))
def test_cbor_decoding_arbitrary_bytes_fails_only_as_malformed(data: bytes) -> None:
    try:
        value = cbor_decode(data)
    except QrMalformedError:
        return
    assert cbor_encode(value) == data


@pytest.mark.parametrize("text", ["a+b", "YWJj=", "YW Jj", "ＹＷ"])
def test_base64url_refuses_other_alphabets_and_padding(text: str) -> None:
    with pytest.raises(ValueError, match="base64url"):
        b64url_decode(text)


@given(st.binary(max_size=40))
def test_base64url_round_trips(data: bytes) -> None:
    assert b64url_decode(b64url(data)) == data
