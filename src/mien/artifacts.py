"""The job's artifacts zip: one CSV per model and file, plus the predictions JSON (v0-api.md §1.6).

CSV columns follow v0's artifacts: ``Id`` (face or speaker), time or position columns, then one
column per score name in taxonomy order.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

__all__ = ["csv_rows", "file_folder", "model_blocks", "rows_to_csv", "write_artifacts"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def write_artifacts(
    wire: Sequence[dict[str, Any]], path: Path, outputs: Path | None = None
) -> None:
    """Write the zip of a job's wire-format predictions atomically to ``path``.

    Files the models wrote under ``outputs`` (face crops) go in at their relative paths, which
    :func:`file_folder` made to sit next to the file's CSVs.
    """
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("predictions.json", json.dumps(wire, indent=2))
        for index, file, model, block in model_blocks(wire):
            archive.writestr(f"{file_folder(index, file)}/csv/{model}.csv", _csv(model, block))
        if outputs is not None and outputs.is_dir():
            for member in sorted(outputs.rglob("*")):
                if member.is_file():
                    archive.write(member, member.relative_to(outputs).as_posix())
    tmp.replace(path)


def file_folder(source_index: int, file: str) -> str:
    """The zip folder of one predicted file: ``source_<i>/<file path, made safe>``."""
    return f"source_{source_index}/{_safe(file)}"


def model_blocks(wire: Sequence[dict[str, Any]]) -> Iterator[tuple[int, str, str, dict[str, Any]]]:
    """Every ``(source index, file, model, block)`` of wire-format predictions."""
    for index, result in enumerate(wire):
        for prediction in (result.get("results") or {}).get("predictions", []):
            for model, block in prediction["models"].items():
                if block is not None:
                    yield index, prediction["file"], model, block


def _safe(name: str) -> str:
    return "/".join(
        _UNSAFE.sub("_", part) for part in name.split("/") if part not in ("", ".", "..")
    )


def _csv(model: str, block: dict[str, Any]) -> str:
    return rows_to_csv(list(csv_rows(model, block)))


def rows_to_csv(rows: Sequence[dict[str, Any]]) -> str:
    """CSV text with the union of the rows' keys as header, in first-seen order."""
    header: list[str] = []
    for row in rows:
        header += [key for key in row if key not in header]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def csv_rows(model: str, block: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """One CSV row per prediction of a model block (wire JSON)."""
    for group in block["grouped_predictions"]:
        for prediction in group["predictions"]:
            row: dict[str, Any] = {"Id": group["id"]}
            row |= _anchor(model, prediction)
            for key in ("emotions", "facs", "descriptions", "toxicity", "sentiment"):
                for score in prediction.get(key) or []:
                    row[score["name"] if key != "sentiment" else f"Sentiment {score['name']}"] = (
                        score["score"]
                    )
            yield row


def _anchor(model: str, p: dict[str, Any]) -> dict[str, Any]:
    """The columns that place a prediction in time, space or text."""
    time = p.get("time")
    if model == "face":
        box = p["box"]
        return {
            "Frame": p["frame"],
            "Time": p["time"],
            "Probability": p["prob"],
            "FaceX0": box["x"],
            "FaceY0": box["y"],
            "FaceWidth": box["w"],
            "FaceHeight": box["h"],
        }
    span = {"BeginTime": time["begin"] if time else "", "EndTime": time["end"] if time else ""}
    if model == "burst":
        return span
    if model == "prosody":
        return (
            {"Text": p.get("text") or ""}
            | span
            | {
                "Confidence": _blank(p.get("confidence")),
                "SpeakerConfidence": _blank(p.get("speaker_confidence")),
            }
        )
    if model in ("language", "ner"):
        lead = {"Text": p.get("text", p.get("entity", ""))}
        if model == "ner":
            lead = {
                "Entity": p["entity"],
                "EntityConfidence": p["entity_confidence"],
                "Support": p["support"],
                "Uri": p["uri"],
                "LinkWord": p["link_word"],
            }
        return (
            lead
            | {"BeginPosition": p["position"]["begin"], "EndPosition": p["position"]["end"]}
            | span
            | {
                "Confidence": _blank(p.get("confidence")),
                "SpeakerConfidence": _blank(p.get("speaker_confidence")),
            }
        )
    return {}


def _blank(value: object) -> object:
    return "" if value is None else value
