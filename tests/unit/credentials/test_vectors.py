"""The published test vectors (tests/vectors/, docs/qr-format.md) hold, in our code and in the
standalone example verifier."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from server.credentials import ec1
from server.credentials.codec import b45decode, b64url_decode, cbor_decode
from server.errors import AppError

ROOT = Path(__file__).parents[3]
VECTORS = ROOT / "tests" / "vectors"


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


BUILD = _load(VECTORS / "build.py", "ec1_vector_build")
VERIFY_QR = _load(ROOT / "docs" / "examples" / "verify_qr.py", "verify_qr_example")
WORKED = json.loads((VECTORS / "ec1_worked.json").read_text())
CASES = json.loads((VECTORS / "ec1_cases.json").read_text())


@pytest.mark.parametrize("name", sorted(BUILD.FILES))
def test_the_published_vector_files_are_what_the_code_makes(name: str) -> None:
    assert (VECTORS / name).read_text(encoding="utf-8") == BUILD.render(name), (
        f"run: python tests/vectors/build.py (and review docs/qr-format.md): {name} drifted"
    )


def _resolver(document: dict[str, Any]) -> ec1.KeyResolver:
    def keys(kid: str) -> list[Ed25519PublicKey]:
        return [
            Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"]))
            for jwk in document["keys"]
            if jwk["kid"] == kid
        ]

    return keys


def _at(unix: int) -> datetime:
    return datetime.fromtimestamp(unix, UTC)


def test_the_worked_code_verifies_with_only_the_keys_document() -> None:
    verified = ec1.verify_code(
        WORKED["qr_text"], keys=_resolver(WORKED["keys_document"]), now=_at(WORKED["verify_at"])
    )
    assert verified.handle.hex() == WORKED["attestation"]["claims"]["1_handle"]
    assert verified.presentation.counter == WORKED["presentation"]["claims"]["4_counter"]


def test_every_intermediate_of_the_worked_code_follows_from_the_one_before() -> None:
    a, p = WORKED["attestation"], WORKED["presentation"]
    assert WORKED["qr_text"] == "EC1:" + WORKED["base45"]
    assert b45decode(WORKED["base45"]).hex() == WORKED["cbor"]
    assert WORKED["cbor"] == "82" + a["cose_sign1"] + p["cose_sign1"]
    assert cbor_decode(bytes.fromhex(a["cose_sign1"])) == [
        bytes.fromhex(a["protected"]),
        {},
        bytes.fromhex(a["payload"]),
        bytes.fromhex(a["signature"]),
    ]
    assert cbor_decode(bytes.fromhex(a["protected"])) == {
        1: -8,
        4: bytes.fromhex(WORKED["kid_hex"]),
    }
    assert cbor_decode(bytes.fromhex(a["sig_structure"])) == [
        "Signature1",
        bytes.fromhex(a["protected"]),
        b"",
        bytes.fromhex(a["payload"]),
    ]
    assert p["external_aad"] == hashlib.sha256(bytes.fromhex(a["cose_sign1"])).hexdigest()
    assert cbor_decode(bytes.fromhex(p["sig_structure"])) == [
        "Signature1",
        bytes.fromhex(p["protected"]),
        bytes.fromhex(p["external_aad"]),
        bytes.fromhex(p["payload"]),
    ]
    server = Ed25519PublicKey.from_public_bytes(
        b64url_decode(WORKED["keys_document"]["keys"][0]["x"])
    )
    server.verify(bytes.fromhex(a["signature"]), bytes.fromhex(a["sig_structure"]))
    device = Ed25519PublicKey.from_public_bytes(bytes.fromhex(a["claims"]["4_device_key_x"]))
    device.verify(bytes.fromhex(p["signature"]), bytes.fromhex(p["sig_structure"]))
    assert WORKED["qr_text_length"] == len(WORKED["qr_text"]) <= 420


STATELESS = [c for c in CASES["cases"] if not c["stateful"]]


@pytest.mark.parametrize("case", STATELESS, ids=lambda c: c["name"])
def test_each_stateless_case_gives_its_published_answer(case: dict[str, Any]) -> None:
    keys = _resolver(CASES["keys_documents"][case["keys"]])
    (step,) = case["steps"]
    try:
        ec1.verify_code(step["qr_text"], keys=keys, now=_at(step["now"]))
        got = None
    except AppError as error:
        got = error.code
    assert got == step["expect"], case["why"]


@pytest.mark.parametrize("case", CASES["cases"], ids=lambda c: c["name"])
def test_the_standalone_verifier_gives_every_published_answer(case: dict[str, Any]) -> None:
    verifier = VERIFY_QR.Verifier(
        CASES["keys_documents"][case["keys"]],
        {bytes.fromhex(h) for h in case.get("revoked_handles", [])},
    )
    for step in case["steps"]:
        try:
            verifier.verify(step["qr_text"], step["now"])
            got = None
        except VERIFY_QR.RefusedError as refused:
            got = refused.code
        assert got == step["expect"], case["why"]


def test_the_corpus_covers_every_error_a_code_can_give() -> None:
    expected = {s["expect"] for c in CASES["cases"] for s in c["steps"]}
    assert expected == {
        None,
        "QR_MALFORMED",
        "QR_UNSUPPORTED_VERSION",
        "QR_SIGNATURE_INVALID",
        "QR_EXPIRED",
        "QR_NOT_YET_VALID",
        "KIT_EXPIRED",
        "QR_ALREADY_USED",
        "CREDENTIAL_REVOKED",
    }


def test_the_format_document_lists_every_case_with_its_answer() -> None:
    text = (ROOT / "docs" / "qr-format.md").read_text(encoding="utf-8")
    for case in CASES["cases"]:
        answers = " then ".join(f"`{s['expect'] or 'accepted'}`" for s in case["steps"])
        row = f"| {case['name']} | {case['why']} | {case['keys']} | {answers} |"
        assert row in text, row
