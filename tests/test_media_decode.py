"""Decoding for the models: images to RGB, videos to sampled frames, audio to 16 kHz mono.

All media is generated here. Each video frame draws its own index as eight black/white stripes,
so a test can tell which source frame it got back even after lossy compression.
"""

from __future__ import annotations

import gc
import io
import tracemalloc
import weakref
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import av
import numpy as np
import pytest
from PIL import Image

from mien.errors import CorruptMediaError, TooLargeError
from mien.media import (
    SAMPLE_RATE_HZ,
    iter_audio,
    iter_frames,
    load_audio,
    load_image,
    video_info,
)
from mien.media.video import _by_time

NTSC = Fraction(30_000, 1001)
STRIPES = 8
STRIPE_PX = 8
HEIGHT = 16

# --- media factories -------------------------------------------------------------------------


def _counter_pixels(index: int) -> np.ndarray:
    bits = [(index >> bit) & 1 for bit in range(STRIPES)]
    row = np.repeat(np.array(bits, np.uint8) * 255, STRIPE_PX)
    return np.repeat(np.tile(row, (HEIGHT, 1))[..., None], 3, axis=2)


def _read_counter(image: np.ndarray) -> int:
    stripes = image[:, :, 0].reshape(image.shape[0], STRIPES, STRIPE_PX).mean(axis=(0, 2))
    return sum(1 << bit for bit, value in enumerate(stripes) if value > 127)


def _sine(rate_hz: int, seconds: float, channels: int, freq_hz: float = 440.0) -> np.ndarray:
    """A tone, ``(channels, samples)`` float32."""
    time_s = np.arange(round(rate_hz * seconds)) / rate_hz
    return np.tile(0.5 * np.sin(2 * np.pi * freq_hz * time_s), (channels, 1)).astype(np.float32)


def _add_audio(out: av.container.OutputContainer, codec: str, rate_hz: int) -> av.AudioStream:
    stream = out.add_stream(codec, rate=rate_hz, layout="stereo")
    assert isinstance(stream, av.AudioStream)
    return stream


def _encode_tone(out: av.container.OutputContainer, stream: av.AudioStream, seconds: float) -> None:
    """Mux a stereo 440 Hz tone of ``seconds`` into ``stream``."""
    samples = _sine(stream.rate, seconds, channels=2)
    block = 1024
    for start in range(0, samples.shape[1], block):
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(samples[:, start : start + block]), format="fltp", layout="stereo"
        )
        frame.sample_rate, frame.pts = stream.rate, start
        out.mux(stream.encode(frame))
    out.mux(stream.encode())


def _video(
    path: Path,
    rate: Fraction | int,
    frames: int,
    *,
    audio_s: float = 0.0,
    rotation: int | None = None,
) -> Path:
    """An H.264 MP4 whose frame ``i`` shows the counter ``i``, optionally with an AAC track."""
    with av.open(str(path), "w", format="mp4") as out:
        video = out.add_stream("libx264", rate=rate)
        assert isinstance(video, av.VideoStream)
        video.width, video.height, video.pix_fmt = STRIPES * STRIPE_PX, HEIGHT, "yuv420p"
        if rotation is not None:
            video.set_display_rotation(rotation)
        audio = _add_audio(out, "aac", 16_000) if audio_s else None
        for index in range(frames):
            frame = av.VideoFrame.from_ndarray(_counter_pixels(index), format="rgb24")
            out.mux(video.encode(frame))
        out.mux(video.encode())
        if audio is not None:
            _encode_tone(out, audio, audio_s)
    return path


def _audio(path: Path, fmt: str, codec: str, rate_hz: int, seconds: float) -> Path:
    with av.open(str(path), "w", format=fmt) as out:
        _encode_tone(out, _add_audio(out, codec, rate_hz), seconds)
    return path


def _peak_hz(samples: np.ndarray, rate_hz: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate_hz)[spectrum.argmax()])


@pytest.fixture
def garbage(tmp_path: Path) -> Path:
    path = tmp_path / "garbage.bin"
    path.write_bytes(bytes(range(256)) * 64)
    return path


# --- video -----------------------------------------------------------------------------------


def test_every_frame_in_order_at_fps_pred_zero(tmp_path: Path) -> None:
    frames = list(iter_frames(_video(tmp_path / "v.mp4", 25, 50), fps_pred=0))
    assert [frame.index for frame in frames] == list(range(50))
    assert [_read_counter(frame.image) for frame in frames] == list(range(50))
    assert [frame.time_s for frame in frames] == pytest.approx([i / 25 for i in range(50)])
    assert frames[0].image.dtype == np.uint8
    assert frames[0].image.shape == (HEIGHT, STRIPES * STRIPE_PX, 3)


def test_fps_pred_follows_hume_rule_at_29_97(tmp_path: Path) -> None:
    """Real v0 output at 29.97 fps, fps_pred=3: frames 230, 240 … 500, 509, 519 (round(k·r/3))."""
    path = _video(tmp_path / "ntsc.mp4", NTSC, 530)
    frames = list(iter_frames(path, fps_pred=3))
    indices = [frame.index for frame in frames]
    assert indices[:4] == [0, 10, 20, 30]
    assert indices[23:] == [230, 240, 250, 260, 270, 280, 290, 300] + indices[31:]
    assert indices[-3:] == [509, 519, 529]
    assert 500 in indices and 510 not in indices
    assert [_read_counter(frame.image) for frame in frames] == [i % 256 for i in indices]
    by_index = {frame.index: frame.time_s for frame in frames}
    assert by_index[230] == pytest.approx(7.674333333333333, abs=1e-9)  # real_predictions.json


def test_fps_pred_above_source_rate_keeps_every_frame(tmp_path: Path) -> None:
    frames = list(iter_frames(_video(tmp_path / "v.mp4", 10, 12), fps_pred=30))
    assert [frame.index for frame in frames] == list(range(12))


def test_without_average_rate_frames_are_sampled_by_timestamp() -> None:
    # Variable frame rate: 0.1 s apart, then a 0.5 s gap, with timestamps rounded to 1 ms.
    times = [0.5, 0.6, 0.7, 0.8, 0.9, 1.4, 1.5, 1.6, 1.833]
    frames: list[Any] = [SimpleNamespace(time=time) for time in times]
    kept = [(index, round(time_s, 3)) for index, time_s, _ in _by_time(iter(frames), 2.5)]
    assert kept == [(0, 0.0), (4, 0.4), (5, 0.9), (8, 1.333)]
    assert len(list(_by_time(iter(frames), 0))) == len(times)


def test_display_rotation_is_applied(tmp_path: Path) -> None:
    path = _video(tmp_path / "portrait.mp4", 25, 3, rotation=90)
    frame = next(iter_frames(path, fps_pred=0))
    assert frame.image.shape == (STRIPES * STRIPE_PX, HEIGHT, 3)
    # Turned a quarter counterclockwise, the stripes run top (bit 7) to bottom (bit 0).
    assert _read_counter(np.rot90(frame.image, -1)) == 0
    frame = list(iter_frames(path, fps_pred=0))[1]
    assert frame.image[-STRIPE_PX:, :, 0].mean() > 200  # bit 0 of counter 1
    assert frame.image[:-STRIPE_PX, :, 0].mean() < 50


def test_video_info(tmp_path: Path) -> None:
    info = video_info(_video(tmp_path / "v.mp4", NTSC, 60, audio_s=1.0))
    assert info.fps == pytest.approx(29.97, abs=0.01)
    assert info.frame_count == 60
    assert info.duration_s == pytest.approx(60 / float(NTSC), abs=0.05)
    assert (info.width, info.height, info.has_audio) == (STRIPES * STRIPE_PX, HEIGHT, True)
    assert not video_info(_video(tmp_path / "mute.mp4", 25, 5)).has_audio


def test_frames_are_streamed_not_held(tmp_path: Path) -> None:
    """Arrays already handed out are freed while iteration goes on."""
    refs = []
    for frame in iter_frames(_video(tmp_path / "long.mp4", 25, 300), fps_pred=0):
        refs.append(weakref.ref(frame.image))
    del frame
    gc.collect()
    assert len(refs) == 300
    assert sum(ref() is not None for ref in refs) <= 1


def test_video_errors(tmp_path: Path, garbage: Path) -> None:
    wav = _audio(tmp_path / "a.wav", "wav", "pcm_s16le", 16_000, 0.2)
    with pytest.raises(CorruptMediaError, match="no video track"):
        next(iter_frames(wav, fps_pred=3))
    with pytest.raises(CorruptMediaError, match="no video track"):
        video_info(wav)
    with pytest.raises(CorruptMediaError):
        next(iter_frames(garbage, fps_pred=3))
    with pytest.raises(ValueError, match="fps_pred"):
        next(iter_frames(wav, fps_pred=-1))


# --- audio -----------------------------------------------------------------------------------


def test_wav_44k_stereo_becomes_16k_mono(tmp_path: Path) -> None:
    samples = load_audio(_audio(tmp_path / "a.wav", "wav", "pcm_s16le", 44_100, 1.5))
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert len(samples) == 24_000
    assert _peak_hz(samples, SAMPLE_RATE_HZ) == pytest.approx(440, abs=2)
    assert np.abs(samples).max() == pytest.approx(0.5, abs=0.01)  # the channels' mean


@pytest.mark.parametrize(
    ("fmt", "codec", "rate_hz"),
    [
        ("flac", "flac", 44_100),
        ("mp3", "libmp3lame", 44_100),
        ("ogg", "libopus", 48_000),
        ("ipod", "aac", 44_100),
        ("webm", "libopus", 48_000),
    ],
)
def test_compressed_formats_decode(tmp_path: Path, fmt: str, codec: str, rate_hz: int) -> None:
    samples = load_audio(_audio(tmp_path / f"a.{fmt}", fmt, codec, rate_hz, 1.0), 8_000)
    assert len(samples) == pytest.approx(8_000, abs=800)  # encoders pad by up to ~50 ms
    assert _peak_hz(samples, 8_000) == pytest.approx(440, abs=4)
    assert np.abs(samples).max() <= 1.0


def test_chunks_concatenate_to_whole(tmp_path: Path) -> None:
    path = _audio(tmp_path / "a.wav", "wav", "pcm_s16le", 44_100, 1.05)
    chunks = list(iter_audio(path, chunk_s=0.25))
    assert [len(chunk.samples) for chunk in chunks] == [4000] * 4 + [800]
    assert [chunk.start_s for chunk in chunks] == [0.0, 0.25, 0.5, 0.75, 1.0]
    np.testing.assert_array_equal(np.concatenate([c.samples for c in chunks]), load_audio(path))


def test_chunks_are_streamed_not_held(tmp_path: Path) -> None:
    path = _audio(tmp_path / "a.wav", "wav", "pcm_s16le", 16_000, 30.0)
    whole_bytes = 30 * SAMPLE_RATE_HZ * 4
    tracemalloc.start()
    try:
        count = sum(1 for _ in iter_audio(path, chunk_s=0.5))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 60
    assert peak < whole_bytes / 4


def test_audio_track_of_a_video(tmp_path: Path) -> None:
    samples = load_audio(_video(tmp_path / "v.mp4", 25, 10, audio_s=1.0))
    assert len(samples) == pytest.approx(16_000, abs=1_600)
    assert _peak_hz(samples, SAMPLE_RATE_HZ) == pytest.approx(440, abs=2)


def test_audio_errors(tmp_path: Path, garbage: Path) -> None:
    mute = _video(tmp_path / "mute.mp4", 25, 5)
    with pytest.raises(CorruptMediaError, match="no audio track"):
        load_audio(mute)
    with pytest.raises(CorruptMediaError, match="no audio track"):
        next(iter_audio(mute, chunk_s=1.0))
    with pytest.raises(CorruptMediaError):
        load_audio(garbage)
    with pytest.raises(ValueError, match="chunk_s"):
        next(iter_audio(mute, chunk_s=0.0))


# --- images ----------------------------------------------------------------------------------


def _marked(mode: str = "RGB") -> Image.Image:
    """A 40×20 grey image with a red block in its top-left corner."""
    image = Image.new("RGB", (40, 20), (128, 128, 128))
    image.paste((255, 0, 0), (0, 0, 10, 10))
    return image.convert(mode)


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was turned: rotate 90° clockwise to display
    path = tmp_path / "photo.jpg"
    _marked().save(path, "JPEG", exif=exif, quality=95)
    pixels = load_image(path)
    assert pixels.shape == (40, 20, 3) and pixels.dtype == np.uint8
    assert pixels[2, -2, 0] > 200 and pixels[2, -2, 1] < 60  # red is now top-right
    assert pixels[2, 2, 0] < 200


def test_palette_gif_gives_its_first_frame(tmp_path: Path) -> None:
    path = tmp_path / "anim.gif"
    second = Image.new("RGB", (40, 20), (0, 0, 255))
    _marked().save(path, "GIF", save_all=True, append_images=[second])
    pixels = load_image(path)
    assert tuple(pixels[2, 2]) == (255, 0, 0)
    assert tuple(pixels[15, 30]) == (128, 128, 128)


def test_alpha_is_composited_over_white(tmp_path: Path) -> None:
    image = _marked("RGBA")
    image.putalpha(Image.new("L", image.size, 0))
    image.paste((255, 0, 0, 255), (0, 0, 10, 10))
    path = tmp_path / "a.png"
    image.save(path)
    pixels = load_image(path)
    assert tuple(pixels[2, 2]) == (255, 0, 0)
    assert tuple(pixels[15, 30]) == (255, 255, 255)


def test_sixteen_bit_grey_is_scaled_not_clipped(tmp_path: Path) -> None:
    path = tmp_path / "deep.png"
    Image.fromarray(np.full((8, 8), 32_768, np.uint16)).save(path)
    assert Image.open(path).mode.startswith("I")
    assert np.all(load_image(path) == 128)


@pytest.mark.parametrize("mode", ["L", "CMYK", "1"])
def test_other_modes_become_rgb(tmp_path: Path, mode: str) -> None:
    path = tmp_path / "m.tiff"
    _marked(mode).save(path)
    pixels = load_image(path)
    assert pixels.shape == (20, 40, 3)
    assert pixels[15, 30].tolist() != pixels[2, 2].tolist()


def test_image_errors(tmp_path: Path, garbage: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(CorruptMediaError, match="truncated or damaged"):
        load_image(garbage)
    buffer = io.BytesIO()
    _marked().save(buffer, "PNG")
    truncated = tmp_path / "cut.png"
    truncated.write_bytes(buffer.getvalue()[:80])
    with pytest.raises(CorruptMediaError, match="truncated or damaged"):
        load_image(truncated)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    whole = tmp_path / "big.png"
    whole.write_bytes(buffer.getvalue())
    with pytest.raises(TooLargeError, match="too many pixels"):
        load_image(whole)
