import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinkerlite.codec import json_codec
from tinkerlite.errors import ProtocolError, ValidationError
from tinkerlite.types import AdamParams

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_roundtrip_drops_none_keys(value: object) -> None:
    assert json_codec.loads(json_codec.dumps(value)) == json_codec.drop_none(value)


def test_exclude_none_and_records() -> None:
    assert json_codec.dumps({"a": None, "b": {"c": None, "d": 1}}) == b'{"b":{"d":1}}'
    assert json_codec.loads(json_codec.dumps(AdamParams()))["beta2"] == 0.95


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_never_emits_nonfinite(bad: float) -> None:
    with pytest.raises(ValidationError, match=r"x\[1\]"):
        json_codec.dumps({"x": [0.0, bad]})


@pytest.mark.parametrize("raw", [b"{", b"NaN", b'{"a": Infinity}', b"\xff\xfe", b""])
def test_malformed_input_is_protocol_error(raw: bytes) -> None:
    with pytest.raises(ProtocolError):
        json_codec.loads(raw)


def test_stdlib_and_orjson_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    value = {"é": [1, 2.5, "x", True, {"k": -3}]}
    fast = json_codec.dumps(value)
    monkeypatch.setattr(json_codec, "_orjson", None)
    monkeypatch.setattr(json_codec, "_checked", True)
    assert json_codec.dumps(value) == fast
