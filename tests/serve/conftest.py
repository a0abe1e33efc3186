"""Fixtures of the ``hhpnet serve`` tests: in-process clients (FastAPI's TestClient) and test
media. Each test module skips itself without the ``[serve]`` extra (:data:`NEEDS_SERVE`)."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

BASE = "http://127.0.0.1"


@contextmanager
def client_for(**options: Any) -> Iterator[Any]:
    """A TestClient of an app with these :class:`ServeSettings` (lifespan run: jobs work)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # starlette's notice about httpx
        from fastapi.testclient import TestClient

    from hhpnet.serve import ServeSettings, create_app

    options.setdefault("warm", False)
    app = create_app(ServeSettings(**options))
    with TestClient(app, base_url=BASE) as c:
        yield c


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """One in-process client per module: default settings (detector ``auto``), not warmed."""
    with client_for() as c:
        yield c


@pytest.fixture
def make_client() -> Callable[..., Any]:
    """``with make_client(token="x") as c:`` — a client of an app with other settings."""
    return client_for


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 12-frame 640×480 mp4 of the bundled pair photo sliding sideways."""
    from tests.serve.media import pair_frames, write_mp4

    return write_mp4(tmp_path_factory.mktemp("clip") / "pair_clip.mp4", pair_frames(12))


def wait_job(c: Any, job_id: str, timeout: float = 120.0) -> dict[str, Any]:
    """Poll ``GET /v1/videos/{id}`` until the job has ended; its last state."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job: dict[str, Any] = c.get(f"/v1/videos/{job_id}").json()
        if job["state"] in ("done", "failed", "cancelled"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not end in {timeout} s")


#: WebDriver BiDi that Playwright 1.65 expects and Firefox 153 ESR does not have yet. Commands
#: answered here as done: Playwright sets ``emulation.setMediaFeaturesOverride`` on every new
#: context (for ``color_scheme``, which the page tests never use); Firefox answers "unknown
#: command" and Playwright gives up on the context.
BIDI_NOT_IN_ESR = frozenset({"emulation.setMediaFeaturesOverride"})
#: Events Playwright keys by their ``download`` id, which ESR does not send: a download from a
#: ``blob:`` link (the page's download buttons) comes with ``navigation: null`` and Playwright
#: drops it. The blob URL is unique per download, so it stands in for the id.
BIDI_DOWNLOAD_EVENTS = frozenset(
    {"browsingContext.downloadWillBegin", "browsingContext.downloadEnd"}
)


def firefox_bidi_shim(argv: list[str]) -> int:
    """Run ``argv`` (Firefox and Playwright's arguments) behind a WebDriver BiDi relay.

    Playwright starts this as its Firefox (``tests/serve/test_browser.py`` writes the launcher):
    Firefox starts as asked, its BiDi socket is relayed message for message except the commands
    in :data:`BIDI_NOT_IN_ESR` (answered as done without reaching Firefox) and the events in
    :data:`BIDI_DOWNLOAD_EVENTS` (given their missing ``download`` id). Ends with
    Firefox (Playwright closes it over BiDi, or kills the process group)."""
    import json
    import re
    import subprocess
    import sys
    import threading

    from websockets.sync.client import connect
    from websockets.sync.server import ServerConnection, serve

    def relay(src: Any, dst: Any, from_playwright: bool) -> None:
        try:
            for raw in src:
                if from_playwright:
                    msg = json.loads(raw)
                    if msg.get("method") in BIDI_NOT_IN_ESR:
                        done = {"type": "success", "id": msg["id"], "result": {}}
                        src.send(json.dumps(done))
                        continue
                elif "browsingContext.download" in raw:
                    msg = json.loads(raw)
                    params = msg.get("params", {})
                    if msg.get("method") in BIDI_DOWNLOAD_EVENTS and not (
                        params.get("download") or params.get("navigation")
                    ):
                        params["download"] = params["url"]
                        raw = json.dumps(msg)
                dst.send(raw)
        except Exception:  # either side closed: close the other
            pass
        finally:
            dst.close()

    def handler(client: ServerConnection) -> None:
        assert client.request is not None
        with connect(upstream + client.request.path, max_size=None) as firefox:
            back = threading.Thread(target=relay, args=(firefox, client, False), daemon=True)
            back.start()
            relay(client, firefox, True)
            back.join()

    proc = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    upstream = ""
    for line in proc.stderr:
        found = re.search(r"WebDriver BiDi listening on (ws://\S+)", line)
        if not found:
            sys.stderr.write(line)
            continue
        upstream = found.group(1)
        server = serve(handler, "127.0.0.1", 0, max_size=None)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        port = server.socket.getsockname()[1]
        sys.stderr.write(f"WebDriver BiDi listening on ws://127.0.0.1:{port}\n")
        sys.stderr.flush()
        break
    rest = proc.stderr
    threading.Thread(target=lambda: sys.stderr.writelines(rest), daemon=True).start()
    return proc.wait()
