"""``mien predict`` runs locally with no server: a file in, predictions out."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from click.testing import CliRunner

from mien.cli.main import main
from mien.taxonomy import EMOTIONS_53
from tests.conftest import WEIGHTS_CACHE

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "feedback.txt"


def _run(tmp_path: Path, *args: str) -> str:
    env = {"MIEN_HOME": str(tmp_path / "home"), "MIEN_CACHE_DIR": str(WEIGHTS_CACHE)}
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_predict_example_to_json(tmp_path: Path) -> None:
    out = tmp_path / "predictions.json"
    _run(
        tmp_path,
        "predict",
        str(EXAMPLE),
        "--models",
        "language",
        "--config",
        '{"models": {"language": {"granularity": "sentence"}}}',
        "--out",
        str(out),
    )
    (source,) = json.loads(out.read_text())
    assert source["source"]["filename"] == "feedback.txt"
    sentences = source["results"]["predictions"][0]["models"]["language"]["grouped_predictions"][0][
        "predictions"
    ]
    assert len(sentences) == 3
    thanks = max(sentences[0]["emotions"], key=lambda e: e["score"])
    assert thanks["name"] == "Gratitude"


def test_predict_text_to_csv(tmp_path: Path) -> None:
    out = tmp_path / "predictions.csv"
    _run(
        tmp_path,
        "predict",
        "--text",
        "I love it",
        "--text",
        "I hate it",
        "--models",
        "language",
        "--config",
        '{"models": {"language": {"granularity": "utterance"}}}',
        "--out",
        str(out),
    )
    rows = list(csv.DictReader(out.open()))
    assert [row["File"] for row in rows] == ["text_0", "text_1"]
    assert list(rows[0])[:5] == ["Source", "File", "Model", "Id", "Text"]
    assert set(EMOTIONS_53) <= set(rows[0])
    assert float(rows[0]["Love"]) > float(rows[1]["Love"])


def test_predict_reports_bad_files_without_failing_the_rest(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes("caf\xe9 cr\xe8me".encode("latin-1"))
    output = _run(tmp_path, "predict", str(bad), "--text", "fine", "--models", "language")
    assert "error: bad.txt" in output
    assert json.loads(output[output.index("[") : output.rindex("]") + 1])[1]["results"][
        "predictions"
    ]
