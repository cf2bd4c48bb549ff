"""The spans of speech each granularity predicts on, shared by prosody, language and NER.

- ``word``: each transcribed word;
- ``sentence``: words up to a sentence-final mark (``.``, ``!``, ``?``, ``…``), or a Whisper
  segment end;
- ``utterance``: the words of one stretch of speech between pauses (v0: "natural pauses or breaks
  in speech"); without a transcript, the stretches themselves;
- ``conversational_turn``: consecutive words of one speaker; without a transcript, the turns;
- ``passage``: everything;
- a ``window`` ``{length, step}``: fixed stretches of time, no text (v0 ignores granularity then).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mien.models.voice.analysis import SpeechAnalysis, SpokenWord

__all__ = ["SpeechSpan", "spans"]

_SENTENCE_END = (".", "!", "?", "…", "。", "！", "？")


@dataclass(frozen=True)
class SpeechSpan:
    """A stretch of the audio, with its words when there is a transcript."""

    start_s: float
    end_s: float
    words: tuple[SpokenWord, ...] = ()
    speaker: str = "unknown"
    speaker_confidence: float | None = None

    @property
    def text(self) -> str | None:
        """The words, or ``None`` for a span without a transcript."""
        return " ".join(w.text for w in self.words) if self.words else None

    @property
    def position(self) -> tuple[int, int] | None:
        """Character span of the words in the analysis text."""
        return (self.words[0].begin, self.words[-1].end) if self.words else None

    @property
    def confidence(self) -> float | None:
        """Mean transcription confidence of the words."""
        if not self.words:
            return None
        return sum(w.confidence for w in self.words) / len(self.words)


def spans(
    analysis: SpeechAnalysis,
    granularity: str,
    window: tuple[float, float] | None = None,
) -> list[SpeechSpan]:
    """The spans to predict on, in time order."""
    if window is not None:
        return _windows(analysis, *window)
    words = analysis.words
    if not words:
        return _stretches(analysis, granularity)
    if granularity == "word":
        groups = [[w] for w in words]
    elif granularity == "sentence":
        groups = _sentences(analysis)
    elif granularity == "utterance":
        groups = _by_stretch(words, analysis.speech)
    elif granularity == "conversational_turn":
        groups = _by_speaker(words)
    else:  # passage
        groups = [list(words)]
    return [_span(analysis, group) for group in groups if group]


def _span(analysis: SpeechAnalysis, words: Sequence[SpokenWord]) -> SpeechSpan:
    start, end = words[0].start_s, words[-1].end_s
    if not analysis.turns:
        return SpeechSpan(start, end, tuple(words))
    speaker, confidence = analysis.speaker_at(start, end)
    return SpeechSpan(start, end, tuple(words), speaker, confidence)


def _sentences(analysis: SpeechAnalysis) -> list[list[SpokenWord]]:
    segment_ends = set()
    if analysis.transcript is not None:
        segment_ends = {round(s.end_s, 3) for s in analysis.transcript.segments}
    groups: list[list[SpokenWord]] = [[]]
    for word in analysis.words:
        groups[-1].append(word)
        if word.text.endswith(_SENTENCE_END) or round(word.end_s, 3) in segment_ends:
            groups.append([])
    return groups


def _by_stretch(
    words: Sequence[SpokenWord], stretches: Sequence[tuple[float, float]]
) -> list[list[SpokenWord]]:
    """Words grouped by the speech stretch their middle falls in (or the nearest one)."""
    if not stretches:
        return [list(words)]
    groups: list[list[SpokenWord]] = [[] for _ in stretches]
    for word in words:
        middle = (word.start_s + word.end_s) / 2
        index = min(
            range(len(stretches)),
            key=lambda i: (
                0.0
                if stretches[i][0] <= middle <= stretches[i][1]
                else min(abs(stretches[i][0] - middle), abs(stretches[i][1] - middle))
            ),
        )
        groups[index].append(word)
    return groups


def _by_speaker(words: Sequence[SpokenWord]) -> list[list[SpokenWord]]:
    groups: list[list[SpokenWord]] = []
    for word in words:
        if groups and groups[-1][-1].speaker == word.speaker:
            groups[-1].append(word)
        else:
            groups.append([word])
    return groups


def _stretches(analysis: SpeechAnalysis, granularity: str) -> list[SpeechSpan]:
    """Spans without a transcript: speech stretches, speaker turns, or all speech."""
    if not analysis.speech:
        return []
    if granularity == "conversational_turn" and analysis.turns:
        return [SpeechSpan(t.start_s, t.end_s, (), t.speaker, t.confidence) for t in analysis.turns]
    if granularity == "passage":
        stretches = [(analysis.speech[0][0], analysis.speech[-1][1])]
    else:
        stretches = list(analysis.speech)
    out = []
    for start, end in stretches:
        if analysis.turns:
            speaker, confidence = analysis.speaker_at(start, end)
            out.append(SpeechSpan(start, end, (), speaker, confidence))
        else:
            out.append(SpeechSpan(start, end))
    return out


def _windows(analysis: SpeechAnalysis, length_s: float, step_s: float) -> list[SpeechSpan]:
    """Fixed windows over the whole track; the last one ends with the audio."""
    out = []
    start = 0.0
    while start < analysis.duration_s:
        end = min(start + length_s, analysis.duration_s)
        if analysis.turns:
            speaker, confidence = analysis.speaker_at(start, end)
            out.append(SpeechSpan(start, end, (), speaker, confidence))
        else:
            out.append(SpeechSpan(start, end))
        if end >= analysis.duration_s:
            break
        start += step_s
    return out
