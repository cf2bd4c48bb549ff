"""``mien predict``: run the models on local files, URLs or text, with no server."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from mien.schemas import InferenceBaseRequest, InferenceSourcePredictResult, Models

__all__ = ["predict"]


@click.command()
@click.argument("inputs", nargs=-1)
@click.option("--text", "texts", multiple=True, help="Text to analyse (repeatable).")
@click.option(
    "--models",
    "model_names",
    default=None,
    help="Comma-separated models to run, e.g. 'language' [default: all that apply].",
)
@click.option(
    "--config",
    "config",
    default=None,
    help="A v0 request body as JSON, or @FILE, e.g. "
    '\'{"models": {"language": {"granularity": "sentence"}}}\'.',
)
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write predictions to a .json or .csv file [default: JSON to stdout].",
)
def predict(
    inputs: tuple[str, ...],
    texts: tuple[str, ...],
    model_names: str | None,
    config: str | None,
    out: Path | None,
) -> None:
    """Predict on INPUTS (files, archives or http(s) URLs) and --text, locally."""
    from tqdm import tqdm

    from mien.pipeline import FileInput, SourceInput, TextInput, UrlInput, predict_sources
    from mien.schemas import InferenceRequest, SourceFileRef
    from mien.settings import Settings

    base = _request(config)
    if model_names:
        base = base.model_copy(update={"models": _only(model_names, base.models)})
    sources: list[SourceInput] = []
    for value in inputs:
        if value.startswith(("http://", "https://")):
            sources.append(UrlInput(value))
            continue
        path = Path(value)
        if not path.is_file():
            raise click.BadParameter(f"no such file: {value}", param_hint="INPUTS")
        sources.append(FileInput(path, SourceFileRef(filename=path.name, md5sum=_md5(path))))
    all_texts = [*base.text, *texts]
    if all_texts:
        sources.append(TextInput(tuple(all_texts)))
    if not sources:
        raise click.UsageError("give at least one file, URL or --text")
    request = InferenceRequest(**base.model_dump(exclude={"text"}), text=all_texts)
    settings = Settings()
    scratch = settings.home / "tmp"  # everything mien writes stays under MIEN_HOME
    scratch.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="predict-", dir=scratch) as workdir,
        tqdm(desc="predicting", unit="file", disable=None, file=sys.stderr) as bar,
    ):

        def advance(name: str) -> None:
            bar.set_postfix_str(name[-40:])
            bar.update()

        results = predict_sources(request, sources, Path(workdir), settings, progress=advance)
    _write(results, out)
    _report_errors(results)


def _only(model_names: str, configured: Models | None) -> Models:
    """The named models, each with its options from ``--config`` or its defaults."""
    from mien.schemas import Models

    names = [name.strip() for name in model_names.split(",") if name.strip()]
    unknown = sorted(set(names) - set(Models.model_fields))
    if unknown:
        raise click.BadParameter(f"unknown model(s): {', '.join(unknown)}", param_hint="--models")
    options = configured.model_dump() if configured else {}
    return Models.model_validate({name: options.get(name) or {} for name in names})


def _request(config: str | None) -> InferenceBaseRequest:
    from mien.schemas import InferenceBaseRequest

    if config is None:
        return InferenceBaseRequest()
    raw = Path(config[1:]).read_text() if config.startswith("@") else config
    try:
        return InferenceBaseRequest.model_validate_json(raw)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--config") from exc


def _md5(path: Path) -> str:
    import hashlib

    with path.open("rb") as file:
        return hashlib.file_digest(file, lambda: hashlib.md5(usedforsecurity=False)).hexdigest()


def _write(results: list[InferenceSourcePredictResult], out: Path | None) -> None:
    from mien.artifacts import csv_rows, model_blocks, rows_to_csv
    from mien.pipeline import wire_result

    wire = [wire_result(result) for result in results]
    if out is not None and out.suffix.lower() == ".csv":
        rows = [
            {"Source": index, "File": file, "Model": model} | row
            for index, file, model, block in model_blocks(wire)
            for row in csv_rows(model, block)
        ]
        out.write_text(rows_to_csv(rows))
    elif out is not None:
        out.write_text(json.dumps(wire, indent=2))
    else:
        click.echo(json.dumps(wire, indent=2))


def _report_errors(results: list[InferenceSourcePredictResult]) -> None:
    for result in results:
        if result.error:
            click.secho(f"error: {result.error}", fg="red", err=True)
        for error in result.results.errors if result.results else []:
            click.secho(f"error: {error.file}: {error.message}", fg="red", err=True)
