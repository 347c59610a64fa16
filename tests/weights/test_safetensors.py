"""safetensors without torch: the exact byte layout, every dtype, bf16 rounding, bad files, and the real package.

The conformance test at the end runs the official ``safetensors`` package (in a throwaway venv) on files we
write, and our reader on files it writes.
"""

from __future__ import annotations

import json
import struct
import subprocess
from pathlib import Path

import pytest

from tinkerlite.weights._safetensors import (
    RawTensor,
    SafetensorsError,
    load_raw,
    read_header,
    save,
    save_raw,
)


def test_byte_layout_is_the_reference_one(tmp_path: Path) -> None:
    b = RawTensor.from_values([1, 2, 3], (3,), "I32")
    a = RawTensor.from_values([0.5, -2.0], (1, 2), "F32")
    data = save({"b": b, "a": a}, {"format": "pt"})
    (n,) = struct.unpack("<Q", data[:8])
    assert n % 8 == 0  # header padded with spaces to 8 bytes, as the reference writer does
    header = json.loads(data[8 : 8 + n])
    assert header == {
        "__metadata__": {"format": "pt"},
        "a": {"dtype": "F32", "shape": [1, 2], "data_offsets": [0, 8]},  # name order
        "b": {"dtype": "I32", "shape": [3], "data_offsets": [8, 20]},
    }
    assert data[8 + n :] == struct.pack("<2f", 0.5, -2.0) + struct.pack("<3i", 1, 2, 3)
    save_raw({"a": a, "b": b}, tmp_path / "x.safetensors", {"format": "pt"})
    tensors, meta = load_raw(tmp_path / "x.safetensors")
    assert meta == {"format": "pt"} and tensors["a"].tolist() == [0.5, -2.0] and tensors["b"].tolist() == [1, 2, 3]
    assert read_header(tmp_path / "x.safetensors")["b"]["shape"] == [3]


def test_stdlib_bf16_rounds_to_nearest_even() -> None:
    # 1 + 2^-8 lies exactly between two bf16 values: ties go to the even mantissa (1.0); a hair above rounds up.
    t = RawTensor.from_values([1.0 + 2**-8, 1.0 + 2**-8 + 2**-20, -3.0, float("inf")], (4,), "BF16")
    assert t.tolist() == [1.0, 1.0 + 2**-7, -3.0, float("inf")]


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"])
def test_numpy_round_trip_every_dtype(tmp_path: Path, dtype: str) -> None:
    np = pytest.importorskip("numpy")
    from tinkerlite.weights._safetensors import load_file, save_file

    arr = (np.arange(24).reshape(2, 3, 4) % 7 - 3).astype(dtype)
    save_file({"w": arr, "scalar": np.asarray(5, dtype=dtype)}, tmp_path / "w.safetensors")
    back = load_file(tmp_path / "w.safetensors")
    assert back["w"].dtype == arr.dtype and back["w"].shape == (2, 3, 4)
    np.testing.assert_array_equal(back["w"], arr)
    assert back["scalar"].shape == ()


def test_numpy_bf16_matches_the_stdlib_path() -> None:
    np = pytest.importorskip("numpy")
    values = np.random.default_rng(0).standard_normal(1000).astype(np.float32)
    fast = RawTensor.from_numpy(values, dtype="BF16")
    slow = RawTensor.from_values(values.tolist(), (1000,), "BF16")
    assert fast.data == slow.data
    np.testing.assert_allclose(fast.to_numpy(), values, rtol=2**-8)


def _with_header(header: dict[str, object], data: bytes = b"\x00" * 8) -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x01\x00", "too short"),
        (struct.pack("<Q", 1000) + b"{}", "does not fit"),
        (struct.pack("<Q", 2) + b"[]", "JSON object"),
        (struct.pack("<Q", 8) + b"not json", "not JSON"),
        (_with_header({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}), "bytes for F32"),
        (_with_header({"a": {"dtype": "Q99", "shape": [1], "data_offsets": [0, 4]}}), "bad dtype"),
        (_with_header({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}), "or offsets"),
        (_with_header({"a": {"dtype": "F32"}}), "malformed"),
    ],
)
def test_bad_files_are_refused(tmp_path: Path, data: bytes, message: str) -> None:
    path = tmp_path / "bad.safetensors"
    path.write_bytes(data)
    with pytest.raises(SafetensorsError, match=message):
        load_raw(path)


def test_raw_tensor_checks_its_size() -> None:
    with pytest.raises(SafetensorsError, match="needs 8 bytes"):
        RawTensor("F32", (2,), b"\x00" * 4)
    with pytest.raises(SafetensorsError, match="unknown safetensors dtype"):
        RawTensor("F99", (1,), b"")


@pytest.mark.network_registry
@pytest.mark.slow
def test_the_official_package_reads_ours_and_we_read_its(tmp_path: Path) -> None:
    np = pytest.importorskip("numpy")
    from tests.official_env import ensure_venv
    from tinkerlite.weights._safetensors import load_file, save_file

    py = ensure_venv("safetensors-0.8", ["safetensors==0.8.0", "numpy"])
    ours = tmp_path / "ours.safetensors"
    arrays = {"f": np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4), "i": np.arange(5, dtype=np.int64)}
    save_file(arrays, ours, {"who": "tinkerlite"})
    theirs = tmp_path / "theirs.safetensors"
    script = f"""
import json, numpy as np
from safetensors.numpy import load_file, save_file
from safetensors import safe_open
got = load_file({str(ours)!r})
with safe_open({str(ours)!r}, "np") as f:
    meta = f.metadata()
print(json.dumps({{k: v.tolist() for k, v in got.items()}} | {{"meta": meta}}))
save_file({{"h": np.arange(6, dtype=np.float16).reshape(2, 3), "b": np.array([True, False])}}, {str(theirs)!r},
          metadata={{"format": "np"}})
"""
    out = json.loads(subprocess.run([str(py), "-c", script], capture_output=True, text=True, check=True).stdout)
    assert out["f"] == arrays["f"].tolist() and out["i"] == arrays["i"].tolist()
    assert out["meta"] == {"who": "tinkerlite"}
    back = load_file(theirs)
    np.testing.assert_array_equal(back["h"], np.arange(6, dtype=np.float16).reshape(2, 3))
    assert back["b"].tolist() == [True, False]
    assert load_raw(theirs)[1] == {"format": "np"}
