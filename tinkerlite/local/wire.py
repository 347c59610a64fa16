"""The binary codecs the server needs, behind one small seam (request decode, result encode, zstd)."""

from __future__ import annotations

import threading

from tinkerlite.codec.fwdbwd_proto import ForwardBackwardRequestMsg, decode_forward_backward_request
from tinkerlite.codec.results_proto import encode_forward_backward_output, encode_sample_response
from tinkerlite.errors import MissingExtraError, ProtocolError
from tinkerlite.types import ForwardBackwardOutput, SampleResponse

from .http_types import HTTPError

__all__ = ["decode_fwdbwd", "encode_fwdbwd", "encode_sample", "zstd_decompress"]

# Decompression is CPU-bound (the GIL runs one at a time anyway) and each can hold up to the body limit
# twice over: two at once bound the memory that zstd bodies can take, whatever the number of handlers.
_ZSTD_SLOTS = threading.BoundedSemaphore(2)


def decode_fwdbwd(body: bytes) -> ForwardBackwardRequestMsg:
    return decode_forward_backward_request(body)


def encode_fwdbwd(out: ForwardBackwardOutput) -> bytes:
    return encode_forward_backward_output(out)


def encode_sample(resp: SampleResponse) -> bytes:
    return encode_sample_response(resp)


def zstd_decompress(data: bytes, max_output: int) -> bytes:
    from tinkerlite.codec import zstd

    try:
        with _ZSTD_SLOTS:
            return zstd.decompress(data, max_output)
    except MissingExtraError as e:
        raise HTTPError(415, f"zstd request bodies need the server's zstd support: {e}") from None
    except ProtocolError as e:
        msg = str(e)
        if "more than" in msg:  # decompression stopped at the cap, which is the body limit
            raise HTTPError(413, f"{msg} (limit max_body_bytes; raise it with --max-body-bytes)") from None
        raise HTTPError(400, f"zstd body: {msg}") from None
