"""TensorData: the wire tensor (int64 or float32, dense or sparse CSR), stored as one flat ``array``.

A flat stdlib ``array`` is the cheapest container that still gives one-call little-endian packing
for the protobuf codec; nested lists and numpy arrays are views produced on demand.
"""

from __future__ import annotations

import math
import struct
from array import array
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from ..backend._bytes import array_from_le, array_to_le
from ..errors import ValidationError
from ._shape import flatten_nested, prod, unflatten

if TYPE_CHECKING:  # pragma: no cover
    import numpy

__all__ = ["TensorData", "TensorDtype"]

TensorDtype: TypeAlias = Literal["int64", "float32"]
_TYPECODES: dict[str, str] = {"int64": "q", "float32": "f"}
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_REPR_ITEMS = 8


def _check_dtype(dtype: Any, field: str) -> TensorDtype:
    if dtype is None:
        raise ValidationError("TensorData requires a dtype ('int64' or 'float32')", field=field)
    if dtype not in _TYPECODES:
        raise ValidationError(f"unknown dtype {dtype!r}; expected 'int64' or 'float32'", field=field)
    return dtype  # type: ignore[no-any-return]


def _to_array(values: Any, dtype: TensorDtype, field: str, adopt: bool = False) -> array:  # type: ignore[type-arg]
    """Convert a flat sequence, checking exactly what numpy would silently coerce."""
    code = _TYPECODES[dtype]
    if isinstance(values, array):
        if values.typecode == code:
            return values if adopt else array(code, values)
        values = values.tolist()
    try:
        # One C call checks every value (an int, in int64 range; a number that fits in float32, inf and nan
        # allowed) and packs it: about twice as fast as array(code, values), which also lets a float32
        # overflow through as inf.
        raw = struct.pack(f"<{len(values)}{code}", *values)
    except (struct.error, OverflowError, TypeError):
        raw = None
    if raw is not None:
        return array_from_le(raw, dtype)
    # Slow path, only taken to explain a failure precisely.
    for i, v in enumerate(values):
        if isinstance(v, (list, tuple)):
            raise ValidationError(f"ragged nested list: element {i} is a list but element 0 is not", field=field)
        if isinstance(v, bool):
            continue
        if dtype == "int64":
            if isinstance(v, float):
                if not math.isfinite(v):
                    raise ValidationError(f"{v!r} at index {i} in an int64 tensor", field=field)
                if v != int(v):
                    raise ValidationError(f"non-integer {v!r} at index {i} in an int64 tensor", field=field)
                if not _INT64_MIN <= int(v) <= _INT64_MAX:
                    raise ValidationError(f"{v!r} at index {i} is out of int64 range", field=field)
            elif isinstance(v, int):
                if not _INT64_MIN <= v <= _INT64_MAX:
                    raise ValidationError(f"{v} at index {i} is out of int64 range", field=field)
            else:
                raise ValidationError(f"non-numeric {type(v).__name__} at index {i}", field=field)
        elif not isinstance(v, (int, float)):
            raise ValidationError(f"non-numeric {type(v).__name__} at index {i}", field=field)
        elif isinstance(v, int) and abs(v) > 3.4e38:
            raise ValidationError(f"{v} at index {i} overflows float32", field=field)
        elif isinstance(v, float) and _overflows_float32(v):
            raise ValidationError(f"value {v!r} at index {i} overflows float32", field=field)
    if dtype == "int64":  # integral floats such as 3.0 are accepted, as numpy would
        return array(code, [int(v) for v in values])
    return array(code, [float(v) for v in values])


def _overflows_float32(v: float) -> bool:
    """A finite double that rounds to infinity in float32 (what ``array('f')`` would store as inf)."""
    try:
        struct.pack("<f", v)
    except OverflowError:
        return True
    return False


def _check_indices(values: Any, field: str) -> list[int]:
    if not isinstance(values, (list, tuple, array)):
        raise ValidationError(f"expected a list of ints, got {type(values).__name__}", field=field)
    out = list(values)
    for i, v in enumerate(out):
        if isinstance(v, bool) or not isinstance(v, int):
            raise ValidationError(f"non-integer {v!r} at index {i}", field=field)
    return out


class TensorData:
    """A tensor on the wire. Immutable; ``repr`` shows a preview, never the whole payload."""

    __slots__ = ("_flat", "dtype", "shape", "sparse_col_indices", "sparse_crow_indices")

    dtype: TensorDtype
    shape: list[int] | None
    sparse_crow_indices: list[int] | None
    sparse_col_indices: list[int] | None
    _flat: array  # type: ignore[type-arg]

    def __init__(
        self,
        data: Any = None,
        dtype: TensorDtype | None = None,
        shape: Sequence[int] | None = None,
        sparse_crow_indices: Sequence[int] | None = None,
        sparse_col_indices: Sequence[int] | None = None,
        *,
        _field: str = "TensorData",
        _adopt: bool = False,
    ) -> None:
        dt = _check_dtype(dtype, f"{_field}.dtype")
        if shape is not None:
            shape = _check_indices(shape, f"{_field}.shape")
            for i, d in enumerate(shape):
                if d < 0:
                    raise ValidationError(f"negative dimension {d} at axis {i}", field=f"{_field}.shape")
        inferred: list[int] | None = None
        if data is None:
            flat = array(_TYPECODES[dt])
        elif isinstance(data, array):
            flat = _to_array(data, dt, f"{_field}.data", adopt=_adopt)
        elif _is_numpy(data):
            flat, inferred = _array_from_numpy(data, dt)
        elif isinstance(data, (list, tuple)):
            values: Sequence[Any] = data
            if data and isinstance(data[0], (list, tuple)):
                values, inferred = flatten_nested(data, f"{_field}.data")
            flat = _to_array(values, dt, f"{_field}.data")
        else:
            raise ValidationError(
                f"data must be a list, array.array or numpy array, got {type(data).__name__}",
                field=f"{_field}.data",
            )

        sparse = sparse_crow_indices is not None or sparse_col_indices is not None
        crow = col = None
        if sparse:
            if sparse_crow_indices is None or sparse_col_indices is None:
                raise ValidationError("sparse CSR needs both sparse_crow_indices and sparse_col_indices", field=_field)
            if shape is None or len(shape) != 2:
                raise ValidationError("a sparse CSR tensor needs a 2-D shape", field=f"{_field}.shape")
            crow = _check_indices(sparse_crow_indices, f"{_field}.sparse_crow_indices")
            col = _check_indices(sparse_col_indices, f"{_field}.sparse_col_indices")
            _check_csr(crow, col, len(flat), shape, _field)
        elif shape is not None:
            if prod(shape) != len(flat):
                raise ValidationError(
                    f"shape {shape} holds {prod(shape)} values but data has {len(flat)}", field=f"{_field}.shape"
                )
            if inferred is not None and len(inferred) > 1 and inferred != shape:
                raise ValidationError(
                    f"nested data has shape {inferred} but shape={shape} was given", field=f"{_field}.shape"
                )
        elif inferred is not None and len(inferred) > 1:
            shape = inferred  # keep the structure of nested input (the official SDK would drop it)

        object.__setattr__(self, "dtype", dt)
        object.__setattr__(self, "shape", list(shape) if shape is not None else None)
        object.__setattr__(self, "sparse_crow_indices", crow)
        object.__setattr__(self, "sparse_col_indices", col)
        object.__setattr__(self, "_flat", flat)

    @classmethod
    def _adopt_dense(cls, flat: array, dtype: TensorDtype, shape: list[int]) -> TensorData:  # type: ignore[type-arg]
        """A dense tensor over ``flat`` as it is, unchecked and uncopied: for decoders that built ``flat``
        in ``dtype``'s typecode and checked that ``shape`` holds exactly its values (half of decoding a
        forward_backward output was re-validating what the decoder had just produced)."""
        if flat.typecode != _TYPECODES[dtype] or prod(shape) != len(flat):
            raise ValidationError(f"shape {shape} / typecode {flat.typecode!r} do not fit {dtype}", field="TensorData")
        self = object.__new__(cls)
        object.__setattr__(self, "dtype", dtype)
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "sparse_crow_indices", None)
        object.__setattr__(self, "sparse_col_indices", None)
        object.__setattr__(self, "_flat", flat)
        return self

    # immutability ---------------------------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"TensorData is immutable (tried to set {name!r})")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("TensorData is immutable")

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild,
            (self.to_bytes(), self.dtype, self.shape, self.sparse_crow_indices, self.sparse_col_indices),
        )

    # construction ---------------------------------------------------------------------------------
    @classmethod
    def from_list(cls, data: Sequence[Any], dtype: TensorDtype) -> TensorData:
        """Nested or flat list; the shape is inferred (``[len]`` for flat)."""
        td = cls(data=list(data), dtype=dtype)
        if td.shape is None:
            object.__setattr__(td, "shape", [len(td._flat)])
        return td

    @classmethod
    def from_bytes(
        cls,
        buf: bytes | bytearray | memoryview,
        dtype: TensorDtype,
        shape: Sequence[int] | None = None,
        sparse_crow_indices: Sequence[int] | None = None,
        sparse_col_indices: Sequence[int] | None = None,
    ) -> TensorData:
        """From little-endian bytes in one call (the codecs' path)."""
        _check_dtype(dtype, "TensorData.dtype")
        try:
            flat = array_from_le(buf, dtype)
        except ValueError as e:
            raise ValidationError(str(e), field="TensorData.data") from None
        return cls(flat, dtype, shape, sparse_crow_indices, sparse_col_indices, _adopt=True)

    @classmethod
    def from_numpy(cls, array: numpy.ndarray) -> TensorData:
        arr = array
        kind = arr.dtype.kind
        if kind == "f":
            dtype: TensorDtype = "float32"
        elif kind in "iub":
            dtype = "int64"
        else:
            raise ValidationError(f"unsupported numpy dtype {arr.dtype}", field="TensorData.dtype")
        if not _is_numpy(arr):
            return cls(arr, dtype, list(arr.shape))  # an array-like: the constructor says what is wrong
        flat, shape = _array_from_numpy(arr, dtype)  # numpy vouches for the shape and the values' range
        td = object.__new__(cls)
        for name, value in (("dtype", dtype), ("shape", shape), ("sparse_crow_indices", None),
                            ("sparse_col_indices", None), ("_flat", flat)):  # fmt: skip
            object.__setattr__(td, name, value)
        return td

    @classmethod
    def from_torch(cls, tensor: Any) -> TensorData:
        t = tensor.detach().cpu()
        if t.is_floating_point():
            t = t.float()
        return cls.from_numpy(t.contiguous().numpy())

    @classmethod
    def from_torch_sparse(cls, tensor: Any, pad_value: int = 0) -> TensorData:
        """CSR form of a dense 2-D torch tensor, leaving out ``pad_value`` entries, when that is smaller
        (dense otherwise, and for other ranks), as the SDK does."""
        if isinstance(pad_value, bool) or not isinstance(pad_value, int):
            raise ValidationError(f"must be an int, got {pad_value!r}", field="TensorData.pad_value")
        from .datum import sparsify

        return sparsify(cls.from_torch(tensor), pad_value)

    # views ------------------------------------------------------------------------------------------
    @property
    def flat(self) -> array:  # type: ignore[type-arg]
        """The stored values: all of them when dense, the listed ones when sparse. Do not mutate."""
        return self._flat

    @property
    def is_sparse(self) -> bool:
        return self.sparse_crow_indices is not None

    @property
    def resolved_shape(self) -> list[int]:
        """``shape`` when given, else the 1-D shape a reader infers."""
        return list(self.shape) if self.shape is not None else [len(self._flat)]

    @property
    def data(self) -> list[Any]:
        """Flattened values as a list (listed values only, for sparse tensors)."""
        return self._flat.tolist()

    def to_bytes(self) -> bytes:
        return array_to_le(self._flat)

    def dense_flat(self, pad_value: float = 0) -> array:  # type: ignore[type-arg]
        """Dense row-major values, CSR expanded with ``pad_value`` in unlisted cells."""
        if self.sparse_crow_indices is None:
            return self._flat
        assert self.shape is not None and self.sparse_col_indices is not None
        nrows, ncols = self.shape
        out = array(self._flat.typecode, [pad_value]) * (nrows * ncols)
        crow, col, vals = self.sparse_crow_indices, self.sparse_col_indices, self._flat
        for r in range(nrows):
            base = r * ncols
            for j in range(crow[r], crow[r + 1]):
                out[base + col[j]] = vals[j]
        return out

    def tolist(self, pad_value: float = 0) -> list[Any]:
        out: list[Any] = unflatten(self.dense_flat(pad_value).tolist(), self.resolved_shape)
        return out

    def to_numpy(self, pad_value: float = 0) -> numpy.ndarray:
        from .._optional import require

        np = require("numpy", "TensorData.to_numpy")
        # One copy: a view of the native-endian array('q'/'f') buffer, copied once into an owned array.
        view = np.frombuffer(self.dense_flat(pad_value), dtype=np.int64 if self.dtype == "int64" else np.float32)
        return view.reshape(self.resolved_shape).copy()  # type: ignore[no-any-return]

    def to_torch(self, pad_value: float = 0) -> Any:
        from .._optional import require

        torch = require("torch", "TensorData.to_torch", extra="torch")
        return torch.from_numpy(self.to_numpy(pad_value).copy())

    # comparison and display -------------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TensorData):
            return NotImplemented
        return (
            self.dtype == other.dtype
            and self.resolved_shape == other.resolved_shape
            and self.sparse_crow_indices == other.sparse_crow_indices
            and self.sparse_col_indices == other.sparse_col_indices
            and self._flat.tobytes() == other._flat.tobytes()
        )

    __hash__ = None  # type: ignore[assignment]

    def __len__(self) -> int:
        return self.resolved_shape[0] if self.resolved_shape else 1

    def __repr__(self) -> str:
        n = len(self._flat)
        head = ", ".join(repr(v) for v in self._flat[:_REPR_ITEMS])
        more = f", ... ({n} values)" if n > _REPR_ITEMS else ""
        sparse = ", sparse_csr" if self.is_sparse else ""
        return f"TensorData(dtype={self.dtype!r}, shape={self.resolved_shape}{sparse}, data=[{head}{more}])"


def _rebuild(buf: bytes, dtype: TensorDtype, shape: Any, crow: Any, col: Any) -> TensorData:
    return TensorData.from_bytes(buf, dtype, shape, crow, col)


def _is_numpy(x: Any) -> bool:
    return type(x).__module__ == "numpy" and type(x).__name__ == "ndarray"


def _array_from_numpy(arr: Any, dtype: TensorDtype) -> tuple[array, list[int]]:  # type: ignore[type-arg]
    import numpy as np  # only reached when the caller already has numpy

    if dtype == "int64" and arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)):
            raise ValidationError("NaN or infinity in an int64 tensor", field="TensorData.data")
    le = np.ascontiguousarray(arr, dtype="<i8" if dtype == "int64" else "<f4")  # no copy when it already is
    # One copy, numpy's buffer straight into the array (a bytes view: array.frombytes takes only bytes-like).
    return array_from_le(le.reshape(-1).view(np.uint8).data, dtype), [int(d) for d in arr.shape]


def _check_csr(crow: list[int], col: list[int], nnz: int, shape: Sequence[int], field: str) -> None:
    nrows, ncols = shape
    f_crow, f_col = f"{field}.sparse_crow_indices", f"{field}.sparse_col_indices"
    if len(crow) != nrows + 1:
        raise ValidationError(f"has {len(crow)} entries; a {nrows}-row tensor needs {nrows + 1}", field=f_crow)
    if crow[0] != 0:
        raise ValidationError(f"must start at 0, starts at {crow[0]}", field=f_crow)
    for r in range(nrows):
        if crow[r + 1] < crow[r]:
            raise ValidationError(f"not monotone at row {r}: {crow[r]} > {crow[r + 1]}", field=f_crow)
    if crow[-1] != len(col) or len(col) != nnz:
        raise ValidationError(
            f"crow ends at {crow[-1]} but there are {len(col)} column indices and {nnz} values", field=f_col
        )
    for r in range(nrows):
        prev = -1
        for j in range(crow[r], crow[r + 1]):
            c = col[j]
            if not 0 <= c < ncols:
                raise ValidationError(f"column {c} out of range [0, {ncols}) in row {r}", field=f_col)
            if c <= prev:
                raise ValidationError(f"columns not strictly increasing in row {r}", field=f_col)
            prev = c
