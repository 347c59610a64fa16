"""A request body kept as byte pieces, so a multi-megabyte protobuf body is never joined into one copy.

:class:`~tinkerlite.codec.protobuf.Writer` already builds a message as a list of pieces that reference
the payload buffers (tensor values, token arrays) instead of copying them. Joining those pieces into
one ``bytes`` costs a fresh allocation and a copy of the whole body on every request (~1.3 ms for a
64 x 2048 ``forward_backward``); ``http.client`` can write the pieces one by one instead, given an
explicit Content-Length. :class:`Body` is that hand-off: the pieces plus their total length.

The referenced buffers belong to immutable values (``TensorData`` storage, ``EncodedTextChunk``'s
array), so the same pieces can be sent again by a retry or a redirect and always give the same bytes
as :meth:`Body.tobytes`. Runs of small framing pieces are joined when the body is made, so the
transport writes a few large buffers rather than hundreds of few-byte ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from .protobuf import Buffer

__all__ = ["MIN_PIECE", "Body"]

MIN_PIECE = 4096  # pieces shorter than this are copied into runs; longer ones stay by reference


def _nbytes(piece: Buffer) -> int:
    return piece.nbytes if isinstance(piece, memoryview) else len(piece)


class Body:
    """Byte pieces and their total length; iterating yields the pieces, ``len`` is the byte count."""

    __slots__ = ("nbytes", "pieces")

    def __init__(self, pieces: Iterable[Buffer]) -> None:
        out: list[Buffer] = []
        run: list[Buffer] = []
        total = 0
        for piece in pieces:
            n = _nbytes(piece)
            if not n:
                continue
            total += n
            if n >= MIN_PIECE:
                if run:
                    out.append(run[0] if len(run) == 1 else b"".join(run))
                    run = []
                out.append(piece)
            else:
                run.append(piece)
        if run:
            out.append(run[0] if len(run) == 1 else b"".join(run))
        self.pieces: tuple[Buffer, ...] = tuple(out)
        self.nbytes = total

    def __len__(self) -> int:
        return self.nbytes

    def __iter__(self) -> Iterator[Buffer]:
        return iter(self.pieces)

    def tobytes(self) -> bytes:
        """The body as one ``bytes`` (one copy), for compression, logging and tests."""
        return b"".join(self.pieces)

    __bytes__ = tobytes

    def __repr__(self) -> str:
        return f"Body({self.nbytes} bytes in {len(self.pieces)} pieces)"
