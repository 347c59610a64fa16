"""audio_processing_utils against the cookbook 0.6.1's own module (executed with its one import, the
AudioPart type, supplied); image_processing_utils' extra hints and its pure paths."""

from __future__ import annotations

import base64
import io
import sys
import types
import wave
from pathlib import Path
from typing import Any

import pytest

from tests.official_exec import load_official
from tinkerlite import audio_processing_utils as ours


@pytest.fixture(scope="module")
def official() -> types.ModuleType:
    base = types.ModuleType("tinker_cookbook.renderers.base")
    base.AudioPart = dict  # type: ignore[attr-defined]
    stubs = {"tinker_cookbook": types.ModuleType("tinker_cookbook"),
             "tinker_cookbook.renderers": types.ModuleType("tinker_cookbook.renderers"),
             "tinker_cookbook.renderers.base": base}
    return load_official("audio_processing_utils.py", "official_audio", stubs)


def _wav(frames: int = 80, rate: int = 8000) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\x00\x01" * frames)
    return buf.getvalue()


def _outcome(fn: Any, part: dict[str, Any]) -> Any:
    try:
        return fn(dict(part))
    except (ValueError, TypeError) as e:
        return type(e).__name__, str(e)


def test_audio_parts_match_the_cookbook(official: Any, tmp_path: Path) -> None:
    wav = _wav()
    (tmp_path / "a.wav").write_bytes(wav)
    (tmp_path / "b.mp3").write_bytes(b"ID3fake")
    (tmp_path / "noext").write_bytes(b"x")
    b64 = base64.b64encode(wav).decode()
    parts: list[dict[str, Any]] = [
        {"type": "audio", "audio": wav},
        {"type": "audio", "audio": wav, "num_frames": 80, "sample_rate": 8000},
        {"type": "audio", "audio": wav, "num_frames": 80},
        {"type": "audio", "audio": wav, "num_frames": 0, "sample_rate": 8000},
        {"type": "audio", "audio": f"data:audio/wav;base64,{b64}"},
        {"type": "audio", "audio": f"data:audio/wav;base64,{b64}", "format": "mp3"},
        {"type": "audio", "audio": f"data:audio/ogg;base64,{b64}"},
        {"type": "audio", "audio": "data:audio/wav,notbase64"},
        {"type": "audio", "audio": "data:audio/wav;base64"},
        {"type": "audio", "audio": "data:audio/wav;base64,@@@"},
        {"type": "audio", "audio": str(tmp_path / "a.wav")},
        {"type": "audio", "audio": (tmp_path / "a.wav").as_uri()},
        {"type": "audio", "audio": str(tmp_path / "b.mp3")},
        {"type": "audio", "audio": str(tmp_path / "b.mp3"), "num_frames": 10, "sample_rate": 44100},
        {"type": "audio", "audio": str(tmp_path / "noext")},
        {"type": "audio", "audio": "https://example.com/a.wav"},
        {"type": "audio", "audio": 42},
        {"type": "audio", "audio": wav, "format": "ogg"},
    ]
    for part in parts:
        assert _outcome(ours.audio_part_to_input_audio, part) == _outcome(official.audio_part_to_input_audio, part)


def test_wav_header_reader() -> None:
    assert ours.wav_frames_and_rate(_wav(123, 16000)) == (123, 16000)
    with pytest.raises(ValueError, match="not a readable WAV"):
        ours.wav_frames_and_rate(b"RIFFnope")


def test_image_utils_without_pillow_name_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from tinkerlite import image_processing_utils as img

    assert img.image_to_data_uri("data:image/png;base64,AAAA") == "data:image/png;base64,AAAA"
    assert img.get_image_processor("thinkingmachines/Inkling:peft:131072") is None
    monkeypatch.setitem(sys.modules, "PIL", None)
    monkeypatch.setitem(sys.modules, "PIL.Image", None)
    with pytest.raises(ImportError, match=r"tinkerlite\[vision\]"):
        img.image_to_data_uri("/tmp/x.png")


def test_image_round_trip_with_pillow(tmp_path: Path) -> None:
    pil = pytest.importorskip("PIL.Image")
    from tinkerlite import image_processing_utils as img

    picture = pil.new("RGBA", (40, 10), (255, 0, 0, 128))
    uri = img.image_to_data_uri(picture)
    assert uri.startswith("data:image/jpeg;base64,")
    assert img.resize_image(picture, 20).size == (20, 5) and img.resize_image(picture, 50) is picture
    with pytest.raises(ValueError, match="does not fetch remote image URLs"):
        img.image_to_data_uri("https://x/y.png")
