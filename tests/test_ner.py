"""The ner model on spaCy's real English NER and the real language model, with real sentences."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import spacy
from spacy.language import Language

from mien.errors import ModelNotAvailableError
from mien.media.items import MediaItem
from mien.models.ner import CHUNK_CHARS, Mention, NerModel
from mien.schemas import InferenceRequest
from mien.schemas.predictions import NerPrediction
from mien.taxonomy import EMOTIONS_53
from mien.weights import fetch
from tests.conftest import Server, make_settings
from tests.helpers import wait_for_job

OBAMA = "Barack Obama thanked Microsoft in Paris on Monday."


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> NerModel:
    return NerModel(make_settings(tmp_path_factory.mktemp("ner") / "home"))


@pytest.fixture(scope="module")
def spacy_ner(tmp_path_factory: pytest.TempPathFactory) -> Language:
    """The same pinned pipeline run by spaCy itself."""
    settings = make_settings(tmp_path_factory.mktemp("spacy") / "home")
    folder = fetch("spacy-en-sm/config.cfg", settings).parent
    unused = ["tok2vec", "tagger", "parser", "senter", "attribute_ruler", "lemmatizer"]
    return spacy.load(folder, exclude=unused)


def found(mentions: list[Mention]) -> list[tuple[str, str, int, int]]:
    return [(m.text, m.label, m.begin, m.end) for m in mentions]


def by_entity(predictions: list[NerPrediction]) -> dict[str, NerPrediction]:
    return {p.entity: p for p in predictions}


def anger(prediction: NerPrediction) -> float:
    return next(e.score for e in prediction.emotions if e.name == "Anger")


def test_finds_people_organisations_places_and_dates(model: NerModel) -> None:
    assert found(model.entities(OBAMA)) == [
        ("Barack Obama", "PERSON", 0, 12),
        ("Microsoft", "ORG", 21, 30),
        ("Paris", "GPE", 34, 39),
        ("Monday", "DATE", 43, 49),
    ]


@pytest.mark.parametrize(
    "text",
    [
        OBAMA,
        "  Barack   Obama\n\nvisited  Paris .\t",
        "He paid $5 million to IBM on 3/4/2020 at 5 pm, about 40% more.",
        "Dr. Smith of the U.S. Army met Gen. Jones in St. Louis, Mo. yesterday.",
        "New York",
    ],
)
def test_step_by_step_parse_finds_what_spacy_finds(
    model: NerModel, spacy_ner: Language, text: str
) -> None:
    expected = [(e.text, e.label_, e.start_char, e.end_char) for e in spacy_ner(text).ents]
    assert found(model.entities(text)) == expected


def test_confidence_is_a_probability_that_tracks_ambiguity(model: NerModel) -> None:
    texts = [
        OBAMA,
        "i met jordan at the apple store in paris",
        "Barack Obama spoke. Later Obama left.",
    ]
    mentions = [m for text in texts for m in model.entities(text)]
    confidences = [m.confidence for m in mentions]
    assert all(0 < c <= 1 for c in confidences)
    assert len(set(confidences)) == len(confidences)
    # a lower-case given name that is also a country is less certain than a full capitalised name
    jordan = next(m for m in mentions if m.text == "jordan")
    assert jordan.label == "PERSON" and jordan.confidence < 0.9 < mentions[0].confidence


def test_support_counts_mentions_of_the_same_entity(model: NerModel) -> None:
    twice = model.entities("Microsoft's CEO spoke. Then the Microsoft team left. Paris was calm.")
    assert [(m.text, m.support) for m in twice] == [
        ("Microsoft", 2.0),
        ("Microsoft", 2.0),
        ("Paris", 1.0),
    ]
    # a surname points at the one full name it shortens, and both count it
    short = model.entities("Barack Obama spoke. Later Obama left.")
    assert [(m.text, m.link_word, m.support) for m in short] == [
        ("Barack Obama", "Barack Obama", 2.0),
        ("Obama", "Barack Obama", 2.0),
    ]
    # with two Obamas in the text a bare "Obama" stays its own name
    both = model.entities("Barack Obama met Michelle Obama. Obama was tired.")
    assert [m.link_word for m in both] == ["Barack Obama", "Michelle Obama", "Obama"]


def test_link_word_is_the_canonical_name_and_uri_is_empty(model: NerModel) -> None:
    lower = by_entity(model.predict_text("i met jordan at the apple store in paris"))
    assert lower["paris"].link_word == "Paris" and lower["jordan"].link_word == "Jordan"
    [house] = model.predict_text("They said the White House's staff was tired.")
    assert house.entity == "the White House's" and house.link_word == "White House"
    assert {p.uri for p in [*lower.values(), house]} == {""}


def test_emotions_are_those_of_the_mention_sentence(model: NerModel) -> None:
    text = "I love Paris. I hate Berlin."
    predictions = by_entity(model.predict_text(text))
    paris, berlin = predictions["Paris"], predictions["Berlin"]
    assert [e.name for e in paris.emotions] == list(EMOTIONS_53)
    [first, second] = model.language.predict_spans(text, [(0, 13), (14, 28)])
    assert paris.emotions == first.emotions and berlin.emotions == second.emotions
    assert anger(berlin) > anger(paris)


def test_the_same_entity_reads_angrier_in_an_angry_sentence(model: NerModel) -> None:
    [hated] = model.predict_text("I hate what Acme Corp did to me.")
    [loved] = model.predict_text("I love what Acme Corp did for me.")
    assert hated.entity == loved.entity == "Acme Corp"
    assert (hated.position.begin, hated.position.end) == (12, 21)
    assert anger(hated) > anger(loved) + 0.1


@pytest.mark.parametrize("text", ["", "   \n", "nothing here at all, really."])
def test_no_entities_no_predictions(model: NerModel, text: str) -> None:
    assert model.entities(text) == [] and model.predict_text(text) == []


def test_long_text_is_parsed_in_chunks_with_text_offsets(model: NerModel) -> None:
    text = " ".join(f"{OBAMA} Item {i} was fine." for i in range(3 * CHUNK_CHARS // 70))
    mentions = model.entities(text)
    assert len(text) > 2 * CHUNK_CHARS and mentions[-1].begin > 2 * CHUNK_CHARS
    assert all(text[m.begin : m.end] == m.text for m in mentions)
    assert {m.support for m in mentions if m.text == "Barack Obama"} == {text.count("Barack Obama")}


def test_speech_needs_transcription_on(model: NerModel, tmp_path: Path) -> None:
    item = MediaItem("talk.wav", "audio", tmp_path / "talk.wav", "audio/wav")
    with pytest.raises(ModelNotAvailableError, match="transcription"):
        model.predict_file(item, InferenceRequest(transcription=None))


def test_text_job_predicts_entities_end_to_end(server: Server) -> None:
    body = {"text": [OBAMA, "I hate what Acme Corp did to me."], "models": {"ner": {}}}
    job_id = httpx.post(f"{server.url}/v0/batch/jobs", json=body).json()["job_id"]
    job = wait_for_job(server.url, job_id)
    assert job["state"]["status"] == "COMPLETED", job
    assert job["state"]["num_errors"] == 0

    [source] = httpx.get(f"{server.url}/v0/batch/jobs/{job_id}/predictions").json()
    files = source["results"]["predictions"]
    assert [set(f["models"]) for f in files] == [{"ner"}, {"ner"}]
    [group] = files[0]["models"]["ner"]["grouped_predictions"]
    assert group["id"] == "unknown"
    first = group["predictions"][0]
    assert first["entity"] == "Barack Obama" and first["position"] == {"begin": 0, "end": 12}
    assert first["link_word"] == "Barack Obama" and first["uri"] == "" and first["support"] == 1
    assert 0.9 < first["entity_confidence"] <= 1
    assert [e["name"] for e in first["emotions"]] == list(EMOTIONS_53)
    assert [p["entity"] for p in group["predictions"]] == [
        "Barack Obama",
        "Microsoft",
        "Paris",
        "Monday",
    ]


def test_model_settings_are_shared(tmp_path: Path) -> None:
    from mien.models.registry import language_model, load_model

    settings = make_settings(tmp_path / "home")
    ner = load_model("ner", settings)
    assert isinstance(ner, NerModel) and ner.language is language_model(settings)
