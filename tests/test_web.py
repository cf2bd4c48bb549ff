"""The web page, end to end in real headless Chromium (Debian ``chromium``, driven by Playwright).

Each test uses the page as a person would: it uploads real media or types text, waits for the
job, and reads what the page shows. The camera and microphone are Chromium's fake devices fed
with a smiling face and JFK's speech. No test may leave an error in the browser's console.
The main views are saved to ``docs/screenshots/`` by the same run, for the README.
"""

from __future__ import annotations

import json
import shutil
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image

from mien.media.audio import load_audio
from tests.conftest import Server, make_settings, running
from tests.face_media import face_media
from tests.voice_media import voice_media, write_wav

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium (Debian package chromium)"),
]

SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
JOB_TIMEOUT_MS = 180_000
QUIET_FLAGS = [  # as root, without a GPU, and without calling home on a closed network
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]


def camera_file(image: Path, target: Path, width: int = 640, height: int = 480) -> Path:
    """A Y4M video of ``image`` on grey, the format Chromium's fake camera plays (looped)."""
    picture = Image.open(image).convert("RGB")
    picture.thumbnail((width, height))
    frame = Image.new("RGB", (width, height), (90, 90, 90))
    frame.paste(picture, ((width - picture.width) // 2, (height - picture.height) // 2))
    y, u, v = frame.convert("YCbCr").split()
    planes = y.tobytes() + u.resize((width // 2, height // 2)).tobytes()
    planes += v.resize((width // 2, height // 2)).tobytes()
    with target.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(10):
            out.write(b"FRAME\n" + planes)
    return target


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One server for the module's tests: its jobs list fills up as they run."""
    with running(make_settings(tmp_path_factory.mktemp("web") / "home")) as url:
        yield url


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    media = tmp_path_factory.mktemp("devices")
    camera = camera_file(face_media("happy.jpg"), media / "face.y4m")
    flags = [
        *QUIET_FLAGS,
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={camera}",
        f"--use-file-for-fake-audio-capture={voice_media('jfk.wav')}",
    ]
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=flags)
        yield browser
        browser.close()


class Console:
    """Everything the page logged as an error, plus uncaught exceptions."""

    def __init__(self, page: Any, *, expected: tuple[str, ...] = ()) -> None:
        self.errors: list[str] = []
        self.expected = expected
        page.on("console", self._message)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))

    def _message(self, message: Any) -> None:
        if message.type == "error" and not any(e in message.text for e in self.expected):
            self.errors.append(message.text)


def open_page(browser: Any, url: str, *, width: int = 1280, expected: tuple[str, ...] = ()) -> Any:
    context = browser.new_context(viewport={"width": width, "height": 900}, accept_downloads=True)
    context.grant_permissions(["camera", "microphone"])
    page = context.new_page()
    page.console = Console(page, expected=expected)
    page.goto(url)
    return page


@pytest.fixture
def page(browser: Any, web: str) -> Iterator[Any]:
    page = open_page(browser, web)
    yield page
    errors = page.console.errors
    page.context.close()
    assert errors == []


def shoot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def start_job(
    page: Any,
    files: list[Path],
    models: set[str],
    text: str = "",
    options: dict[str, bool | str] | None = None,
) -> None:
    """Fill the form as a person would and wait until the job's results are shown.

    ``options`` names the form's option fields: True/False ticks a box, a string picks a choice.
    """
    page.goto(page.url.split("#")[0] + "#/")
    if options:
        page.click("summary:has-text('Options')")
        for name, value in options.items():
            if isinstance(value, bool):
                page.set_checked(f"input[name={name}]", value)
            else:
                page.select_option(f"select[name={name}]", value)
    if files:
        page.set_input_files("#files", [str(f) for f in files])
    if text:
        page.fill("#text", text)
    for name in ("face", "burst", "prosody", "language", "ner", "facemesh"):
        page.set_checked(f"input[name=model-{name}]", name in models)
    page.get_by_role("button", name="Start job").click()
    ended = page.locator(".status.completed, .status.failed, .new-job .notice.error")
    ended.first.wait_for(timeout=JOB_TIMEOUT_MS)
    assert ended.first.inner_text() == "COMPLETED", page.locator("main").inner_text()
    page.wait_for_selector(".source", timeout=30_000)


def bar_names(page: Any, selector: str) -> list[str]:
    names: list[str] = page.locator(f"{selector} > .bars li .name").all_inner_texts()
    return names


def test_the_form_offers_every_model_and_its_main_options(page: Any) -> None:
    page.click("summary:has-text('Options')")
    assert page.locator("input[name^=model-]").count() == 6
    page.set_input_files("#files", [str(face_media("happy.jpg"))])
    assert "0-f15-hao-ph.jpg" in page.locator(".chosen").inner_text()
    page.get_by_role("button", name="Start job").focus()  # reachable by keyboard
    shoot(page, "try.png")


def test_a_smiling_face_shows_joy_on_its_outline(page: Any) -> None:
    start_job(
        page,
        [face_media("happy.jpg")],
        {"face"},
        options={"face-facs": True, "face-descriptions": True},
    )
    page.wait_for_selector(".image-view img")
    assert page.locator(".face-box").count() == 1
    assert "Joy" in page.locator(".face-label").inner_text()
    assert "Joy" in bar_names(page, ".face-card")[:3]
    assert page.locator(".face-card h5", has_text="FACS").count() == 1
    assert page.locator(".face-card h5", has_text="Descriptions").count() == 1
    page.click(".face-card summary:has-text('All 48 scores')")
    assert page.locator(".face-card details[open] .bars li").count() == 48
    shoot(page, "image.png")

    with page.expect_download() as download:
        page.get_by_role("button", name="Download predictions (JSON)").click()
    predictions = json.loads(Path(download.value.path()).read_text())
    face = predictions[0]["results"]["predictions"][0]["models"]["face"]
    assert face["grouped_predictions"][0]["predictions"][0]["facs"]
    with page.expect_download() as download:
        page.get_by_role("button", name="Download artifacts (zip)").click()
    assert zipfile.is_zipfile(download.value.path())

    page.reload()  # the browser kept the photo it sent: the results still show it
    page.wait_for_selector(".image-view .stage img")
    page.wait_for_selector(".face-box")


def test_typed_text_is_shaded_by_its_top_expressions(page: Any) -> None:
    text = "I love this, thank you so much! But the delay was really annoying."
    start_job(page, [], {"language", "ner"}, text=text)
    spans = page.locator(".seg")
    assert spans.count() == 13  # one per word
    assert page.locator(".shaded").inner_text().strip() == text  # gaps kept from the sent text
    tops = {
        word: spans.filter(has_text=word).first.get_attribute("data-top")
        for word in ("love", "thank", "annoying")
    }
    assert tops["love"] in {"Love", "Adoration", "Joy", "Admiration"}
    assert tops["thank"] in {"Gratitude", "Admiration", "Joy"}
    assert tops["annoying"] in {"Annoyance", "Anger", "Disapproval", "Disappointment"}
    love = spans.filter(has_text="love").first
    assert love.evaluate("e => getComputedStyle(e).backgroundColor").startswith("rgba(")
    spans.filter(has_text="annoying").first.focus()  # by keyboard: focus shows a word's scores
    detail = page.locator(".span-detail")
    assert "annoying" in detail.locator("h4").inner_text()
    assert "Sentiment" in detail.inner_text() and "Toxicity" in detail.inner_text()
    detail.locator("summary").click()
    assert detail.locator("details[open] .bars li").count() == 53
    shoot(page, "text.png")


def test_a_broken_file_fails_alone_and_a_text_file_keeps_its_words(
    page: Any, tmp_path: Path
) -> None:
    example = Path(__file__).resolve().parents[1] / "examples" / "feedback.txt"
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a JPEG")
    start_job(page, [example, broken], {"language"}, options={"language-granularity": "sentence"})
    assert "broken.jpg" in page.locator(".notice.error").inner_text()
    assert "1 errors" in page.locator(".job-state").inner_text()
    text = page.locator(".source", has_text="feedback.txt").locator(".shaded")
    assert text.inner_text().strip() == example.read_text().strip()  # spacing and lines kept
    assert page.locator(".seg").count() == 3  # one per sentence


def test_faces_inside_archives_are_shown_on_their_pictures(page: Any, tmp_path: Path) -> None:
    faces = {"smiles/happy.jpg": face_media("happy.jpg"), "wow.jpg": face_media("surprise.jpg")}
    with zipfile.ZipFile(tmp_path / "faces.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        for name, path in faces.items():
            archive.write(path, name)
    with tarfile.open(tmp_path / "faces.tar.gz", "w:gz") as archive:
        for name, path in faces.items():
            archive.add(path, f"./{name}")
    start_job(page, [tmp_path / "faces.zip", tmp_path / "faces.tar.gz"], {"face"})
    names = page.locator(".file-name").all_inner_texts()
    assert sorted(names) == sorted([*faces, *faces])
    assert page.locator(".image-view .stage img").count() == 4  # each read back from its archive
    page.wait_for_function("document.querySelectorAll('.face-box').length === 4")


@pytest.fixture(scope="module")
def speech_then_laugh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """JFK's 11 s of speech, a second of silence, then a woman's laughter: words, then a burst."""
    speech = load_audio(voice_media("jfk.wav"))
    laugh = load_audio(voice_media("laugh-pompous.wav"))
    joined = np.concatenate([speech, np.zeros(16_000, dtype=np.float32), laugh])
    return write_wav(joined, tmp_path_factory.mktemp("audio") / "speech-then-laugh.wav")


def test_an_audio_clip_gets_a_timeline_that_follows_playback(
    page: Any, speech_then_laugh: Path
) -> None:
    start_job(page, [speech_then_laugh], {"prosody", "burst", "language", "ner"})
    timeline = page.locator(".timeline")
    assert timeline.locator(".plot path").count() == 5  # the five top prosody dimensions
    words = timeline.locator(".track.word .item").all_inner_texts()
    assert {"ask", "country", "Americans"} <= set(words)
    bursts = timeline.locator(".track.burst .item")
    assert bursts.count() >= 1
    burst_start = float(bursts.first.evaluate("e => parseFloat(e.style.left)"))
    assert burst_start > 50  # the laugh is in the second half, after the speech
    assert page.locator(".entities td", has_text="Americans").count() == 1

    audio = page.locator("audio")
    duration = float(timeline.get_attribute("aria-valuemax") or 0)
    box = timeline.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.2, box["y"] + box["height"] - 5)
    assert audio.evaluate("a => a.currentTime") == pytest.approx(0.2 * duration, abs=0.3)
    page.keyboard.press("ArrowRight")  # the timeline has focus: one second on
    assert audio.evaluate("a => a.currentTime") == pytest.approx(0.2 * duration + 1, abs=0.3)
    page.wait_for_selector(".track.word .item.current")
    assert page.locator(".seg.current").count() == 1  # the transcript follows too
    assert bar_names(page, ".now div")  # the voice's scores at that moment
    page.locator(".seg", has_text="Americans").click()  # a transcript word seeks to its time
    assert 1.3 < audio.evaluate("a => a.currentTime") < 2.3
    shoot(page, "audio.png")


def test_prosody_over_a_sliding_window(page: Any) -> None:
    options: dict[str, bool | str] = {"prosody-window": True}
    start_job(page, [voice_media("jfk.wav")], {"prosody"}, options=options)
    page.wait_for_selector(".timeline .plot path")
    details = httpx.get(page.url.replace("#/jobs/", "v0/batch/jobs/")).json()
    assert details["request"]["models"]["prosody"]["window"] == {"length": 4.0, "step": 1.0}
    line = page.locator(".timeline .plot path").first.get_attribute("d") or ""
    assert line.count("M") == 1 and line.count("L") >= 6  # one line through the windows
    shoot(page, "window.png")


def test_a_video_outlines_the_face_of_the_current_frame(page: Any) -> None:
    start_job(page, [face_media("single_face.mp4")], {"face"})
    video = page.locator("video")
    video.evaluate("v => new Promise(r => v.readyState >= 1 ? r() : v.onloadedmetadata = r)")
    video.evaluate("v => { v.currentTime = 1.0; }")
    page.wait_for_selector(".media-view .face-box")
    assert page.locator(".timeline .plot path").count() == 5
    assert page.locator(".now .face-card").count() == 1
    shoot(page, "video.png")


def test_live_camera_and_microphone_update_as_they_go(page: Any) -> None:
    page.goto(page.url.split("#")[0] + "#/live")
    page.get_by_role("button", name="Start").click()
    page.wait_for_function(
        "document.querySelector('#live-face').dataset.updates >= 3", timeout=60_000
    )
    assert "Joy" in bar_names(page, "#live-face")[:3]
    page.click("#live-face summary")  # all 48 scores stay open as the panel updates
    seen = page.locator("#live-face").get_attribute("data-updates")
    page.wait_for_function(f"document.querySelector('#live-face').dataset.updates > {seen}")
    assert page.locator("#live-face details[open] .bars li").count() == 48
    first = page.locator("#live-voice").get_attribute("data-updates")
    page.wait_for_function(
        f"document.querySelector('#live-voice').dataset.updates > {first} + 1", timeout=90_000
    )
    assert len(bar_names(page, "#live-voice")) == 5  # JFK's voice scored, not "no speech"
    page.wait_for_function("document.querySelectorAll('#live-words .seg').length >= 4")
    heard = {w.strip(",.").lower() for w in page.locator("#live-words .seg").all_inner_texts()}
    assert heard & {"ask", "country", "fellow", "americans", "what", "you", "your", "can", "do"}
    assert page.locator(".rolling-chart path").count() == 10  # five lines each for face and voice
    assert page.locator(".live .face-box").count() == 1
    shoot(page, "live.png")
    page.get_by_role("button", name="Stop").click()
    assert "Stopped" in page.locator(".live-status").inner_text()


def test_the_jobs_list_links_each_job(page: Any, web: str) -> None:
    job_id = httpx.post(f"{web}/v0/batch/jobs", json={"text": ["Hello there!"]}).json()["job_id"]
    page.goto(f"{web}/#/jobs")
    row = page.locator("table.jobs tr", has=page.locator(f"a[href='#/jobs/{job_id}']"))
    row.wait_for()
    assert "1 text" in row.inner_text()
    row.get_by_role("link").click()
    page.wait_for_selector(".seg", timeout=JOB_TIMEOUT_MS)
    assert page.locator(".seg").count() == 2
    page.goto(f"{web}/#/jobs")
    page.locator("table.jobs").wait_for()
    shoot(page, "jobs.png")


def test_a_phone_sees_the_results_without_sideways_scrolling(browser: Any, web: str) -> None:
    page = open_page(browser, web, width=390)
    start_job(page, [face_media("happy.jpg")], {"face"})
    page.wait_for_selector(".image-view .face-box")
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    shoot(page, "phone.png")
    assert page.console.errors == []
    page.context.close()


def test_with_api_keys_the_page_asks_for_one_and_keeps_it(
    browser: Any, keyed_server: Server
) -> None:
    page = open_page(browser, keyed_server.url, expected=("401",))
    dialog = page.locator("#key-dialog")
    dialog.wait_for()
    page.fill("#key-input", "s3cret")
    page.get_by_role("button", name="Save").click()
    start_job(page, [], {"language"}, text="Thank you!")
    assert page.evaluate("localStorage.getItem('mien.apiKey')") == "s3cret"
    assert page.console.errors == []
    page.context.close()
