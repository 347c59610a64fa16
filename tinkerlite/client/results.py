"""Turn a finished future (§3.2 ``Done``) into the typed result the caller asked for.

Protobuf is used when the server sends it; a JSON success for the two protobuf types is accepted
too (older servers, §5.7), unlike the official SDK which refuses it.
"""

from __future__ import annotations

from typing import Any, TypeVar

from ..errors import ProtocolError
from .futures_protocol import Done

R = TypeVar("R")


def forward_backward_output(done: Done) -> Any:
    if done.proto is not None:
        from ..codec.results_proto import decode_forward_backward_output

        return decode_forward_backward_output(done.proto)
    from ..types import ForwardBackwardOutput

    return ForwardBackwardOutput.from_json(done.json)


def sample_response(done: Done) -> Any:
    if done.proto is not None:
        from ..codec.results_proto import decode_sample_response

        return decode_sample_response(done.proto)
    from ..types import SampleResponse

    return SampleResponse.from_json(done.json)


def json_record(done: Done, cls: type[R]) -> R:
    if done.json is None:
        raise ProtocolError(f"expected a JSON {cls.__name__}, got a protobuf body")
    return cls.from_json(done.json)  # type: ignore[attr-defined, no-any-return]
