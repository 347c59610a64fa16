import math
import pickle
from array import array

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinkerlite.errors import ValidationError
from tinkerlite.types import TensorData


def test_dense_roundtrip_and_shape_inference() -> None:
    td = TensorData([[1, 2, 3], [4, 5, 6]], "int64")
    assert td.shape == [2, 3]
    assert td.tolist() == [[1, 2, 3], [4, 5, 6]]
    assert td.data == [1, 2, 3, 4, 5, 6]
    flat = TensorData([1.5, 2.5], "float32")
    assert flat.shape is None  # as the official SDK: 1-D shape is left to the reader
    assert flat.resolved_shape == [2]


def test_explicit_shape_reshapes_flat_data() -> None:
    td = TensorData([1, 2, 3, 4, 5, 6], "int64", shape=[3, 2])
    assert td.tolist() == [[1, 2], [3, 4], [5, 6]]


@pytest.mark.parametrize(
    ("kwargs", "field", "fragment"),
    [
        ({"data": [1], "dtype": "int32"}, "TensorData.dtype", "unknown dtype"),
        ({"data": [1]}, "TensorData.dtype", "requires a dtype"),
        ({"data": [1, 2, 3], "dtype": "int64", "shape": [2]}, "TensorData.shape", "holds 2 values"),
        ({"data": [[1, 2], [3]], "dtype": "int64"}, "TensorData.data", "ragged"),
        ({"data": [1, [2]], "dtype": "int64"}, "TensorData.data", "ragged"),
        ({"data": [float("nan")], "dtype": "int64"}, "TensorData.data", "nan"),
        ({"data": [float("inf")], "dtype": "int64"}, "TensorData.data", "inf"),
        ({"data": [1.5], "dtype": "int64"}, "TensorData.data", "non-integer"),
        ({"data": [2**63], "dtype": "int64"}, "TensorData.data", "out of int64 range"),
        ({"data": ["a"], "dtype": "float32"}, "TensorData.data", "non-numeric"),
        ({"data": [1e39], "dtype": "float32"}, "TensorData.data", "overflows float32"),
        ({"data": [1], "dtype": "int64", "shape": [-1]}, "TensorData.shape", "negative dimension"),
    ],
)
def test_bad_dense_input_names_the_field(kwargs: dict, field: str, fragment: str) -> None:
    with pytest.raises(ValidationError) as ei:
        TensorData(**kwargs)
    assert ei.value.field == field
    assert fragment in str(ei.value)


def test_sparse_csr_densifies_with_pad_value() -> None:
    td = TensorData([5, 7], "int64", [2, 3], sparse_crow_indices=[0, 1, 2], sparse_col_indices=[2, 0])
    assert td.is_sparse
    assert td.tolist() == [[0, 0, 5], [7, 0, 0]]
    assert td.tolist(pad_value=-1) == [[-1, -1, 5], [7, -1, -1]]


@pytest.mark.parametrize(
    ("crow", "col", "fragment"),
    [
        ([0, 1], [0], "needs 3"),  # wrong row count
        ([1, 1, 2], [0, 1], "must start at 0"),
        ([0, 2, 1], [0, 1], "not monotone"),
        ([0, 1, 2], [0, 3], "out of range"),
        ([0, 2, 2], [1, 1], "strictly increasing"),
        ([0, 1, 3], [0, 1], "crow ends at 3"),
    ],
)
def test_bad_csr_is_rejected(crow: list[int], col: list[int], fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        TensorData([1, 2], "int64", [2, 3], sparse_crow_indices=crow, sparse_col_indices=col)


def test_sparse_needs_both_index_lists_and_2d_shape() -> None:
    with pytest.raises(ValidationError, match="both"):
        TensorData([1], "int64", [1, 1], sparse_crow_indices=[0, 1])
    with pytest.raises(ValidationError, match="2-D shape"):
        TensorData([1], "int64", [1], sparse_crow_indices=[0, 1], sparse_col_indices=[0])


def test_immutable_and_picklable_and_small_repr() -> None:
    td = TensorData(list(range(100_000)), "int64")
    with pytest.raises(AttributeError):
        td.dtype = "float32"  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(td)) == td
    assert len(repr(td)) < 200


def test_bytes_roundtrip_is_little_endian() -> None:
    td = TensorData([1, 256], "int64")
    assert td.to_bytes() == (1).to_bytes(8, "little") + (256).to_bytes(8, "little")
    back = TensorData.from_bytes(td.to_bytes(), "int64", [2])
    assert back.tolist() == [1, 256]
    with pytest.raises(ValidationError, match="whole number"):
        TensorData.from_bytes(b"\x00" * 7, "int64")


def test_float32_rounding_matches_storage() -> None:
    td = TensorData([0.1], "float32")
    assert td.data[0] == array("f", [0.1])[0]
    assert td.data[0] != 0.1


def test_numpy_interop() -> None:
    np = pytest.importorskip("numpy")
    arr = np.arange(6, dtype=np.int32).reshape(2, 3)
    td = TensorData.from_numpy(arr)
    assert td.dtype == "int64" and td.shape == [2, 3]
    out = td.to_numpy()
    assert out.dtype == np.int64 and out.tolist() == arr.tolist()
    with pytest.raises(ValidationError):
        TensorData(np.array([np.nan]), "int64")


nested_ints = st.integers(1, 5).flatmap(
    lambda cols: st.lists(st.lists(st.integers(-(2**62), 2**62), min_size=cols, max_size=cols), max_size=6)
)


@given(nested_ints)
def test_property_nested_int_roundtrip(rows: list[list[int]]) -> None:
    if not rows:
        return
    td = TensorData(rows, "int64")
    assert td.tolist() == rows
    assert TensorData.from_bytes(td.to_bytes(), "int64", td.shape) == td


@given(st.lists(st.floats(allow_nan=False, allow_infinity=False, width=32)))
def test_property_float32_values_survive_exactly(values: list[float]) -> None:
    td = TensorData(values, "float32")
    assert td.data == values
    assert all(not math.isnan(v) for v in td.data)
