"""tinkerlite's standard-library age: RFC test vectors, round trips, tampering, and interop with pyrage (rust age)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tinkerlite.weights import _age as age


def test_rfc_vectors() -> None:
    # RFC 7748 §5.2, first X25519 vector.
    k = bytes.fromhex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4")
    u = bytes.fromhex("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c")
    assert age._x25519(k, u).hex() == "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"
    # RFC 8439 §2.4.2 (ChaCha20, counter 1) and §2.5.2 (Poly1305).
    key, nonce = bytes(range(32)), bytes.fromhex("000000000000004a00000000")
    text = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen"
    assert age._chacha20_xor(key, 1, nonce, text)[:16].hex() == "6e2e359a2568f98041ba0728dd0d6981"
    otk = bytes.fromhex("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b")
    assert age._poly1305(otk, b"Cryptographic Forum Research Group").hex() == "a8061dc1305136c6c22b8baf0c0127a9"


def test_numpy_and_pure_keystreams_agree() -> None:
    np = pytest.importorskip("numpy")
    key, nonce = os.urandom(32), os.urandom(12)
    assert age._keystream_numpy(np, key, 0xFFFFFFF0, nonce, 40) == age._keystream_pure(key, 0xFFFFFFF0, nonce, 40)


@pytest.mark.parametrize("size", [0, 1, 64 * 1024, 2 * 64 * 1024 + 3])
def test_round_trip_and_tampering(size: int) -> None:
    ident, other = age.generate_identity(), age.generate_identity()
    assert ident.startswith("AGE-SECRET-KEY-1") and age.recipient_of(ident).startswith("age1")
    data = os.urandom(size)
    sealed = age.encrypt(data, [age.recipient_of(other), age.recipient_of(ident)])
    assert sealed.startswith(b"age-encryption.org/v1\n-> X25519 ")
    assert age.decrypt(sealed, ident) == data == age.decrypt(sealed, other)
    with pytest.raises(age.AgeError, match="no identity matched"):
        age.decrypt(sealed, age.generate_identity())
    flipped = bytearray(sealed)
    flipped[-1] ^= 1
    with pytest.raises(age.AgeError, match="decryption failed"):
        age.decrypt(bytes(flipped), ident)


def test_bad_keys() -> None:
    with pytest.raises(age.AgeError, match="SSH recipients"):
        age.encrypt(b"x", ["ssh-ed25519 AAAAC3Nz..."])
    with pytest.raises(age.AgeError, match="checksum"):
        age.recipient_of(age.generate_identity()[:-1] + "Q")


@pytest.mark.network_registry
@pytest.mark.slow
def test_interop_with_pyrage(tmp_path: Path) -> None:
    from tests.official_env import ensure_venv

    py = ensure_venv("pyrage-1", ["pyrage==1.3.0"])
    ident = age.generate_identity()
    data = os.urandom(150_000)
    (tmp_path / "plain").write_bytes(data)
    (tmp_path / "ours.age").write_bytes(age.encrypt(data, [age.recipient_of(ident)]))
    script = f"""
import pyrage
from pyrage import x25519
i = x25519.Identity.from_str({ident!r})
print(i.to_public())
pyrage.decrypt_file({str(tmp_path / "ours.age")!r}, {str(tmp_path / "ours.out")!r}, [i])
pyrage.encrypt_file({str(tmp_path / "plain")!r}, {str(tmp_path / "theirs.age")!r}, [i.to_public()])
"""
    out = subprocess.run([str(py), "-c", script], capture_output=True, text=True, check=True).stdout.strip()
    assert out == age.recipient_of(ident)
    assert (tmp_path / "ours.out").read_bytes() == data
    assert age.decrypt((tmp_path / "theirs.age").read_bytes(), ident) == data
