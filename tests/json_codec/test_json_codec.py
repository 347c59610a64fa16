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


@pytest.mark.parametrize("fast", [True, False])
def test_nonfinite_found_without_a_pre_walk(fast: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if not fast:
        monkeypatch.setattr(json_codec, "_orjson", None)
        monkeypatch.setattr(json_codec, "_checked", True)
    elif json_codec._fast() is None:
        pytest.skip("orjson is not installed")
    for bad, where in (
        ({"w": [0.5] * 100 + [float("nan")]}, r"w\[100\]"),
        ({"a": {"b": [1, 2, {"c": float("inf")}]}}, r"a\.b\[2\]\.c"),
        ({"s": "a null in text", "x": [1e308, 1e308, float("-inf")]}, r"x\[2\]"),
    ):
        with pytest.raises(ValidationError, match=where):
            json_codec.dumps(bad)
    assert json_codec.dumps({"s": "null", "l": [None, 1]}) == b'{"s":"null","l":[null,1]}'


def test_numeric_lists_are_not_copied_and_other_lists_still_lose_none_keys() -> None:
    nums = [1, 2.5, True] * 10
    out = json_codec.drop_none({"n": nums, "m": [1, {"k": None, "j": 2}], "big": [1e308, 1e308, {"z": None}]})
    assert out["n"] is nums
    assert out["m"] == [1, {"j": 2}] and out["big"] == [1e308, 1e308, {}]
