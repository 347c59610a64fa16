"""Fuzz the decoders with mutated golden bytes: only ProtocolError may escape, and nothing may take > 1 s.

The default run does a few thousand inputs; the ``slow`` tier does >= 10,000 per message type.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tinkerlite.codec.fwdbwd_proto import decode_forward_backward_request
from tinkerlite.codec.protobuf import encode_varint, iter_fields, read_varint
from tinkerlite.codec.results_proto import decode_forward_backward_output, decode_sample_response
from tinkerlite.errors import ProtocolError

from ._proto_helpers import GOLDEN

DECODERS: dict[str, tuple[Callable[[bytes], Any], list[bytes]]] = {
    "request": (
        decode_forward_backward_request,
        [p.read_bytes() for p in sorted((GOLDEN / "requests").rglob("*.bin"))],
    ),
    "fbo": (decode_forward_backward_output, [p.read_bytes() for p in sorted((GOLDEN / "outputs").glob("fbo_*.bin"))]),
    "sample": (decode_sample_response, [p.read_bytes() for p in sorted((GOLDEN / "outputs").glob("sample_*.bin"))]),
}
ALL_SEEDS = [b for _, seeds in DECODERS.values() for b in seeds]


def length_positions(buf: bytes, start: int = 0, end: int | None = None, depth: int = 0) -> list[tuple[int, int, int]]:
    """(offset, size, value) of every length prefix, descending into payloads that parse as messages."""
    end = len(buf) if end is None else end
    out: list[tuple[int, int, int]] = []
    pos = start
    try:
        while pos < end:
            tag, pos = read_varint(buf, pos, end)
            wt = tag & 7
            if wt == 0:
                _, pos = read_varint(buf, pos, end)
            elif wt == 1:
                pos += 8
            elif wt == 5:
                pos += 4
            elif wt == 2:
                n, p2 = read_varint(buf, pos, end)
                out.append((pos, p2 - pos, n))
                if depth < 6 and p2 + n <= end:
                    try:
                        list(iter_fields(memoryview(buf), p2, p2 + n))
                        out.extend(length_positions(buf, p2, p2 + n, depth + 1))
                    except ProtocolError:
                        pass
                pos = p2 + n
            else:
                return out
    except ProtocolError:
        pass
    return out


def mutate(rng: random.Random, seed: bytes) -> bytes:
    buf = bytearray(seed)
    op = rng.randrange(9)
    if op == 0 and buf:  # bit flips
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(len(buf))
            buf[i] ^= 1 << rng.randrange(8)
    elif op == 1:  # truncation
        del buf[rng.randrange(len(buf) + 1) :]
    elif op == 2:  # splice two goldens (any types)
        other = rng.choice(ALL_SEEDS)
        buf = buf[: rng.randrange(len(buf) + 1)] + other[rng.randrange(len(other) + 1) :]
    elif op in (3, 4):  # length inflation / deflation of a real length prefix
        spots = length_positions(bytes(buf))
        if spots:
            off, size, n = rng.choice(spots)
            new = rng.choice([n + 1, n + rng.randint(1, 64), n * 2 + 1, 2**31, 2**32 + 7, 2**62, 2**64 - 1,
                              max(0, n - 1), 0])  # fmt: skip
            buf[off : off + size] = encode_varint(min(new, 2**64 - 1))
    elif op == 5 and buf:  # wire-type swap on a random byte treated as a tag
        i = rng.randrange(len(buf))
        buf[i] = (buf[i] & ~7) | rng.randrange(8)
    elif op == 6:  # insert random bytes, or an over-long varint
        i = rng.randrange(len(buf) + 1)
        junk = rng.choice([bytes(rng.randrange(256) for _ in range(rng.randint(1, 16))), b"\x80" * 11, b"\xff" * 10])
        buf[i:i] = junk
    elif op == 7 and buf:  # duplicate or delete a range
        i = rng.randrange(len(buf))
        j = min(len(buf), i + rng.randint(1, 64))
        if rng.random() < 0.5:
            buf[i:i] = buf[i:j]
        else:
            del buf[i:j]
    else:  # entirely random
        buf = bytearray(rng.randrange(256) for _ in range(rng.randint(0, 64)))
    if rng.random() < 0.2:
        return mutate(rng, bytes(buf))  # stack mutations sometimes
    return bytes(buf)


def run_fuzz(kind: str, n: int, seed: int) -> dict[str, float]:
    decode, seeds = DECODERS[kind]
    rng = random.Random(seed)
    worst = 0.0
    rejected = 0
    for _ in range(n):
        data = mutate(rng, rng.choice(seeds))
        start = time.perf_counter()
        try:
            decode(data)
        except ProtocolError:
            rejected += 1
        except Exception as exc:  # pragma: no cover - this is the failure being hunted
            raise AssertionError(f"{kind}: {type(exc).__name__}: {exc} on input {data.hex()}") from exc
        worst = max(worst, time.perf_counter() - start)
    assert worst < 1.0, f"{kind}: slowest input took {worst:.3f}s"
    return {"worst_s": worst, "rejected": rejected / n}


@pytest.mark.parametrize("kind", list(DECODERS))
def test_fuzz_quick(kind: str) -> None:
    stats = run_fuzz(kind, 1500, seed=1234)
    assert 0.2 < stats["rejected"] < 1.0  # the mutations do reach past the framing checks


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(DECODERS))
def test_fuzz_10k(kind: str) -> None:
    run_fuzz(kind, 10_000, seed=98765)


@pytest.mark.parametrize("kind", list(DECODERS))
def test_pristine_seeds_decode(kind: str) -> None:
    decode, seeds = DECODERS[kind]
    assert seeds
    for s in seeds:
        decode(s)


def test_length_positions_finds_nested_lengths() -> None:
    seed = (GOLDEN / "requests" / "038" / "cross_entropy.bin").read_bytes()
    assert len(length_positions(seed)) > 10


def test_goldens_dir_exists() -> None:
    assert isinstance(GOLDEN, Path) and GOLDEN.is_dir()
