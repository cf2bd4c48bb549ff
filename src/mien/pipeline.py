"""From sources to predictions: the one path that the server's workers and ``mien predict`` share.

A job has sources (URLs, uploaded files, and its ``text`` entries). Each source expands into files
(archives into their members); each file goes through every requested model that reads its kind.
A failure is recorded against the narrowest thing it concerns: a model on a file, a file, or a
whole source; the rest of the job goes on.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mien.artifacts import file_folder, write_artifacts
from mien.errors import MienError
from mien.jobs.outcome import JobOutcome
from mien.media import MediaFailure, MediaItem, download, expand_source
from mien.media.containers import probe_tracks
from mien.models import applies, load_model
from mien.schemas import (
    FileError,
    InferencePrediction,
    InferenceRequest,
    InferenceResults,
    InferenceSourcePredictResult,
    ModelBlock,
    ModelsPredictions,
    SourceFileRef,
    SourceText,
    SourceUrl,
)
from mien.settings import Settings

if TYPE_CHECKING:
    from mien.jobs.store import JobStore

__all__ = [
    "FileInput",
    "SourceInput",
    "TextInput",
    "UrlInput",
    "count_results",
    "predict_sources",
    "run_job",
    "wire_result",
    "sources_of",
]

logger = logging.getLogger(__name__)

ProgressFn = Callable[[str], None]


@dataclass(frozen=True)
class UrlInput:
    """A source to download."""

    url: str


@dataclass(frozen=True)
class FileInput:
    """A source already on disk, as uploaded."""

    path: Path
    ref: SourceFileRef


@dataclass(frozen=True)
class TextInput:
    """The request's ``text`` entries: one source, one file each."""

    texts: tuple[str, ...]


SourceInput = UrlInput | FileInput | TextInput


def sources_of(request: InferenceRequest, inputs_dir: Path) -> list[SourceInput]:
    """The sources of a stored job, in v0 order: URLs, then uploaded files, then text.

    Uploaded file ``i`` of ``request.files`` is stored as ``inputs_dir / str(i)``.
    """
    sources: list[SourceInput] = [UrlInput(url) for url in request.urls]
    sources += [
        FileInput(inputs_dir / str(index), SourceFileRef(**ref.model_dump()))
        for index, ref in enumerate(request.files)
    ]
    if request.text:
        sources.append(TextInput(tuple(request.text)))
    return sources


def predict_sources(
    request: InferenceRequest,
    sources: Sequence[SourceInput],
    workdir: Path,
    settings: Settings,
    *,
    progress: ProgressFn | None = None,
    outputs: Path | None = None,
) -> list[InferenceSourcePredictResult]:
    """Run the request's models over every source; ``workdir`` is scratch space, emptied after.

    Models write extra artifacts (face crops) under ``outputs``, one folder per file as
    :func:`mien.artifacts.file_folder` names it; ``None`` keeps none.
    """
    request = request.resolved()
    results = []
    for index, source in enumerate(sources):
        scratch = workdir / f"source_{index}"
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        context = _Context(request, settings, progress, outputs, index)
        try:
            results.append(_predict_source(context, source, scratch))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return results


def wire_result(result: InferenceSourcePredictResult) -> dict[str, Any]:
    """A source result as JSON, shaped like v0's.

    Absent ``results``/``error`` and models that did not run on a file are left out, not null.
    """
    wire = {
        key: value for key, value in result.model_dump(mode="json").items() if value is not None
    }
    for prediction in wire.get("results", {}).get("predictions", []):
        prediction["models"] = {k: v for k, v in prediction["models"].items() if v is not None}
        if prediction.get("file_type") is None:
            prediction.pop("file_type", None)
    return wire


def count_results(results: Sequence[InferenceSourcePredictResult]) -> tuple[int, int]:
    """``(num_predictions, num_errors)`` as the job state reports them."""
    predictions = errors = 0
    for result in results:
        errors += result.error is not None
        if result.results is not None:
            predictions += len(result.results.predictions)
            errors += len(result.results.errors)
    return predictions, errors


@dataclass(frozen=True)
class _Context:
    """What every file of one source is predicted with."""

    request: InferenceRequest
    settings: Settings
    progress: ProgressFn | None
    outputs: Path | None
    source_index: int

    def outputs_of(self, item: MediaItem) -> Path | None:
        """The folder for a file's extra artifacts."""
        if self.outputs is None:
            return None
        return self.outputs / file_folder(self.source_index, item.name)


def _predict_source(
    context: _Context, source: SourceInput, scratch: Path
) -> InferenceSourcePredictResult:
    settings = context.settings
    if isinstance(source, TextInput):
        return InferenceSourcePredictResult(
            source=SourceText(), results=_predict_texts(context, source.texts, scratch)
        )
    if isinstance(source, UrlInput):
        wire_source: SourceUrl | SourceFileRef = SourceUrl(url=source.url)
        try:
            path = download(source.url, scratch / "download", settings)
        except MienError as exc:
            return InferenceSourcePredictResult(source=wire_source, error=str(exc))
        name = path.name
    else:
        wire_source, path = source.ref, source.path
        name = source.ref.filename or path.name
    results = _predict_items(context, expand_source(path, name, scratch / "files", settings))
    return InferenceSourcePredictResult(source=wire_source, results=results)


def _predict_items(
    context: _Context, items: Sequence[MediaItem | MediaFailure]
) -> InferenceResults:
    results = InferenceResults()
    for item in items:
        if isinstance(item, MediaFailure):
            results.errors.append(FileError(file=item.name, message=item.message))
            continue
        if context.progress:
            context.progress(item.name)
        prediction, errors = _predict_item(item, context)
        if prediction is not None:
            results.predictions.append(prediction)
        results.errors.extend(errors)
    return results


def _predict_item(
    item: MediaItem, context: _Context
) -> tuple[InferencePrediction | None, list[FileError]]:
    request, settings = context.request, context.settings
    assert request.models is not None  # resolved by predict_sources
    requested = request.models.requested()
    file_type = _file_type(item)
    names = [
        name
        for name in requested
        if applies(name, item.kind) and not (file_type == "video_no_audio" and name in _HEARD)
    ]
    if not names:
        what = "videos without sound" if file_type == "video_no_audio" else f"{item.kind} files"
        message = f"none of the requested models ({', '.join(requested)}) reads {what}"
        return None, [FileError(file=item.name, message=message)]
    blocks: dict[str, ModelBlock] = {}
    errors = []
    for name in names:
        try:
            model = load_model(name, settings)
            blocks[name] = model.predict_file(item, request, context.outputs_of(item))
        except MienError as exc:
            errors.append(FileError(file=item.name, message=f"{name}: {exc}"))
        except Exception as exc:  # a bug or a native failure must fail this file only
            logger.exception("model %s failed on %s", name, item.name)
            errors.append(FileError(file=item.name, message=f"{name}: internal error: {exc}"))
    prediction = (
        InferencePrediction(file=item.name, file_type=file_type, models=ModelsPredictions(**blocks))
        if blocks
        else None
    )
    return prediction, errors


_HEARD = frozenset({"burst", "prosody", "language", "ner"})
"""Models that read a video through its sound: a silent video is not theirs to read."""


def _file_type(item: MediaItem) -> str:
    """v0's ``file_type``: the kind, with a video without sound told apart."""
    if item.kind == "video" and not probe_tracks(item.path, "video").audio:
        return "video_no_audio"
    return item.kind


def _predict_texts(context: _Context, texts: Sequence[str], scratch: Path) -> InferenceResults:
    """Each text entry goes down the same path as a text file, named ``text_<i>``."""
    settings = context.settings
    items: list[MediaItem | MediaFailure] = []
    for index, text in enumerate(texts):
        name = f"text_{index}"
        if len(text) > settings.max_text_chars:
            limit = settings.max_text_chars
            items.append(
                MediaFailure(name, f"text is {len(text)} characters; the limit is {limit}")
            )
            continue
        path = scratch / f"{name}.txt"
        path.write_text(text, encoding="utf-8")
        items.append(MediaItem(name, "text", path, "text/plain"))
    return _predict_items(context, items)


def run_job(job_id: str, settings: Settings) -> JobOutcome:
    """Run a stored job (in a worker process) and write its artifacts zip."""
    store = _store(settings)
    record = store.get(job_id=job_id)
    request = InferenceRequest.model_validate(record.request)
    folder = settings.jobs_dir / job_id
    outputs = folder / "outputs"
    shutil.rmtree(outputs, ignore_errors=True)  # a rerun after a crash starts clean
    results = predict_sources(
        request, sources_of(request, folder / "inputs"), folder / "work", settings, outputs=outputs
    )
    wire = [wire_result(result) for result in results]
    write_artifacts(wire, folder / "artifacts.zip", outputs)
    shutil.rmtree(outputs, ignore_errors=True)
    num_predictions, num_errors = count_results(results)
    return JobOutcome(
        predictions=wire,
        num_predictions=num_predictions,
        num_errors=num_errors,
    )


_stores: dict[str, JobStore] = {}


def _store(settings: Settings) -> JobStore:
    """One store per database per worker process."""
    from mien.jobs.store import JobStore

    url = settings.resolved_database_url
    if url not in _stores:
        _stores[url] = JobStore(url)
    return _stores[url]
