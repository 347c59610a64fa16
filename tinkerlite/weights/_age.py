"""age (https://age-encryption.org/v1) file encryption to X25519 recipients, in the standard library.

The cookbook downloads a training checkpoint by exporting it encrypted to a one-off age key (with the
compiled ``pyrage``); this module lets tinkerlite do the same without it, and lets the local server honour
``age_encryption_recipients``. Implemented from the age v1 specification and the RFCs it builds on:
X25519 (RFC 7748), HKDF-SHA256 (RFC 5869), ChaCha20-Poly1305 (RFC 8439), Bech32 key encoding (BIP 173).

Format: a text header (``age-encryption.org/v1``, one ``-> X25519 <ephemeral share>`` stanza per recipient
wrapping the 16-byte file key, ``--- <HMAC>``), then a 16-byte nonce and the payload in 64 KiB
ChaCha20-Poly1305 chunks (STREAM construction, last-chunk flag in the nonce). ChaCha20's keystream is
computed with numpy over all blocks of a chunk when numpy is installed (about 6-9 MB/s end to end; pure
Python is several times slower), which suits adapters, not whole models.
Only native ``age1...`` recipients are supported; SSH keys raise :class:`AgeError`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import struct
from typing import Any

from tinkerlite._optional import try_import

__all__ = [
    "AgeError",
    "decrypt",
    "encrypt",
    "generate_identity",
    "recipient_of",
]

_VERSION = b"age-encryption.org/v1"
_CHUNK = 64 * 1024
_TAG = 16
_P = 2**255 - 19
_A24 = 121665
_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


class AgeError(ValueError):
    """A malformed key or file, or a file that is not encrypted to the given identity."""


# ---- Bech32 keys ---------------------------------------------------------------------------------------


def _polymod(values: list[int]) -> int:
    gen = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if (top >> i) & 1 else 0
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _convert_bits(data: bytes | list[int], frm: int, to: int, pad: bool) -> list[int]:
    acc = bits = 0
    out = []
    for value in data:
        acc = (acc << frm) | value
        bits += frm
        while bits >= to:
            bits -= to
            out.append((acc >> bits) & ((1 << to) - 1))
    if pad and bits:
        out.append((acc << (to - bits)) & ((1 << to) - 1))
    elif not pad and (bits >= frm or (acc << (to - bits)) & ((1 << to) - 1)):
        raise AgeError("invalid bech32 padding")
    return out


def _bech32_encode(hrp: str, data: bytes) -> str:
    five = _convert_bits(data, 8, 5, True)
    mod = _polymod(_hrp_expand(hrp) + five + [0] * 6) ^ 1
    checksum = [(mod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(_BECH32[d] for d in five + checksum)


def _bech32_decode(text: str) -> tuple[str, bytes]:
    if text.lower() != text and text.upper() != text:
        raise AgeError("mixed-case bech32 string")
    s = text.lower()
    pos = s.rfind("1")
    if pos < 1 or pos + 7 > len(s):
        raise AgeError(f"not a bech32 string: {text[:20]}...")
    hrp, rest = s[:pos], s[pos + 1 :]
    try:
        data = [_BECH32.index(c) for c in rest]
    except ValueError:
        raise AgeError("invalid bech32 character") from None
    if _polymod(_hrp_expand(hrp) + data) != 1:
        raise AgeError("bech32 checksum mismatch")
    return hrp, bytes(_convert_bits(data[:-6], 5, 8, False))


# ---- X25519 --------------------------------------------------------------------------------------------


def _x25519(k: bytes, u: bytes) -> bytes:
    scalar = bytearray(k)
    scalar[0] &= 248
    scalar[31] &= 127
    scalar[31] |= 64
    n = int.from_bytes(scalar, "little")
    x1 = int.from_bytes(u, "little") & ((1 << 255) - 1)
    x2, z2, x3, z3, swap = 1, 0, x1, 1, 0
    for t in reversed(range(255)):
        bit = (n >> t) & 1
        swap ^= bit
        if swap:
            x2, x3, z2, z3 = x3, x2, z3, z2
        swap = bit
        a, b = (x2 + z2) % _P, (x2 - z2) % _P
        aa, bb = a * a % _P, b * b % _P
        e = (aa - bb) % _P
        c, d = (x3 + z3) % _P, (x3 - z3) % _P
        da, cb = d * a % _P, c * b % _P
        x3 = (da + cb) ** 2 % _P
        z3 = x1 * (da - cb) ** 2 % _P
        x2 = aa * bb % _P
        z2 = e * (aa + _A24 * e) % _P
    if swap:
        x2, z2 = x3, z3
    return (x2 * pow(z2, _P - 2, _P) % _P).to_bytes(32, "little")


_BASEPOINT = (9).to_bytes(32, "little")


def generate_identity() -> str:
    """A new ``AGE-SECRET-KEY-1...`` identity."""
    return _bech32_encode("age-secret-key-", os.urandom(32)).upper()


def _secret(identity: str) -> bytes:
    hrp, data = _bech32_decode(identity.strip())
    if hrp != "age-secret-key-" or len(data) != 32:
        raise AgeError("not an age X25519 identity (AGE-SECRET-KEY-1...)")
    return data


def recipient_of(identity: str) -> str:
    """The ``age1...`` recipient of an identity."""
    return _bech32_encode("age", _x25519(_secret(identity), _BASEPOINT))


def _recipient_key(recipient: str) -> bytes:
    if recipient.startswith(("ssh-", "ecdsa-", "sk-")):
        raise AgeError(f"SSH recipients are not supported here ({recipient.split(' ', 1)[0]}); use an age1... key")
    hrp, data = _bech32_decode(recipient.strip())
    if hrp != "age" or len(data) != 32:
        raise AgeError(f"not an age X25519 recipient: {recipient[:20]}...")
    return data


# ---- HKDF, ChaCha20-Poly1305 ---------------------------------------------------------------------------


def _hkdf(ikm: bytes, salt: bytes, info: bytes, length: int = 32) -> bytes:
    prk = hmac.new(salt or b"\0" * 32, ikm, hashlib.sha256).digest()
    out, block = b"", b""
    for i in range(1, -(-length // 32) + 1):
        block = hmac.new(prk, block + info + bytes([i]), hashlib.sha256).digest()
        out += block
    return out[:length]


def _rotl(v: int, c: int) -> int:
    return ((v << c) & 0xFFFFFFFF) | (v >> (32 - c))


def _keystream_pure(key: bytes, counter: int, nonce: bytes, n_blocks: int) -> bytes:
    const = (0x61707865, 0x3320646E, 0x79622D32, 0x6B206574)
    k = struct.unpack("<8I", key)
    nw = struct.unpack("<3I", nonce)
    out = bytearray()
    for blk in range(n_blocks):
        init = [*const, *k, (counter + blk) & 0xFFFFFFFF, *nw]
        x = list(init)
        for _ in range(10):
            for a, b, c, d in ((0, 4, 8, 12), (1, 5, 9, 13), (2, 6, 10, 14), (3, 7, 11, 15),
                               (0, 5, 10, 15), (1, 6, 11, 12), (2, 7, 8, 13), (3, 4, 9, 14)):  # fmt: skip
                x[a] = (x[a] + x[b]) & 0xFFFFFFFF
                x[d] = _rotl(x[d] ^ x[a], 16)
                x[c] = (x[c] + x[d]) & 0xFFFFFFFF
                x[b] = _rotl(x[b] ^ x[c], 12)
                x[a] = (x[a] + x[b]) & 0xFFFFFFFF
                x[d] = _rotl(x[d] ^ x[a], 8)
                x[c] = (x[c] + x[d]) & 0xFFFFFFFF
                x[b] = _rotl(x[b] ^ x[c], 7)
        out += struct.pack("<16I", *((x[i] + init[i]) & 0xFFFFFFFF for i in range(16)))
    return bytes(out)


def _keystream_numpy(np: Any, key: bytes, counter: int, nonce: bytes, n_blocks: int) -> bytes:
    """The same keystream, all blocks at once (one uint32 lane per block)."""
    u32 = np.uint32
    state = np.empty((16, n_blocks), dtype=u32)
    state[:4] = np.array([0x61707865, 0x3320646E, 0x79622D32, 0x6B206574], dtype=u32)[:, None]
    state[4:12] = np.array(struct.unpack("<8I", key), dtype=u32)[:, None]
    state[12] = (np.arange(counter, counter + n_blocks, dtype=np.uint64) & 0xFFFFFFFF).astype(u32)
    state[13:16] = np.array(struct.unpack("<3I", nonce), dtype=u32)[:, None]
    x = [state[i].copy() for i in range(16)]

    def rotl(v: Any, c: int) -> Any:
        return (v << u32(c)) | (v >> u32(32 - c))

    for _ in range(10):
        for a, b, c, d in ((0, 4, 8, 12), (1, 5, 9, 13), (2, 6, 10, 14), (3, 7, 11, 15),
                           (0, 5, 10, 15), (1, 6, 11, 12), (2, 7, 8, 13), (3, 4, 9, 14)):  # fmt: skip
            x[a] += x[b]
            x[d] = rotl(x[d] ^ x[a], 16)
            x[c] += x[d]
            x[b] = rotl(x[b] ^ x[c], 12)
            x[a] += x[b]
            x[d] = rotl(x[d] ^ x[a], 8)
            x[c] += x[d]
            x[b] = rotl(x[b] ^ x[c], 7)
    out = np.stack([x[i] + state[i] for i in range(16)], axis=1)
    return bytes(out.astype("<u4").tobytes())


def _chacha20_xor(key: bytes, counter: int, nonce: bytes, data: bytes) -> bytes:
    if not data:
        return b""
    n_blocks = -(-len(data) // 64)
    np = try_import("numpy")
    stream = _keystream_numpy(np, key, counter, nonce, n_blocks) if np is not None and n_blocks > 4 else (
        _keystream_pure(key, counter, nonce, n_blocks))  # fmt: skip
    return (int.from_bytes(data, "little") ^ int.from_bytes(stream[: len(data)], "little")).to_bytes(
        len(data), "little"
    )


def _poly1305(key: bytes, msg: bytes) -> bytes:
    r = int.from_bytes(key[:16], "little") & 0x0FFFFFFC0FFFFFFC0FFFFFFC0FFFFFFF
    s = int.from_bytes(key[16:], "little")
    p = (1 << 130) - 5
    acc = 0
    for i in range(0, len(msg), 16):
        block = msg[i : i + 16]
        acc = (acc + int.from_bytes(block + b"\x01", "little")) * r % p
    return ((acc + s) & ((1 << 128) - 1)).to_bytes(16, "little")


def _pad16(n: int) -> bytes:
    return b"\0" * (-n % 16)


def _aead_tag(key: bytes, nonce: bytes, ct: bytes) -> bytes:
    otk = _keystream_pure(key, 0, nonce, 1)[:32]
    return _poly1305(otk, ct + _pad16(len(ct)) + struct.pack("<QQ", 0, len(ct)))


def _seal(key: bytes, nonce: bytes, plaintext: bytes) -> bytes:
    ct = _chacha20_xor(key, 1, nonce, plaintext)
    return ct + _aead_tag(key, nonce, ct)


def _open(key: bytes, nonce: bytes, sealed: bytes) -> bytes:
    ct, tag = sealed[:-_TAG], sealed[-_TAG:]
    if len(sealed) < _TAG or not hmac.compare_digest(_aead_tag(key, nonce, ct), tag):
        raise AgeError("decryption failed: wrong identity or corrupted file")
    return _chacha20_xor(key, 1, nonce, ct)


# ---- the age format ------------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    if "=" in text or "\n" in text:
        raise AgeError("non-canonical base64 in the age header")
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def _wrap_lines(text: str) -> str:
    lines = [text[i : i + 64] for i in range(0, len(text), 64)] or [""]
    if len(lines[-1]) == 64:
        lines.append("")
    return "\n".join(lines)


def encrypt(plaintext: bytes, recipients: list[str]) -> bytes:
    """``plaintext`` encrypted to every ``age1...`` recipient (at most 10, like Tinker)."""
    if not recipients:
        raise AgeError("need at least one recipient")
    keys = [_recipient_key(r) for r in recipients]
    file_key = os.urandom(16)
    header = _VERSION + b"\n"
    for pub in keys:
        eph = os.urandom(32)
        share = _x25519(eph, _BASEPOINT)
        shared = _x25519(eph, pub)
        if shared == b"\0" * 32:
            raise AgeError("recipient key is a low-order point")
        wrap = _hkdf(shared, share + pub, b"age-encryption.org/v1/X25519")
        body = _seal(wrap, b"\0" * 12, file_key)
        header += f"-> X25519 {_b64(share)}\n{_wrap_lines(_b64(body))}\n".encode()
    header += b"---"
    mac = hmac.new(_hkdf(file_key, b"", b"header"), header, hashlib.sha256).digest()
    out = bytearray(header + f" {_b64(mac)}\n".encode())
    nonce = os.urandom(16)
    payload_key = _hkdf(file_key, nonce, b"payload")
    out += nonce
    n_chunks = max(1, -(-len(plaintext) // _CHUNK))
    for i in range(n_chunks):
        chunk = plaintext[i * _CHUNK : (i + 1) * _CHUNK]
        last = i == n_chunks - 1
        out += _seal(payload_key, i.to_bytes(11, "big") + (b"\x01" if last else b"\x00"), chunk)
    return bytes(out)


def _parse_header(data: bytes) -> tuple[list[tuple[list[str], bytes]], bytes, bytes, int]:
    """(stanzas as (args, body), header bytes up to '---', mac, payload offset)."""
    if not data.startswith(_VERSION + b"\n"):
        raise AgeError("not an age v1 file")
    pos = len(_VERSION) + 1
    stanzas: list[tuple[list[str], bytes]] = []
    while True:
        end = data.find(b"\n", pos)
        if end < 0:
            raise AgeError("truncated age header")
        line = data[pos:end].decode("ascii", "replace")
        if line.startswith("--- "):
            return stanzas, data[: pos + 3], _unb64(line[4:]), end + 1
        if not line.startswith("-> "):
            raise AgeError(f"malformed age header line {line[:30]!r}")
        args = line[3:].split(" ")
        pos = end + 1
        body = b""
        while True:
            end = data.find(b"\n", pos)
            if end < 0:
                raise AgeError("truncated age stanza")
            body_line = data[pos:end].decode("ascii", "replace")
            pos = end + 1
            body += _unb64(body_line)
            if len(body_line) < 64:
                break
        stanzas.append((args, body))


def decrypt(data: bytes, identity: str) -> bytes:
    """The plaintext of an age file encrypted to ``identity``'s recipient."""
    secret = _secret(identity)
    pub = _x25519(secret, _BASEPOINT)
    stanzas, header, mac, offset = _parse_header(data)
    file_key = None
    for args, body in stanzas:
        if len(args) != 2 or args[0] != "X25519" or len(body) != 32:
            continue
        share = _unb64(args[1])
        shared = _x25519(secret, share)
        wrap = _hkdf(shared, share + pub, b"age-encryption.org/v1/X25519")
        try:
            file_key = _open(wrap, b"\0" * 12, body)
            break
        except AgeError:
            continue
    if file_key is None:
        raise AgeError("no identity matched any of the file's recipients")
    if not hmac.compare_digest(hmac.new(_hkdf(file_key, b"", b"header"), header, hashlib.sha256).digest(), mac):
        raise AgeError("age header MAC mismatch")
    nonce, payload = data[offset : offset + 16], data[offset + 16 :]
    if len(nonce) != 16:
        raise AgeError("truncated age payload")
    key = _hkdf(file_key, nonce, b"payload")
    out = bytearray()
    step = _CHUNK + _TAG
    n_chunks = max(1, -(-len(payload) // step))
    for i in range(n_chunks):
        sealed = payload[i * step : (i + 1) * step]
        last = i == n_chunks - 1
        out += _open(key, i.to_bytes(11, "big") + (b"\x01" if last else b"\x00"), sealed)
    return bytes(out)
