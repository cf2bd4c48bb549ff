"""The page's files as the server serves them: no browser needed, so these run everywhere."""

from __future__ import annotations

import re

import httpx

from mien.web import STATIC_DIR
from tests.conftest import Server

_IMPORT = re.compile(r'^import [^;]* from "([^"]+)";$', re.MULTILINE)


def test_the_page_and_its_modules_are_served_without_a_key(keyed_server: Server) -> None:
    page = httpx.get(f"{keyed_server.url}/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/web/js/main.js">' in page.text
    for path in STATIC_DIR.rglob("*"):
        if path.is_file():
            url = f"{keyed_server.url}/web/{path.relative_to(STATIC_DIR).as_posix()}"
            answer = httpx.get(url)
            assert answer.status_code == 200, url
            assert answer.content == path.read_bytes()
    script = httpx.get(f"{keyed_server.url}/web/js/main.js").headers["content-type"]
    assert "javascript" in script  # browsers refuse modules served as anything else
    assert httpx.get(f"{keyed_server.url}/v0/batch/jobs").status_code == 401  # the API is not open


def test_every_module_import_names_a_file_that_exists() -> None:
    modules = sorted((STATIC_DIR / "js").glob("*.js"))
    imports = [(m, target) for m in modules for target in _IMPORT.findall(m.read_text())]
    assert len(imports) >= len(modules)  # the pattern still finds them
    for module, target in imports:
        assert target.startswith("./"), f"{module.name} imports {target} from outside the page"
        assert (module.parent / target).is_file(), f"{module.name} imports {target}"


def test_the_page_needs_nothing_from_another_host() -> None:
    """Offline means offline: no CDN, font or script from elsewhere."""
    for path in STATIC_DIR.rglob("*"):
        if path.suffix in {".html", ".js", ".css"}:
            assert not re.search(r"https?://(?!www\.w3\.org/)[\w-]+\.", path.read_text()), path
