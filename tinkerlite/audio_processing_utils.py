"""Audio message parts as the ``input_audio`` object of OpenAI / tml-renderers (the cookbook's
``audio_processing_utils``): bytes, a base64 ``data:`` URI or a local path / ``file://`` URI, in wav, mp3
or flac. Standard library only. tinkerlite addition: :func:`wav_frames_and_rate` reads a WAV header (the
``wave`` module) for the ``num_frames`` / ``sample_rate`` a part may carry."""

from __future__ import annotations

import base64
import io
import wave
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from .renderers.base import AudioPart

__all__ = ["audio_part_to_input_audio", "wav_frames_and_rate"]

_AUDIO_FORMAT_BY_MIME = {
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
    "audio/flac": "flac",
    "audio/x-flac": "flac",
}
_SUPPORTED_AUDIO_FORMATS = ("wav", "mp3", "flac")


def _decode_audio_data_uri(source: str, explicit_format: str | None) -> tuple[bytes, str]:
    header, separator, payload = source.partition(",")
    if not separator:
        raise ValueError("audio data URI must contain a comma-separated payload")
    if ";base64" not in header.lower():
        raise ValueError("audio data URI must use base64 encoding")
    mime = header[5:].split(";", 1)[0].lower()
    inferred = _AUDIO_FORMAT_BY_MIME.get(mime)
    if explicit_format and inferred and explicit_format != inferred:
        raise ValueError(f"AudioPart.format {explicit_format!r} disagrees with data URI MIME type {mime!r}")
    audio_format = explicit_format or inferred
    if audio_format is None:
        raise ValueError(f"cannot infer audio format from data URI MIME type {mime!r}; set AudioPart.format explicitly")
    try:
        return base64.b64decode(payload, validate=True), audio_format
    except ValueError as exc:
        raise ValueError("audio data URI payload is not valid base64") from exc


def _read_local_audio(source: str, explicit_format: str | None) -> tuple[bytes, str]:
    parsed = urlparse(source)
    if parsed.scheme == "":
        path = Path(source).expanduser()
    elif parsed.scheme == "file" and parsed.netloc in ("", "localhost"):
        path = Path(unquote(parsed.path)).expanduser()
    else:
        raise ValueError(
            f"tml_v0 does not fetch remote audio URLs (scheme {parsed.scheme!r}); "
            "provide encoded bytes, a local path, or a base64 data: URI"
        )
    suffix = path.suffix.lower().removeprefix(".")
    audio_format = explicit_format or {"wave": "wav", "mpeg": "mp3"}.get(suffix, suffix)
    if not audio_format:
        raise ValueError(f"cannot infer audio format from path {str(path)!r}; set AudioPart.format")
    return path.read_bytes(), audio_format


def audio_part_to_input_audio(part: AudioPart) -> dict[str, Any]:
    """``{"data": base64, "format", ["num_frames", "sample_rate"]}`` for an ``AudioPart`` (mp3/flac parts
    must give frames and rate; wav may)."""
    source: Any = part["audio"]
    explicit_format: str | None = part.get("format")
    audio_format: str
    if isinstance(source, bytes):
        raw, audio_format = source, explicit_format or "wav"
    elif isinstance(source, str) and source.startswith("data:"):
        raw, audio_format = _decode_audio_data_uri(source, explicit_format)
    elif isinstance(source, str):
        raw, audio_format = _read_local_audio(source, explicit_format)
    else:
        raise TypeError(f"audio must be bytes or str; got {type(source)!r}")
    if audio_format not in _SUPPORTED_AUDIO_FORMATS:
        raise ValueError(f"unsupported audio format {audio_format!r}; expected 'wav', 'mp3', or 'flac'")
    out: dict[str, Any] = {"data": base64.b64encode(raw).decode("ascii"), "format": audio_format}
    has_frames, has_rate = "num_frames" in part, "sample_rate" in part
    if has_frames != has_rate:
        raise ValueError("AudioPart must provide num_frames and sample_rate together")
    if audio_format != "wav" and not has_frames:
        raise ValueError(f"{audio_format} AudioPart must provide num_frames and sample_rate")
    if has_frames and has_rate:
        num_frames, sample_rate = part["num_frames"], part["sample_rate"]
        if num_frames <= 0 or sample_rate <= 0:
            raise ValueError("AudioPart num_frames and sample_rate must be positive")
        out.update(num_frames=num_frames, sample_rate=sample_rate)
    return out


def wav_frames_and_rate(data: bytes) -> tuple[int, int]:
    """(frames, sample rate) from WAV bytes; ``ValueError`` naming the problem for anything else."""
    try:
        with wave.open(io.BytesIO(data)) as w:
            return w.getnframes(), w.getframerate()
    except (wave.Error, EOFError) as e:
        raise ValueError(f"not a readable WAV file: {e}") from e
