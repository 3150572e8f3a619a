"""Builds the EC1 test vectors in this folder (docs/qr-format.md, "Test vectors").

`python tests/vectors/build.py` rewrites the JSON files; the suite rebuilds them in memory and
fails when they differ, so the published files and the code cannot drift apart. Every key,
handle and instant is fixed and Ed25519 is deterministic, so the output is too.

Each negative case states the error it must give *by construction* (what was broken), not by
asking the verifier.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from server.credentials import cose, ec1
from server.credentials.codec import b45decode, b45encode, b64url, cbor_encode
from server.credentials.keys import ServerKey, jwk_thumbprint, keys_document, public_raw

HERE = Path(__file__).parent

# RFC 8032 §7.1 TEST 1, 2 and 3 secret keys, reused as the example's server and device keys.
RFC8032_TEST1 = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
RFC8032_TEST2 = "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb"
RFC8032_TEST3 = "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7"


def _key(seed_hex: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(seed_hex))


def _derived(label: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(label.encode()).digest())


SERVER = ServerKey.of(_key(RFC8032_TEST1))
NEXT_SERVER = ServerKey.of(_key(RFC8032_TEST3))  # the key after a rotation
UNPUBLISHED = ServerKey.of(_derived("ec1 vectors: a key nobody published"))
DEVICE = _key(RFC8032_TEST2)
OTHER_DEVICE = _derived("ec1 vectors: another device")

HANDLE = bytes(range(16))
CODE_ID = bytes(range(16, 32))
KIT_ISSUED_AT = 1795521600  # 2026-11-24T12:00:00Z, 20:00 in Beijing
KIT_EXPIRES_AT = KIT_ISSUED_AT + 3 * 24 * 3600
CODE_ISSUED_AT = KIT_ISSUED_AT + 3600  # the start of an RFC 6238 step
CODE_EXPIRES_AT = CODE_ISSUED_AT + 60
NOW = CODE_ISSUED_AT + 12  # the scanner's clock when it reads the worked code
COUNTER = 7


def kit_claims(**changes: Any) -> ec1.AttestationClaims:
    fields: dict[str, Any] = {
        "handle": HANDLE,
        "issued_at": KIT_ISSUED_AT,
        "expires_at": KIT_EXPIRES_AT,
        "device_public_key": public_raw(DEVICE),
    }
    fields.update(changes)
    return ec1.AttestationClaims(**fields)


def code_claims(**changes: Any) -> ec1.PresentationClaims:
    fields: dict[str, Any] = {
        "code_id": CODE_ID,
        "issued_at": CODE_ISSUED_AT,
        "expires_at": CODE_EXPIRES_AT,
        "counter": COUNTER,
    }
    fields.update(changes)
    return ec1.PresentationClaims(**fields)


def attest(claims: ec1.AttestationClaims | None = None, server: ServerKey = SERVER) -> bytes:
    return ec1.sign_attestation(server.private_key, server.kid_raw, claims or kit_claims())


RENEWED_HANDLE = bytes(16 * [0xBB])


def renewed_kit() -> bytes:
    """The device's next kit (a new handle, the same device key), issued a second later."""
    return attest(kit_claims(handle=RENEWED_HANDLE, issued_at=KIT_ISSUED_AT + 1))


def code(
    attestation: bytes | None = None,
    claims: ec1.PresentationClaims | None = None,
    device: Ed25519PrivateKey = DEVICE,
) -> str:
    attestation = attestation or attest()
    return ec1.present(attestation, device, claims or code_claims())


def _raw_sign1(
    payload: bytes, protected: dict[int, Any], key: Ed25519PrivateKey, aad: bytes
) -> bytes:
    # For cases the library refuses to make: a wrong alg, a code living 61 s.
    protected_bytes = cbor_encode(protected)
    signature = key.sign(cose.sig_structure(protected_bytes, aad, payload))
    return cose.Sign1(protected_bytes, payload, signature).encode()


def _raw_attestation(item: dict[int, Any]) -> bytes:
    """An attestation with any payload map, signed by the published key (what no server makes)."""
    protected = {cose.HEADER_ALG: cose.ALG_EDDSA, cose.HEADER_KID: SERVER.kid_raw}
    return _raw_sign1(cbor_encode(item), protected, SERVER.private_key, b"")


def _raw_code(attestation: bytes, item: dict[int, Any]) -> str:
    """A code whose presentation payload is any map, signed by the device for `attestation`."""
    presentation = _raw_sign1(
        cbor_encode(item),
        {cose.HEADER_ALG: cose.ALG_EDDSA},
        DEVICE,
        ec1.presentation_aad(attestation),
    )
    return ec1.encode_code(attestation, presentation)


def _text(cbor_bytes: bytes) -> str:
    return ec1.PREFIX + b45encode(cbor_bytes)


def worked() -> dict[str, Any]:
    """One code with every intermediate value."""
    kit = kit_claims()
    kit_payload = cbor_encode(kit.to_cbor_item())
    kit_protected = cbor_encode({cose.HEADER_ALG: cose.ALG_EDDSA, cose.HEADER_KID: SERVER.kid_raw})
    kit_to_sign = cose.sig_structure(kit_protected, b"", kit_payload)
    attestation = attest(kit)
    aad = ec1.presentation_aad(attestation)
    shown = code_claims()
    shown_payload = cbor_encode(shown.to_cbor_item())
    shown_protected = cbor_encode({cose.HEADER_ALG: cose.ALG_EDDSA})
    shown_to_sign = cose.sig_structure(shown_protected, aad, shown_payload)
    presentation = ec1.sign_presentation(DEVICE, attestation, shown)
    outer = b"\x82" + attestation + presentation
    qr_text = ec1.encode_code(attestation, presentation)
    return {
        "description": "One EC1 code made by the device key from an offline kit signed by the "
        "server key, and everything a verifier computes on the way. Byte strings are hex.",
        "server_private_key_seed": RFC8032_TEST1,
        "device_private_key_seed": RFC8032_TEST2,
        "keys_document": keys_document([SERVER]),
        "kid_hex": SERVER.kid_raw.hex(),
        "jwk_thumbprint_b64url": b64url(jwk_thumbprint(SERVER.public_raw)),
        "attestation": {
            "claims": {
                "1_handle": HANDLE.hex(),
                "2_issued_at": kit.issued_at,
                "3_expires_at": kit.expires_at,
                "4_device_key_x": kit.device_public_key.hex(),
                "5_role": kit.role,
            },
            "payload": kit_payload.hex(),
            "protected": kit_protected.hex(),
            "external_aad": "",
            "sig_structure": kit_to_sign.hex(),
            "signature": SERVER.private_key.sign(kit_to_sign).hex(),
            "cose_sign1": attestation.hex(),
        },
        "presentation": {
            "claims": {
                "1_code_id": CODE_ID.hex(),
                "2_issued_at": shown.issued_at,
                "3_expires_at": shown.expires_at,
                "4_counter": shown.counter,
            },
            "payload": shown_payload.hex(),
            "protected": shown_protected.hex(),
            "external_aad": aad.hex(),
            "sig_structure": shown_to_sign.hex(),
            "signature": DEVICE.sign(shown_to_sign).hex(),
            "cose_sign1": presentation.hex(),
        },
        "cbor": outer.hex(),
        "cbor_length": len(outer),
        "base45": qr_text[len(ec1.PREFIX) :],
        "qr_text": qr_text,
        "qr_text_length": len(qr_text),
        "verify_at": NOW,
    }


def _case(
    name: str, why: str, steps: list[tuple[str, int, str | None]], **extra: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "why": why,
        **extra,
        "steps": [{"qr_text": t, "now": n, "expect": e} for t, n, e in steps],
    }


def negative() -> dict[str, Any]:
    good = code()
    body = good[len(ec1.PREFIX) :]
    attestation = attest()
    presentation = ec1.sign_presentation(DEVICE, attestation, code_claims())
    # A character appended makes the length 3k+1 or (after a final pair) a last triplet whose
    # third digit, ' ' (36) or '%' (38), puts it above 65535: malformed either way.
    assert len(body) % 3 in (0, 2)

    # The last Base45 group spells the presentation signature's last byte(s): flip one bit of
    # the very last byte and spell the group again.
    group = 3 if len(body) % 3 == 0 else 2
    tail = bytearray(b45decode(body[-group:]))
    tail[-1] ^= 1
    flipped = ec1.PREFIX + body[:-group] + b45encode(bytes(tail))

    other_kit = attest(kit_claims(handle=bytes(16 * [0xAA])))
    swapped = ec1.encode_code(attestation, ec1.sign_presentation(DEVICE, other_kit, code_claims()))
    es256 = _raw_sign1(
        cbor_encode(kit_claims().to_cbor_item()),
        {cose.HEADER_ALG: -7, cose.HEADER_KID: SERVER.kid_raw},
        SERVER.private_key,
        b"",
    )
    long_lived = _raw_sign1(
        cbor_encode(code_claims(expires_at=CODE_ISSUED_AT + 61).to_cbor_item()),
        {cose.HEADER_ALG: cose.ALG_EDDSA},
        DEVICE,
        ec1.presentation_aad(attestation),
    )
    next_code = code(claims=code_claims(code_id=bytes(16 * [0x55]), counter=COUNTER + 1))
    same_counter = code(claims=code_claims(code_id=bytes(16 * [0x66])))
    lower_counter = code(claims=code_claims(code_id=bytes(16 * [0x77]), counter=COUNTER - 1))
    kit_ending = attest(kit_claims(expires_at=NOW - 29))
    kit_ended = attest(kit_claims(expires_at=NOW - 30))
    kit_future = attest(kit_claims(issued_at=NOW + 31, expires_at=NOW + 3 * 24 * 3600))
    iat, exp = CODE_ISSUED_AT, CODE_EXPIRES_AT
    shown = code_claims().to_cbor_item()
    kit_item = kit_claims().to_cbor_item()
    counter_zero = _raw_code(attestation, shown | {ec1.P_COUNTER: 0})
    counter_too_big = _raw_code(attestation, shown | {ec1.P_COUNTER: 2**63})
    counter_largest = _raw_code(attestation, shown | {ec1.P_COUNTER: 2**63 - 1})
    extra_presentation_label = _raw_code(attestation, shown | {5: 0})
    extra_kit = _raw_attestation(kit_item | {7: 0})
    short_handle = _raw_attestation(kit_item | {ec1.A_HANDLE: HANDLE[:3]})
    role_two = _raw_attestation(kit_item | {ec1.A_ROLE: 2, ec1.A_PRESENTER: bytes(16)})
    proxy = attest(kit_claims(role=ec1.ROLE_PROXY, presenter=bytes(16 * [0x99])))
    renewed = renewed_kit()
    first_of_renewed = code(renewed, code_claims(code_id=bytes(16 * [0x88]), counter=1))

    cases = [
        _case("worked code", "the worked code, at its time", [(good, NOW, None)]),
        _case("no prefix", "the Base45 without 'EC1:'", [(body, NOW, "QR_MALFORMED")]),
        _case(
            "other version",
            "'EC2:' is a version we do not read",
            [("EC2:" + body, NOW, "QR_UNSUPPORTED_VERSION")],
        ),
        _case("other format", "an EU DCC prefix", [("HC1:" + body, NOW, "QR_UNSUPPORTED_VERSION")]),
        _case(
            "lower-case prefix",
            "'ec1:' cannot come from QR alphanumeric mode",
            [("ec1:" + body, NOW, "QR_MALFORMED")],
        ),
        _case(
            "lower-case body",
            "a scanner that lower-cased the text",
            [(ec1.PREFIX + body.lower(), NOW, "QR_MALFORMED")],
        ),
        _case(
            "trailing space",
            "a space appended: the last triplet exceeds 65535",
            [(good + " ", NOW, "QR_MALFORMED")],
        ),
        _case(
            "trailing percent",
            "a '%' appended: the last triplet exceeds 65535",
            [(good + "%", NOW, "QR_MALFORMED")],
        ),
        _case("trailing newline", "a newline is not Base45", [(good + "\n", NOW, "QR_MALFORMED")]),
        _case("leading space", "a space before the prefix", [(" " + good, NOW, "QR_MALFORMED")]),
        _case(
            "non-canonical triplet",
            "'GGW' is 65536",
            [(ec1.PREFIX + "GGW" + body, NOW, "QR_MALFORMED")],
        ),
        _case(
            "oversized",
            "601 characters, refused before decoding",
            [(good + "0" * (601 - len(good)), NOW, "QR_MALFORMED")],
        ),
        _case(
            "trailing CBOR byte",
            "one 0x00 after the array",
            [(_text(b"\x82" + attestation + presentation + b"\x00"), NOW, "QR_MALFORMED")],
        ),
        _case(
            "non-deterministic CBOR",
            "the outer array's length in a needless extra byte",
            [(_text(b"\x98\x02" + attestation + presentation), NOW, "QR_MALFORMED")],
        ),
        _case(
            "one flipped character",
            "the last character changes the device signature",
            [(flipped, NOW, "QR_SIGNATURE_INVALID")],
        ),
        _case(
            "wrong algorithm",
            "alg -7 (ES256) in the attestation, signed by the right key",
            [
                (
                    ec1.encode_code(es256, ec1.sign_presentation(DEVICE, es256, code_claims())),
                    NOW,
                    "QR_SIGNATURE_INVALID",
                )
            ],
        ),
        _case(
            "unknown key",
            "an attestation by a key that is not published",
            [(code(attest(server=UNPUBLISHED)), NOW, "QR_SIGNATURE_INVALID")],
        ),
        _case(
            "retired key",
            "the old key was dropped from the keys document",
            [(good, NOW, "QR_SIGNATURE_INVALID")],
            keys="rotated",
        ),
        _case(
            "retired key still published",
            "during the overlap the old key verifies",
            [(good, NOW, None)],
            keys="overlap",
        ),
        _case(
            "kid shared by two keys",
            "an impostor key listed first under the same kid",
            [(good, NOW, None)],
            keys="collision",
        ),
        _case(
            "attestation swapped",
            "a presentation made for another kit of the same device",
            [(swapped, NOW, "QR_SIGNATURE_INVALID")],
        ),
        _case(
            "wrong device",
            "a presentation signed by a device key the kit does not name",
            [(code(device=OTHER_DEVICE), NOW, "QR_SIGNATURE_INVALID")],
        ),
        _case(
            "too early", "31 s before the code's issued-at", [(good, iat - 31, "QR_NOT_YET_VALID")]
        ),
        _case(
            "just early enough", "30 s before issued-at is within skew", [(good, iat - 30, None)]
        ),
        _case("just late enough", "29 s after expires is within skew", [(good, exp + 29, None)]),
        _case("too late", "30 s after expires", [(good, exp + 30, "QR_EXPIRED")]),
        _case(
            "code lives 61 s",
            "expires - issued-at = 61",
            [(ec1.encode_code(attestation, long_lived), NOW, "QR_MALFORMED")],
        ),
        _case(
            "kit ending", "the kit expired 29 s ago: within skew", [(code(kit_ending), NOW, None)]
        ),
        _case("kit expired", "the kit expired 30 s ago", [(code(kit_ended), NOW, "KIT_EXPIRED")]),
        _case(
            "kit from the future",
            "the kit's issued-at is 31 s ahead",
            [(code(kit_future), NOW, "QR_NOT_YET_VALID")],
        ),
        _case(
            "counter 0",
            "a kit's counter starts at 1",
            [(counter_zero, NOW, "QR_MALFORMED")],
        ),
        _case(
            "counter 2^63",
            "one above the largest counter",
            [(counter_too_big, NOW, "QR_MALFORMED")],
        ),
        _case("counter 2^63-1", "the largest counter", [(counter_largest, NOW, None)]),
        _case(
            "extra presentation label",
            "label 5 in the presentation payload",
            [(extra_presentation_label, NOW, "QR_MALFORMED")],
        ),
        _case(
            "extra attestation label",
            "label 7 in the attestation payload, signed by the published key",
            [(code(extra_kit), NOW, "QR_MALFORMED")],
        ),
        _case(
            "3-byte handle",
            "a handle is 16 bytes",
            [(code(short_handle), NOW, "QR_MALFORMED")],
        ),
        _case(
            "role 2",
            "role is 0 (self) or 1 (proxy)",
            [(code(role_two), NOW, "QR_MALFORMED")],
        ),
        _case(
            "proxy code",
            "role 1 with its presenter (亲情账户)",
            [(code(proxy), NOW, None)],
        ),
        _case(
            "same code twice",
            "a second scan of one code",
            [(good, NOW, None), (good, NOW + 5, "QR_ALREADY_USED")],
            stateful=True,
        ),
        _case(
            "counter did not grow",
            "a new code id with the counter already accepted",
            [(good, NOW, None), (same_counter, NOW, "QR_ALREADY_USED")],
            stateful=True,
        ),
        _case(
            "counter went back",
            "a new code id with a lower counter",
            [(good, NOW, None), (lower_counter, NOW, "QR_ALREADY_USED")],
            stateful=True,
        ),
        _case(
            "counter grew",
            "the next code of the same device",
            [(good, NOW, None), (next_code, NOW, None)],
            stateful=True,
        ),
        _case(
            "renewed kit starts again",
            "the counter is per kit: a new kit's first code carries 1",
            [(good, NOW, None), (first_of_renewed, NOW, None)],
            stateful=True,
        ),
        _case(
            "revoked handle",
            "the credential behind the handle was revoked",
            [(good, NOW, "CREDENTIAL_REVOKED")],
            stateful=True,
            revoked_handles=[HANDLE.hex()],
        ),
    ]
    impostor = ServerKey.generate().jwk() | {"x": b64url(public_raw(_derived("ec1 impostor")))}
    impostor["kid"] = SERVER.kid
    return {
        "description": "Codes a verifier must refuse (and the boundaries it must accept), each "
        "with the error code it must give; `expect: null` means accepted. A case with "
        "`stateful: true` runs its steps in order against one verifier's used-code and counter "
        "records; `revoked_handles` lists handles (hex) revoked before it starts. Times are "
        "Unix seconds of the verifier's clock.",
        "keys_documents": {
            "current": keys_document([SERVER]),
            "rotated": keys_document([NEXT_SERVER]),
            "overlap": keys_document([SERVER, NEXT_SERVER]),
            "collision": {"keys": [impostor, SERVER.jwk()]},
        },
        "cases": [{"keys": "current", "stateful": False} | c for c in cases],
    }


def rfc_vectors() -> dict[str, Any]:
    """The known answers the building blocks must reproduce."""
    return {
        "ed25519_rfc8032_test1": {
            "source": "RFC 8032 §7.1 TEST 1",
            "secret_key": RFC8032_TEST1,
            "public_key": "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
            "message": "",
            "signature": "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555f"
            "b8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
        },
        "jwk_thumbprint_rfc8037": {
            "source": "RFC 8037 Appendix A.3 (RFC 7638 thumbprint of the A.2 key)",
            "jwk": {
                "kty": "OKP",
                "crv": "Ed25519",
                "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
            },
            "thumbprint": "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k",
            "kid": "kPrK_qmxVWY",
        },
        "base45_rfc9285": {
            "source": "RFC 9285 §4.3 and §4.4",
            "encode": [
                {"bytes": b"AB".hex(), "text": "BB8"},
                {"bytes": b"Hello!!".hex(), "text": "%69 VD92EX0"},
                {"bytes": b"base-45".hex(), "text": "UJCLQE7W581"},
            ],
            "decode": [{"text": "QED8WEX0", "bytes": b"ietf!".hex()}],
        },
    }


FILES = {
    "rfc_known_answers.json": rfc_vectors,
    "ec1_worked.json": worked,
    "ec1_cases.json": negative,
}


def render(name: str) -> str:
    return json.dumps(FILES[name](), indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    for name in FILES:
        (HERE / name).write_text(render(name), encoding="utf-8")
        print(f"wrote {HERE / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
