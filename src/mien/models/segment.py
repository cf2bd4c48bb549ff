"""Rule-based word and sentence spans for the language model.

Spans are ``(begin, end)`` Python ``str`` offsets, end exclusive, always trimmed of surrounding
whitespace. The rules favour a few well-understood cases over a large exception list:

* a sentence ends at ``.`` ``!`` ``?`` ``…`` (or CJK ``。！？``) plus any closing quotes and
  brackets, when whitespace follows and the next word does not start in lower case, unless the
  period ends a known abbreviation (``Mr.``, ``e.g.``) or a single letter (``J. Smith``);
* CJK terminators end a sentence even without following whitespace;
* a blank line ends a sentence; a single line break does too unless the next line starts in
  lower case (hard-wrapped prose).

A word is a run of non-space characters with leading and trailing punctuation removed; runs made
only of punctuation are not words, while emoji and other symbols are kept.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["Span", "sentence_spans", "word_spans"]

Span = tuple[int, int]

_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof sr jr st mt vs etc e.g i.e cf al approx dept est fig inc ltd co corp
    no nos vol jan feb mar apr jun jul aug sep sept oct nov dec mon tue wed thu fri sat sun
    gen col lt sgt capt rev hon u.s u.k a.m p.m""".split()
)

_CLOSERS = "\"'”’»)]}"
_CLOSE = re.escape(_CLOSERS)
# A terminator run, its closing quotes/brackets, then either whitespace or (for CJK) anything.
_BOUNDARY = re.compile(
    rf"[.!?…]+[{_CLOSE}]*(?=\s)|[。！？]+[{_CLOSE}」』]*|\n",
)
_WORD = re.compile(r"\S+")


def sentence_spans(text: str) -> list[Span]:
    """Split ``text`` into sentence spans; a text without terminators is one sentence."""
    spans: list[Span] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        end = match.end()
        if not _ends_sentence(text, match.start(), end):
            continue
        _append_trimmed(text, start, end, spans)
        start = end
    _append_trimmed(text, start, len(text), spans)
    return spans


def word_spans(text: str, begin: int = 0, end: int | None = None) -> list[Span]:
    """Word spans inside ``text[begin:end]``, as offsets into ``text``."""
    stop = len(text) if end is None else end
    spans: list[Span] = []
    for match in _WORD.finditer(text, begin, stop):
        left, right = match.start(), match.end()
        while left < right and _is_punct(text[left]):
            left += 1
        while right > left and _is_punct(text[right - 1]):
            right -= 1
        if left < right:
            spans.append((left, right))
    return spans


def _ends_sentence(text: str, start: int, end: int) -> bool:
    terminator = text[start:end]
    if terminator.rstrip(_CLOSERS) == "." and _before_is_abbreviation(text, start):
        return False
    after = _skip(text, end, " \t")
    if terminator == "\n" and text[after : after + 1] in ("\n", "\r"):
        return True  # a blank line always ends a sentence
    if terminator.startswith((".", "\n")):
        # "e.g. the", "3 p.m. tomorrow" or a hard-wrapped line: lower case continues the sentence.
        following = _skip(text, end, None)
        return not text[following : following + 1].islower()
    return True


def _skip(text: str, index: int, chars: str | None) -> int:
    """Index of the first character at or after ``index`` not in ``chars`` (None: whitespace)."""
    while index < len(text) and (text[index] in chars if chars else text[index].isspace()):
        index += 1
    return index


def _before_is_abbreviation(text: str, dot: int) -> bool:
    word_start = dot
    while word_start > 0 and not text[word_start - 1].isspace():
        word_start -= 1
    word = text[word_start:dot].lstrip("(\"'“‘").lower()
    if len(word) == 1 and word.isalpha():
        return True  # an initial: "J. R. R. Tolkien"
    return word in _ABBREVIATIONS


def _append_trimmed(text: str, begin: int, end: int, spans: list[Span]) -> None:
    while begin < end and text[begin].isspace():
        begin += 1
    while end > begin and text[end - 1].isspace():
        end -= 1
    if begin < end:
        spans.append((begin, end))


def _is_punct(char: str) -> bool:
    return unicodedata.category(char).startswith("P")
