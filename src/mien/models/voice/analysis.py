"""Everything the voice models read from one audio track, measured once and shared.

Prosody, bursts, language and NER over speech all run on the same file one after another, so
the expensive parts — transcription, speaker turns, the acoustic frames and the audio events —
are computed once per file and request (:class:`SpeechAnalyzer` keeps the last analysis).

The audio is decoded in chunks (:func:`mien.media.iter_audio`), never whole: an hour-long file
costs its frame-level features (about 25 MB an hour), not its samples. Transcription streams the
file itself (:meth:`Transcriber.transcribe_file`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from pathlib import Path
from typing import TypeVar

import numpy as np

from mien.media.audio import SAMPLE_RATE_HZ, iter_audio
from mien.models.voice.acoustics import Frames, frames
from mien.models.voice.events import AudioEvents, EventScores
from mien.models.voice.speakers import (
    SpeakerEncoder,
    SpeakerTurn,
    assign_speakers,
    diarize,
    plan_windows,
    speaker_at,
)
from mien.models.voice.transcribe import Transcriber, Transcript
from mien.models.voice.vad import VadOptions, speech_stretches
from mien.schemas import InferenceRequest, Transcription
from mien.settings import Settings

__all__ = ["SpeechAnalysis", "SpeechAnalyzer", "SpokenWord", "needs"]

CHUNK_S = 28.8
"""Decoding chunk: a whole number of YAMNet patch hops (0.48 s), so patches tile across chunks."""
_CARRY_S = 2.0
"""Audio kept from the previous chunk for speaker windows (1.6 s) that cross a boundary."""
_VAD_MIN_SILENCE_MS = 300
"""Pauses at least this long split utterances (v0: utterances follow "natural pauses")."""
_UTTERANCES = VadOptions(min_silence_duration_ms=_VAD_MIN_SILENCE_MS, speech_pad_ms=100)


@dataclass(frozen=True)
class SpokenWord:
    """One transcribed word, placed both in time and in the transcript text."""

    text: str
    begin: int
    """Offset of the word in :attr:`SpeechAnalysis.text` (characters)."""
    end: int
    start_s: float
    end_s: float
    confidence: float
    speaker: str
    speaker_confidence: float


@dataclass
class SpeechAnalysis:
    """What one audio track holds, for every voice model."""

    duration_s: float
    speech: list[tuple[float, float]]
    """Stretches of speech found by the voice-activity detector, split at pauses."""
    frames: Frames
    events: EventScores
    transcript: Transcript | None = None
    text: str = ""
    """The transcript's words joined by spaces; word and sentence positions index into it."""
    words: list[SpokenWord] = field(default_factory=list)
    turns: list[SpeakerTurn] = field(default_factory=list)
    """Speaker turns, when speakers were asked for or a model reads conversational turns."""

    def speaker_at(self, start_s: float, end_s: float) -> tuple[str, float]:
        """The speaker covering most of ``[start_s, end_s]`` and its confidence."""
        if not self.turns:
            return "unknown", 0.0
        return speaker_at(self.turns, start_s, end_s)


def needs(request: InferenceRequest) -> tuple[Transcription | None, bool]:
    """What the request's voice models need: transcription settings, and speaker turns."""
    models = request.models
    speakers = request.transcription is not None and request.transcription.identify_speakers
    if models is not None:
        for config in (models.prosody, models.language, models.ner):
            if config is not None and config.identify_speakers:
                speakers = True
        for config in (models.prosody, models.language):
            if config is not None and getattr(config, "granularity", "") == "conversational_turn":
                speakers = True
    return request.transcription, speakers


class SpeechAnalyzer:
    """The loaded voice front-ends, and the analysis of the last file asked about."""

    def __init__(self, settings: Settings) -> None:
        """Load the audio-event model now; transcription and speakers on first use."""
        self.settings = settings
        self.events = AudioEvents(settings)
        self._lock = threading.Lock()
        self._last: tuple[tuple[object, ...], SpeechAnalysis] | None = None

    def analyze(self, path: Path, request: InferenceRequest) -> SpeechAnalysis:
        """The analysis of ``path`` for ``request``, reused while the same file is asked about."""
        transcription, speakers = needs(request)
        stat = path.stat()
        key = (
            str(path),
            stat.st_size,
            stat.st_mtime_ns,
            None if transcription is None else transcription.model_dump_json(),
            speakers,
        )
        with self._lock:
            if self._last is not None and self._last[0] == key:
                return self._last[1]
            analysis = self._analyze(path, transcription, speakers=speakers)
            self._last = (key, analysis)
            return analysis

    def analyze_audio(
        self, audio: np.ndarray, transcription: Transcription | None, *, speakers: bool = False
    ) -> SpeechAnalysis:
        """The same analysis of samples already in memory (a streamed payload)."""
        analysis = _measure([audio], self.events)
        if transcription is not None:
            transcript = self._transcriber.transcribe(audio, transcription.language)
            _attach(analysis, transcript, transcription.confidence_threshold)
        if speakers and analysis.speech:
            analysis.turns = diarize(self._encoder, audio, analysis.speech)
        _assign_speakers(analysis)
        return analysis

    def _analyze(
        self, path: Path, transcription: Transcription | None, *, speakers: bool
    ) -> SpeechAnalysis:
        analysis = _measure((chunk.samples for chunk in iter_audio(path, CHUNK_S)), self.events)
        if transcription is not None:
            transcript = self._transcriber.transcribe_file(path, transcription.language)
            _attach(analysis, transcript, transcription.confidence_threshold)
        if speakers and analysis.speech:
            analysis.turns = self._turns(path, analysis)
        _assign_speakers(analysis)
        return analysis

    def _turns(self, path: Path, analysis: SpeechAnalysis) -> list[SpeakerTurn]:
        """Speaker windows measured chunk by chunk, then one clustering over the whole file.

        Each chunk is measured together with the end of the one before, so a window that
        straddles a chunk boundary is heard whole.
        """
        encoder = self._encoder
        plan = plan_windows(analysis.speech, analysis.duration_s)
        embeddings = np.zeros((len(plan.windows), 256), np.float32)
        reliable = np.zeros(len(plan.windows), bool)
        carry = np.zeros(0, np.float32)
        done = 0
        for chunk in iter_audio(path, CHUNK_S):
            begin_s = chunk.start_s - len(carry) / SAMPLE_RATE_HZ
            audio = np.concatenate([carry, chunk.samples])
            end_s = begin_s + len(audio) / SAMPLE_RATE_HZ
            last = chunk.start_s + len(chunk.samples) / SAMPLE_RATE_HZ >= analysis.duration_s
            rows = [
                i
                for i in range(done, len(plan.windows))
                if plan.windows[i][0] + plan.windows[i][1] <= end_s + 1e-6 or last
            ]
            if rows:
                inside = [(a, b) for a, b in plan.stretches if b > begin_s and a < end_s]
                found = encoder.measure(
                    audio, [plan.windows[i] for i in rows], inside or plan.stretches, begin_s
                )
                embeddings[rows], reliable[rows] = found
                done = rows[-1] + 1
            carry = audio[-round(_CARRY_S * SAMPLE_RATE_HZ) :]
        return assign_speakers(plan, embeddings, reliable)

    @cached_property
    def _transcriber(self) -> Transcriber:
        return Transcriber(self.settings)

    @cached_property
    def _encoder(self) -> SpeakerEncoder:
        return SpeakerEncoder(self.settings)


def _measure(chunks: Iterable[np.ndarray], events: AudioEvents) -> SpeechAnalysis:
    """Frames, audio events and speech stretches, one consecutive chunk at a time."""
    frame_parts: list[Frames] = []
    event_parts: list[EventScores] = []
    speech: list[tuple[float, float]] = []
    start_s = 0.0
    for samples in chunks:
        frame_parts.append(frames(samples))
        found = events.classify(samples)
        event_parts.append(replace(found, times_s=found.times_s + start_s))
        speech += speech_stretches(samples, _UTTERANCES, start_s)
        start_s += len(samples) / SAMPLE_RATE_HZ
    return SpeechAnalysis(
        duration_s=start_s,
        speech=_merge(speech),
        frames=_concat(frame_parts, Frames),
        events=_concat(event_parts, EventScores),
    )


_T = TypeVar("_T", Frames, EventScores)


def _concat(parts: list[_T], kind: type[_T]) -> _T:
    """Join per-chunk arrays field by field (frames stay at FRAME_RATE_HZ)."""
    if len(parts) == 1:
        return parts[0]
    if not parts:
        raise ValueError("no audio")
    joined = {f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(kind)}
    return kind(**joined)


def _merge(stretches: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Join stretches that touch across a chunk boundary."""
    merged: list[tuple[float, float]] = []
    for start, end in stretches:
        if merged and start - merged[-1][1] < _VAD_MIN_SILENCE_MS / 1000:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _attach(analysis: SpeechAnalysis, transcript: Transcript, threshold: float) -> None:
    """Keep the transcript and lay its words out in one text, leaving out unsure segments.

    v0: transcripts below ``confidence_threshold`` are "invalid and not used as an input for
    model inference". mien applies it per Whisper segment (about a sentence), so one unsure
    sentence does not void the rest of a long recording.
    """
    analysis.transcript = transcript
    pieces: list[str] = []
    offset = 0
    for segment in transcript.segments:
        if segment.confidence < threshold:
            continue
        for word in segment.words:
            text = word.text.strip()
            if not text:
                continue
            if pieces:
                offset += 1
            analysis.words.append(
                SpokenWord(
                    text=text,
                    begin=offset,
                    end=offset + len(text),
                    start_s=float(word.start_s),
                    end_s=float(word.end_s),
                    confidence=float(word.probability),
                    speaker="unknown",
                    speaker_confidence=0.0,
                )
            )
            pieces.append(text)
            offset += len(text)
    analysis.text = " ".join(pieces)


def _assign_speakers(analysis: SpeechAnalysis) -> None:
    if not analysis.turns:
        return
    analysis.words = [
        replace(w, speaker=speaker, speaker_confidence=confidence)
        for w in analysis.words
        for speaker, confidence in [analysis.speaker_at(w.start_s, w.end_s)]
    ]
