"""The server's signing keys: kids, JWKs, loading, rotation; key material never shows."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from server.credentials.codec import b64url
from server.credentials.keys import (
    EnvKeySource,
    FileKeySource,
    KeyConfigError,
    KeyRing,
    MemoryKeySource,
    ServerKey,
    create_key_file,
    dump_pem,
    jwk_thumbprint,
    key_source,
    keys_document,
    load_pem_keys,
)
from server.errors import ForbiddenError

RFC = json.loads((Path(__file__).parents[2] / "vectors" / "rfc_known_answers.json").read_text())


def test_ed25519_signs_rfc_8032_test_1() -> None:
    case = RFC["ed25519_rfc8032_test1"]
    key = ServerKey.of(Ed25519PrivateKey.from_private_bytes(bytes.fromhex(case["secret_key"])))
    assert key.public_raw.hex() == case["public_key"]
    assert key.private_key.sign(bytes.fromhex(case["message"])).hex() == case["signature"]


def test_kid_is_the_first_8_bytes_of_the_rfc_7638_thumbprint() -> None:
    case = RFC["jwk_thumbprint_rfc8037"]
    seed = bytes.fromhex(RFC["ed25519_rfc8032_test1"]["secret_key"])
    key = ServerKey.of(Ed25519PrivateKey.from_private_bytes(seed))
    assert b64url(jwk_thumbprint(key.public_raw)) == case["thumbprint"]
    assert key.kid == case["kid"] == b64url(jwk_thumbprint(key.public_raw)[:8]).rstrip("=")
    assert key.jwk() == {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": case["jwk"]["x"],
        "kid": case["kid"],
        "alg": "EdDSA",
        "use": "sig",
    }


def test_keys_document_lists_public_halves_only() -> None:
    key = ServerKey.generate()
    text = json.dumps(keys_document([key]))
    assert "d" not in keys_document([key])["keys"][0]
    assert b64url(key.private_key.private_bytes_raw()) not in text


def test_a_key_never_shows_its_material_in_repr_or_str() -> None:
    key = ServerKey.generate()
    secret = b64url(key.private_key.private_bytes_raw())
    ring = KeyRing(keys=(key,))
    for shown in (repr(key), str(key), repr(ring)):
        assert secret not in shown
        assert key.private_key.private_bytes_raw().hex() not in shown
    assert key.kid in repr(key)


def test_the_last_key_of_a_pem_file_signs_and_all_verify(tmp_path: Path) -> None:
    first, second = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    path = tmp_path / "keys.pem"
    path.write_text("old key\n" + dump_pem(first) + "\nnew key\n" + dump_pem(second))
    ring = FileKeySource(path).ring()
    assert [k.public_raw for k in ring.keys] == [
        ServerKey.of(first).public_raw,
        ServerKey.of(second).public_raw,
    ]
    assert ring.active.public_raw == ServerKey.of(second).public_raw


def test_keys_in_an_environment_variable_may_use_backslash_n_escapes() -> None:
    key = Ed25519PrivateKey.generate()
    escaped = dump_pem(key).replace("\n", "\\n")
    ring = EnvKeySource(escaped).ring()
    assert ring.active.public_raw == ServerKey.of(key).public_raw


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not a key",
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    ],
)
def test_unreadable_keys_stop_the_app_without_echoing_them(text: str) -> None:
    with pytest.raises(KeyConfigError) as caught:
        load_pem_keys(text)
    assert "AAAA" not in str(caught.value)


def test_a_non_ed25519_key_is_refused() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    with pytest.raises(KeyConfigError, match="not an Ed25519 key"):
        load_pem_keys(pem)


def test_rotation_appends_a_key_that_every_reader_of_the_file_sees(tmp_path: Path) -> None:
    path = tmp_path / "keys.pem"
    first_kid = create_key_file(path)
    seconds = [100.0]
    worker_a = FileKeySource(path, monotonic=lambda: seconds[0])
    worker_b = FileKeySource(path, monotonic=lambda: seconds[0])
    assert worker_b.ring().active.kid == first_kid
    new = worker_a.rotate()
    assert worker_a.ring().active.kid == new.kid  # the rotating worker signs with it at once
    # Another worker looks at the file at most once a second: within it, the old ring...
    seconds[0] += FileKeySource.CHECK_SECONDS - 0.01
    assert worker_b.ring().active.kid == first_kid
    # ...and from the next look on, the new key signs and both verify.
    seconds[0] += 0.01
    assert worker_b.ring().active.kid == new.kid
    assert [k.kid for k in worker_b.ring().keys] == [first_kid, new.kid]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_missing_key_file_stops_the_app(tmp_path: Path) -> None:
    with pytest.raises(KeyConfigError, match="SIGNING_KEY_FILE"):
        FileKeySource(tmp_path / "absent.pem")


def test_keys_from_the_environment_cannot_be_rotated_by_the_api() -> None:
    source = EnvKeySource(dump_pem(Ed25519PrivateKey.generate()))
    with pytest.raises(ForbiddenError):
        source.rotate()


def test_without_configured_keys_only_testing_runs() -> None:
    assert isinstance(
        key_source(signing_key_file=None, signing_keys=None, testing=True), MemoryKeySource
    )
    with pytest.raises(KeyConfigError):
        key_source(signing_key_file=None, signing_keys=None, testing=False)


def test_every_key_under_a_kid_is_a_candidate() -> None:
    a, b = ServerKey.generate(), ServerKey.generate()
    twin = ServerKey(
        private_key=b.private_key, public_raw=b.public_raw, kid_raw=a.kid_raw, kid=a.kid
    )
    ring = KeyRing(keys=(a, twin))
    assert ring.candidates(a.kid) == [a, twin]
    assert ring.candidates(b.kid) == []
