"""Our wire models against real v0 outputs: they parse, and dump back to the same JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter

from mien.pipeline import wire_result
from mien.schemas import (
    FacePrediction,
    InferenceBaseRequest,
    InferenceJob,
    InferenceSourcePredictResult,
    Models,
    StreamPayload,
)
from mien.taxonomy import EMOTIONS_48

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"
RESULTS = TypeAdapter(list[InferenceSourcePredictResult])


def _strip_absent(value: Any, original: Any) -> Any:
    """Our dump without keys the original did not have (optional fields we emit as null)."""
    if isinstance(value, dict) and isinstance(original, dict):
        return {k: _strip_absent(v, original[k]) for k, v in value.items() if k in original}
    if isinstance(value, list) and isinstance(original, list):
        return [_strip_absent(v, o) for v, o in zip(value, original, strict=True)]
    return value


@pytest.mark.parametrize("name", ["example_predictions.json", "real_predictions.json"])
def test_reference_predictions_round_trip(name: str) -> None:
    original = json.loads((REFERENCE / name).read_text())
    parsed = RESULTS.validate_python(original)
    dumped = [wire_result(result) for result in parsed]
    assert _strip_absent(dumped, original) == original
    face = parsed[0].results.predictions[0].models.face  # type: ignore[union-attr]
    assert face is not None
    first = face.grouped_predictions[0].predictions[0]
    assert isinstance(first, FacePrediction)
    assert [e.name for e in first.emotions] == list(EMOTIONS_48)


def test_real_video_ids_and_frames_match_the_contract() -> None:
    original = json.loads((REFERENCE / "real_predictions.json").read_text())
    face = RESULTS.validate_python(original)[0].results.predictions[0].models.face  # type: ignore[union-attr]
    assert face is not None
    assert sorted(group.id for group in face.grouped_predictions) == [
        "face_0", "face_1", "face_2", "face_3"
    ]  # fmt: skip
    for group in face.grouped_predictions:
        for prediction in group.predictions:
            assert isinstance(prediction, FacePrediction)
            assert prediction.time == pytest.approx(prediction.frame / 29.97, abs=0.01)


def test_defaults_are_v0s() -> None:
    models = Models.all_defaults().model_dump()
    assert models["face"] == {
        "fps_pred": 3.0, "prob_threshold": 0.99, "identify_faces": False, "min_face_size": 60,
        "facs": None, "descriptions": None, "save_faces": False,
    }  # fmt: skip
    assert models["prosody"] == {
        "granularity": "utterance",
        "window": None,
        "identify_speakers": False,
    }
    assert models["language"]["granularity"] == "word"
    window = Models.model_validate({"prosody": {"window": {}}}).prosody
    assert window is not None and window.window is not None
    assert (window.window.length, window.window.step) == (4.0, 1.0)
    with pytest.raises(ValueError):
        Models.model_validate({"prosody": {"window": {"length": 0.1}}})
    # transcription: omitted means defaults, explicit null switches it off
    assert InferenceBaseRequest.model_validate({}).transcription is not None
    assert InferenceBaseRequest.model_validate({"transcription": None}).transcription is None
    with pytest.raises(ValueError):
        InferenceBaseRequest.model_validate({"transcription": {"language": "xx"}})


def test_sdk_types_parse_our_job_and_stream_payloads() -> None:
    from hume.expression_measurement.batch.types import InferenceJob as SdkJob
    from hume.expression_measurement.stream.stream.types import Config, StreamLanguage

    job = InferenceJob.model_validate({
        "job_id": "j", "type": "INFERENCE",
        "request": {**InferenceBaseRequest().resolved().model_dump(mode="json"), "files": []},
        "state": {"status": "QUEUED", "created_timestamp_ms": 1},
    })  # fmt: skip
    sdk_job = SdkJob.model_validate(job.model_dump(mode="json"))
    assert sdk_job.state.status == "QUEUED"
    sent = {
        "data": "hi",
        "raw_text": True,
        "models": Config(language=StreamLanguage(granularity="sentence")).dict(),
    }
    assert StreamPayload.model_validate(sent).models.language.granularity == "sentence"  # type: ignore[union-attr]
