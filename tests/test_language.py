"""The Emotional Language model on its real encoder and heads, with real sentences."""

from __future__ import annotations

import pytest

from mien.errors import ConfigError
from mien.models.language import LanguageModel
from mien.models.segment import sentence_spans, word_spans
from mien.schemas.predictions import LanguagePrediction
from mien.taxonomy import EMOTIONS_53, SENTIMENT_LEVELS, TOXICITY_LABELS
from tests.conftest import make_settings

THANKS = "Thank you so much for helping me move, I really appreciate it!"
COMPLAINT = "This is outrageous, you cancelled my order again and nobody even called me!"
NEUTRAL = "The meeting is at 3 pm in room 204."
POSITIVE = "What a wonderful day, I am so happy with how everything turned out."


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> LanguageModel:
    return LanguageModel(make_settings(tmp_path_factory.mktemp("language") / "home"))


def one(model: LanguageModel, text: str, **options: bool) -> LanguagePrediction:
    [prediction] = model.predict(text, granularity="passage", **options)
    return prediction


def top(prediction: LanguagePrediction, n: int = 3) -> list[str]:
    ranked = sorted(prediction.emotions, key=lambda e: e.score, reverse=True)
    return [e.name for e in ranked[:n]]


def test_thanks_is_gratitude(model: LanguageModel) -> None:
    assert "Gratitude" in top(one(model, THANKS))


def test_complaint_is_anger_or_annoyance(model: LanguageModel) -> None:
    assert {"Anger", "Annoyance"} & set(top(one(model, COMPLAINT)))


@pytest.mark.parametrize(
    ("text", "expected", "topic_only"),
    [
        # Prototype directions follow topic: complaints once read as Boredom, disgust at food as
        # Craving. Gates on the heads' anger/disgust (language_dimensions.json) keep them out.
        ("This is the worst service ever, I am furious.", {"Anger", "Annoyance"}, "Boredom"),
        ("That is disgusting, who would eat that?", {"Disgust"}, "Craving"),
    ],
)
def test_topic_alone_does_not_outrank_the_emotion(
    model: LanguageModel, text: str, expected: set[str], topic_only: str
) -> None:
    ranked = top(one(model, text))
    assert expected & set(ranked), ranked
    assert topic_only not in ranked, ranked


def test_neutral_sentence_scores_low_everywhere(model: LanguageModel) -> None:
    scores = {e.name: e.score for e in one(model, NEUTRAL).emotions}
    # Observed max 0.08 (Calmness, Concentration); 0.2 leaves room for retraining noise.
    assert max(scores.values()) < 0.2, sorted(scores.items(), key=lambda kv: -kv[1])[:3]


def test_all_53_dimensions_in_order_within_unit_interval(model: LanguageModel) -> None:
    for text in (THANKS, COMPLAINT, NEUTRAL):
        emotions = one(model, text).emotions
        assert [e.name for e in emotions] == list(EMOTIONS_53)
        assert all(0.0 <= e.score <= 1.0 for e in emotions)


def test_scores_are_independent_intensities_not_a_softmax(model: LanguageModel) -> None:
    scores = [e.score for e in one(model, NEUTRAL).emotions]
    assert sum(scores) < 0.9  # a softmax would sum to 1 even when nothing is expressed


def test_word_level_gives_every_word_with_its_position(model: LanguageModel) -> None:
    text = "Thanks a lot, friend!  I'm thrilled... really."
    predictions = model.predict(text)  # word is the default granularity
    assert [p.text for p in predictions] == [
        "Thanks", "a", "lot", "friend", "I'm", "thrilled", "really",
    ]  # fmt: skip
    for p in predictions:
        assert text[p.position.begin : p.position.end] == p.text


def test_word_scores_follow_the_word_and_its_sentence(model: LanguageModel) -> None:
    predictions = model.predict("Thank you. The invoice is attached.")
    gratitude = {p.text: p.emotions[EMOTIONS_53.index("Gratitude")].score for p in predictions}
    assert gratitude["Thank"] > gratitude["invoice"]
    assert gratitude["you"] > gratitude["attached"]  # context: "you" sits in a thank-you


def test_sentence_and_passage_granularity(model: LanguageModel) -> None:
    text = f"{THANKS} {COMPLAINT}\n{NEUTRAL}"
    sentences = model.predict(text, granularity="sentence")
    assert [p.text for p in sentences] == [THANKS, COMPLAINT, NEUTRAL]
    assert [p.text for p in model.predict(text, granularity="utterance")] == [
        p.text for p in sentences
    ]
    assert "Gratitude" in top(sentences[0])
    for granularity in ("passage", "conversational_turn"):
        [whole] = model.predict(f"  {text}\n", granularity=granularity)
        assert whole.text == text
        assert (whole.position.begin, whole.position.end) == (2, 2 + len(text))


def test_predict_spans_keeps_the_given_spans(model: LanguageModel) -> None:
    text = f"{NEUTRAL} {THANKS}"
    spans = [(len(NEUTRAL) + 1, len(text)), (0, len(NEUTRAL))]
    predictions = model.predict_spans(text, spans)
    assert [(p.position.begin, p.position.end) for p in predictions] == spans
    assert "Gratitude" in top(predictions[0])
    with pytest.raises(ConfigError):
        model.predict_spans(text, [(0, len(text) + 1)])


def test_sentiment_is_a_nine_level_distribution(model: LanguageModel) -> None:
    for text, sign in ((POSITIVE, 1), (COMPLAINT, -1)):
        sentiment = one(model, text, sentiment=True).sentiment
        assert sentiment is not None
        assert [s.name for s in sentiment] == list(SENTIMENT_LEVELS)
        assert sum(s.score for s in sentiment) == pytest.approx(1.0, abs=1e-6)
        high = sum(s.score for s in sentiment[6:])
        low = sum(s.score for s in sentiment[:3])
        assert sign * (high - low) > 0.3
    assert one(model, THANKS).sentiment is None  # only when asked for


def test_toxicity_gives_the_six_labels(model: LanguageModel) -> None:
    insult = one(model, "You are so dumb and stupid!", toxicity=True).toxicity
    friendly = one(model, THANKS, toxicity=True).toxicity
    assert insult is not None and friendly is not None
    assert [t.name for t in insult] == list(TOXICITY_LABELS)
    assert insult[0].score > 0.5 > friendly[0].score
    words = model.predict("You idiot.", toxicity=True)
    assert all(p.toxicity is not None and len(p.toxicity) == 6 for p in words)


def test_unicode_and_emoji_positions(model: LanguageModel) -> None:
    text = "Café au lait ☕ était génial 😀! 我很高兴。Danke 🙏🏽"
    for granularity in ("word", "sentence", "passage"):
        for p in model.predict(text, granularity=granularity):
            assert text[p.position.begin : p.position.end] == p.text
    words = [p.text for p in model.predict(text)]
    assert "☕" in words and "😀" in words and "🙏🏽" in words


def test_blank_text_gives_nothing_and_bad_granularity_is_refused(model: LanguageModel) -> None:
    assert model.predict("") == []
    assert model.predict(" \n\t ") == []
    with pytest.raises(ConfigError):
        model.predict(THANKS, granularity="paragraph")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello there. How are you?", ["Hello there.", "How are you?"]),
        ("Dr. Smith paid $3.50 at 3 p.m. today. Then he left.", [
            "Dr. Smith paid $3.50 at 3 p.m. today.", "Then he left.",
        ]),
        ('He said "Stop!" Then he left.', ['He said "Stop!"', "Then he left."]),
        ("Wait... what? Fine", ["Wait... what?", "Fine"]),
        ("你好。我很好！谢谢", ["你好。", "我很好！", "谢谢"]),
        ("first line\nSecond line\ncontinued here", ["first line", "Second line\ncontinued here"]),
        ("a title\n\nlower-case paragraph", ["a title", "lower-case paragraph"]),
    ],
)  # fmt: skip
def test_sentence_spans(text: str, expected: list[str]) -> None:
    assert [text[b:e] for b, e in sentence_spans(text)] == expected


def test_word_spans_strip_punctuation_but_keep_symbols() -> None:
    text = '("well-known") — don\'t... 😀!'
    assert [text[b:e] for b, e in word_spans(text)] == ["well-known", "don't", "😀"]
