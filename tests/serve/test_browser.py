"""The page in real browsers: Debian's headless Chromium and Firefox ESR, driven by Playwright.

Every test runs in both: images (table numbers = the API's, the heat map, layers from the
keyboard, a screenshot, no request to another host), a one-line error, the token prompt, a video
job to its CSV download, and the webcam over the WebSocket with the browser's fake camera
(Chromium's fed a .y4m clip of the bundled example; Firefox's draws its own picture, with no one in
it). Each browser's tests skip, with the reason, where it is missing (``.ci/run`` installs Debian's
``chromium`` and ``firefox-esr``; never ``playwright install``). Firefox runs as it ships, over
WebDriver BiDi (Playwright's ``moz-firefox`` channel), through a relay for the two places where
Playwright 1.65 expects newer BiDi than ESR 153 has (``tests.serve.conftest.firefox_bidi_shim``).

``HHPNET_SCREENSHOT_DIR=docs/images`` keeps Chromium's screenshot of the page (the README's
picture).
"""

from __future__ import annotations

import csv
import io
import os
import shlex
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from tests.serve.media import (
    CHROMIUM_FLAGS,
    PAIR,
    pair_frames,
    require_serve,
    write_mp4,
    write_y4m,
)

require_serve()
sync_api = pytest.importorskip("playwright.sync_api", reason="the page tests need playwright")

CHROMIUM = os.environ.get("HHPNET_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
FIREFOX = os.environ.get("HHPNET_FIREFOX") or shutil.which("firefox-esr") or "/usr/bin/firefox-esr"
BINARY = {"chromium": CHROMIUM, "firefox": FIREFOX}
INSTALL = {
    "chromium": "no Chromium found (apt-get install chromium, or set HHPNET_CHROMIUM)",
    "firefox": "no Firefox found (apt-get install firefox-esr, or set HHPNET_FIREFOX)",
}
VIEW = {"width": 1366, "height": 900}
#: Firefox's own fake camera (a generated picture: it cannot be fed a clip) and no permission prompt
FIREFOX_FAKE_CAMERA = {
    "media.navigator.streams.fake": True,
    "media.navigator.permission.disabled": True,
}


@pytest.fixture(scope="module", params=sorted(BINARY))
def browser_name(request: pytest.FixtureRequest) -> str:
    """Every page test runs in Chromium and in Firefox; each skips where its browser is missing."""
    name: str = request.param
    if not Path(BINARY[name]).is_file():
        pytest.skip(INSTALL[name])
    return name


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    from hhpnet.serve import ServeSettings
    from hhpnet.serve.server import BackgroundServer

    with BackgroundServer(ServeSettings(port=0, warm=True)) as srv:
        yield srv


@pytest.fixture(scope="module")
def playwright() -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        yield pw


def firefox_launcher(folder: Path) -> Path:
    """A launcher Playwright starts as its Firefox: Debian's stock ESR behind
    :func:`tests.serve.conftest.firefox_bidi_shim` (driven over WebDriver BiDi)."""
    launcher = folder / "firefox"
    shim = (
        "import sys; from tests.serve.conftest import firefox_bidi_shim as f;"
        " sys.exit(f(sys.argv[1:]))"
    )
    root = Path(__file__).resolve().parents[2]
    launcher.write_text(
        f"#!/bin/sh\nPYTHONPATH={shlex.quote(str(root))} exec {shlex.quote(sys.executable)}"
        f' -c {shlex.quote(shim)} {shlex.quote(FIREFOX)} "$@"\n'
    )
    launcher.chmod(0o755)
    return launcher


@pytest.fixture(scope="module")
def browser(
    playwright: Any, browser_name: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """One headless browser of this kind per module, with a fake camera that needs no permission:
    Chromium's plays a .y4m clip of the bundled example; Firefox's draws its own picture (it
    cannot be fed a clip). Firefox through Playwright's ``moz-firefox`` channel (BiDi)."""
    folder = tmp_path_factory.mktemp(browser_name)
    if browser_name == "chromium":
        y4m = write_y4m(folder / "cam.y4m", pair_frames(30))
        camera = [
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={y4m}",
        ]
        b = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_FLAGS, *camera]
        )
    else:
        b = playwright.firefox.launch(
            channel="moz-firefox",
            executable_path=str(firefox_launcher(folder)),
            headless=True,
            firefox_user_prefs=FIREFOX_FAKE_CAMERA,
            # Firefox refuses to start as root under a HOME owned by someone else (CI runners)
            env={**os.environ, "HOME": str(folder)},
        )
    yield b
    b.close()


@pytest.fixture
def page(browser: Any, server: Any) -> Iterator[Any]:
    """A fresh page on the server; every request it makes is checked to stay on the server."""
    context = browser.new_context(viewport=VIEW, accept_downloads=True)
    p = context.new_page()
    hosts: list[str] = []
    p.on("request", lambda r: hosts.append(r.url))
    p.goto(server.url)
    yield p
    here = urlparse(server.url).netloc
    foreign = [u for u in hosts if urlparse(u).scheme in ("http", "https", "ws", "wss")]
    assert all(urlparse(u).netloc == here for u in foreign), foreign
    context.close()


def _numbers(cell: str) -> tuple[float, float]:
    value, sigma = cell.replace("\u2212", "-").split("±")
    return float(value), float(sigma)


def test_image_upload_shows_table_matrix_and_overlays_like_the_api(
    page: Any, browser_name: str, server: Any, tmp_path: Path
) -> None:
    import httpx

    page.set_input_files("#image-input", str(PAIR))
    page.wait_for_selector("article.result.done", timeout=30_000)
    api = httpx.post(
        server.url + "v1/interaction?source=pair_640x480.jpg",
        content=PAIR.read_bytes(),
        headers={"content-type": "image/jpeg"},
    ).json()
    rows = page.locator("table.people tbody tr")
    assert rows.count() == len(api["people"]) == 2
    for i, person in enumerate(api["people"]):
        for angle in ("yaw", "pitch", "roll"):
            cell = rows.nth(i).locator(f"td[data-angle={angle}]").inner_text()
            value, sigma = _numbers(cell)
            assert value == pytest.approx(person[angle], abs=0.051)
            assert sigma == pytest.approx(person["sigma"][angle], abs=0.051)
    cells = page.locator("table.matrix tbody td")
    assert cells.count() == 4
    att = api["interaction"]["attention"]
    assert cells.nth(2).inner_text().startswith(f"{att[1][0]:.2f}")
    shot = tmp_path / "serve_page.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 50_000
    keep = os.environ.get("HHPNET_SCREENSHOT_DIR")
    if keep and browser_name == "chromium":  # the README's picture
        shutil.copy(shot, Path(keep) / "serve_page.png")
    # a layer switched off from the keyboard changes the drawing, and back on restores it
    canvas = page.locator("canvas.scene").first
    before = canvas.screenshot()
    page.locator("input[data-layer=fans]").focus()
    page.keyboard.press("Space")
    assert canvas.screenshot() != before
    page.keyboard.press("Space")
    assert canvas.screenshot() == before


def test_a_bad_image_is_one_line_on_the_page(page: Any, tmp_path: Path) -> None:
    bad = tmp_path / "notes.jpg"
    bad.write_text("this is text, not a photo")
    page.set_input_files("#image-input", str(bad))
    page.wait_for_selector("article.result.failed", timeout=30_000)
    err = page.locator("#error")
    assert err.is_visible()
    text = err.inner_text()
    assert "notes.jpg" in text and "not a readable image" in text and "\n" not in text


def test_tabs_work_from_the_keyboard(page: Any) -> None:
    page.locator("#tab-images").focus()
    page.keyboard.press("ArrowRight")
    assert page.locator("#tab-video").get_attribute("aria-selected") == "true"
    assert (
        page.locator("#view-video").is_visible() and not page.locator("#view-images").is_visible()
    )
    page.keyboard.press("ArrowRight")
    assert page.locator("#view-webcam").is_visible()
    assert page.evaluate("document.activeElement.id") == "tab-webcam"


def test_settings_reach_the_api(page: Any) -> None:
    page.click("#settings summary")
    page.wait_for_function("document.getElementById('opt-detector').options.length > 1")
    page.select_option("#opt-detector", "blazeface")
    page.select_option("#opt-method", "paper")
    page.check("#opt-precise")
    with page.expect_request(lambda r: "/v1/interaction?" in r.url) as sent:
        page.set_input_files("#image-input", str(PAIR))
    assert "precise=true" in sent.value.url and "detector=blazeface" in sent.value.url
    page.wait_for_selector("article.result.done", timeout=30_000)
    detectors = page.locator("table.people tbody td:nth-child(2)").all_inner_texts()
    # the page breaks long tags after "+" (zero-width spaces)
    assert [d.replace("\u200b", "") for d in detectors] == ["blazeface+facemesh"] * 2
    assert "Method paper" in page.locator("figure.heatmap figcaption").inner_text()


def test_video_job_runs_to_its_end_and_its_csv_downloads(page: Any, tmp_path: Path) -> None:
    clip = write_mp4(tmp_path / "talk.mp4", pair_frames(10))
    page.click("#tab-video")
    page.set_input_files("#video-input", str(clip))
    page.wait_for_selector("#video-result:not([hidden])", timeout=120_000)
    assert page.locator("#job-state").inner_text() == "done"
    assert page.locator("#job-progress").get_attribute("value") == "100"
    page.wait_for_function("document.getElementById('scrub-label').textContent.includes('frame 0')")
    assert page.locator("#video-table table.people tbody tr").count() == 2
    page.locator("#scrubber").focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("document.getElementById('scrub-label').textContent.includes('frame 1')")
    assert page.locator("#timeline").evaluate("img => img.naturalWidth") > 100
    with page.expect_download() as info:
        page.click("button[data-file='poses.csv']")
    download = info.value
    assert download.suggested_filename == "talk_poses.csv"
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text())))
    assert len(rows) == 20 and {r["frame"] for r in rows} == {str(k) for k in range(10)}


def test_webcam_streams_poses_from_the_fake_camera(page: Any, browser_name: str) -> None:
    # Chromium's camera plays the clip of the two people; Firefox's draws its own picture (no one
    # in it): the same stream, frames answered and the table of the last one, with no face.
    people = {"chromium": 2, "firefox": 0}[browser_name]
    page.click("#tab-webcam")
    page.click("#cam-start")
    page.wait_for_function(
        "Number(document.getElementById('cam-stats').dataset.frames || 0) >= 8",
        timeout=60_000,
    )
    assert page.locator("#cam-table table.people").count() == 1
    assert page.locator("#cam-table table.people tbody tr").count() == people
    assert "frames/s" in page.locator("#cam-stats").inner_text()
    assert float(page.locator("#cam-stats").get_attribute("data-fps") or 0) > 0
    assert not page.locator("#error").is_visible()
    page.click("#cam-stop")
    assert page.locator("#cam-start").is_enabled()


def test_a_server_with_a_token_asks_for_it_once(browser: Any) -> None:
    from hhpnet.serve import ServeSettings
    from hhpnet.serve.server import BackgroundServer

    settings = ServeSettings(port=0, token="let-me-in", detector="blazeface", warm=False)
    with BackgroundServer(settings) as srv:
        context = browser.new_context(viewport=VIEW)
        p = context.new_page()
        p.goto(srv.url)
        p.wait_for_selector("#token-form:not([hidden])")
        p.fill("#token", "let-me-in")
        p.press("#token", "Enter")
        p.wait_for_selector("#token-form", state="hidden")
        p.set_input_files("#image-input", str(PAIR))
        p.wait_for_selector("article.result.done", timeout=30_000)
        assert p.locator("table.people tbody tr").count() == 2
        context.close()
