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
) -> list[InferenceSourcePredictResult]:
    """Run the request's models over every source; ``workdir`` is scratch space, emptied after."""
    request = request.resolved()
    results = []
    for index, source in enumerate(sources):
        scratch = workdir / f"source_{index}"
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        try:
            results.append(_predict_source(request, source, scratch, settings, progress))
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


def _predict_source(
    request: InferenceRequest,
    source: SourceInput,
    scratch: Path,
    settings: Settings,
    progress: ProgressFn | None,
) -> InferenceSourcePredictResult:
    if isinstance(source, TextInput):
        return InferenceSourcePredictResult(
            source=SourceText(),
            results=_predict_texts(request, source.texts, scratch, settings, progress),
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
    results = _predict_items(
        request, expand_source(path, name, scratch / "files", settings), settings, progress
    )
    return InferenceSourcePredictResult(source=wire_source, results=results)


def _predict_items(
    request: InferenceRequest,
    items: Sequence[MediaItem | MediaFailure],
    settings: Settings,
    progress: ProgressFn | None,
) -> InferenceResults:
    results = InferenceResults()
    for item in items:
        if isinstance(item, MediaFailure):
            results.errors.append(FileError(file=item.name, message=item.message))
            continue
        if progress:
            progress(item.name)
        prediction, errors = _predict_item(item, request, settings)
        if prediction is not None:
            results.predictions.append(prediction)
        results.errors.extend(errors)
    return results


def _predict_item(
    item: MediaItem, request: InferenceRequest, settings: Settings
) -> tuple[InferencePrediction | None, list[FileError]]:
    assert request.models is not None  # resolved by predict_sources
    requested = request.models.requested()
    names = [name for name in requested if applies(name, item.kind)]
    if not names:
        message = f"none of the requested models ({', '.join(requested)}) reads {item.kind} files"
        return None, [FileError(file=item.name, message=message)]
    blocks: dict[str, ModelBlock] = {}
    errors = []
    for name in names:
        try:
            blocks[name] = load_model(name, settings).predict_file(item, request)
        except MienError as exc:
            errors.append(FileError(file=item.name, message=f"{name}: {exc}"))
        except Exception as exc:  # a bug or a native failure must fail this file only
            logger.exception("model %s failed on %s", name, item.name)
            errors.append(FileError(file=item.name, message=f"{name}: internal error: {exc}"))
    prediction = (
        InferencePrediction(
            file=item.name, file_type=_file_type(item), models=ModelsPredictions(**blocks)
        )
        if blocks
        else None
    )
    return prediction, errors


def _file_type(item: MediaItem) -> str:
    """v0's ``file_type``: the kind, with a video without sound told apart."""
    if item.kind == "video" and not probe_tracks(item.path, "video").audio:
        return "video_no_audio"
    return item.kind


def _predict_texts(
    request: InferenceRequest,
    texts: Sequence[str],
    scratch: Path,
    settings: Settings,
    progress: ProgressFn | None,
) -> InferenceResults:
    """Each text entry goes down the same path as a text file, named ``text_<i>``."""
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
    return _predict_items(request, items, settings, progress)


def run_job(job_id: str, settings: Settings) -> JobOutcome:
    """Run a stored job (in a worker process) and write its artifacts zip."""
    from mien.artifacts import write_artifacts

    store = _store(settings)
    record = store.get(job_id=job_id)
    request = InferenceRequest.model_validate(record.request)
    folder = settings.jobs_dir / job_id
    results = predict_sources(
        request, sources_of(request, folder / "inputs"), folder / "work", settings
    )
    wire = [wire_result(result) for result in results]
    write_artifacts(wire, folder / "artifacts.zip")
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
