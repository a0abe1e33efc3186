"""``hhpnet serve`` as a real server on the loopback: malformed uploads, a full queue, and the
command itself (start, answer, Ctrl-C, clean-up)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from hhpnet.serve import ServeSettings
from hhpnet.serve.server import BackgroundServer
from tests.serve.media import PAIR, malformed_uploads, require_serve

require_serve()

import httpx  # noqa: E402 - after the skip: httpx is a [dev] dependency

JPEG = {"content-type": "image/jpeg"}


def test_malformed_uploads_each_get_a_4xx_quickly_and_the_server_keeps_serving() -> None:
    cases = malformed_uploads()
    assert len(cases) >= 25
    with BackgroundServer(ServeSettings(port=0, detector="blazeface", warm=False)) as srv:
        with httpx.Client(base_url=srv.url, timeout=10) as c:
            assert c.post("/v1/poses", content=PAIR.read_bytes(), headers=JPEG).status_code == 200
            for name, path, headers, body in cases:
                t = time.perf_counter()
                r = c.post(path, content=body, headers=headers)
                took = time.perf_counter() - t
                assert 400 <= r.status_code < 500, (name, r.status_code, r.text)
                assert set(r.json()) == {"error"}, name
                assert took < 2.0, (name, took)
            good = c.post("/v1/poses", content=PAIR.read_bytes(), headers=JPEG)
            assert good.status_code == 200 and len(good.json()["people"]) == 2
            assert c.get("/v1/health").json()["busy"] == 0


def test_a_full_queue_answers_503_and_the_rest_are_served() -> None:
    settings = ServeSettings(port=0, detector="auto", workers=1, queue=0, warm=True)
    results: list[int] = []
    body = PAIR.read_bytes()
    with BackgroundServer(settings) as srv:

        def client() -> None:
            with httpx.Client(base_url=srv.url, timeout=60) as c:
                for _ in range(3):
                    r = c.post("/v1/interaction", content=body, headers=JPEG)
                    results.append(r.status_code)
                    if r.status_code == 503:
                        assert r.headers["retry-after"] == "1"

        threads = [threading.Thread(target=client) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with httpx.Client(base_url=srv.url) as c:
            assert c.get("/v1/health").json()["busy"] == 0
            assert c.post("/v1/poses", content=body, headers=JPEG).status_code == 200
    assert set(results) <= {200, 503} and len(results) == 18
    assert results.count(200) >= 1 and results.count(503) >= 1


def test_the_serve_command_prints_its_url_serves_and_stops_cleanly(tmp_path: Path) -> None:
    env = {**os.environ, "HHPNET_TOKEN": "tok"}
    cmd = [sys.executable, "-m", "hhpnet.cli", "serve", "--port", "0", "--detector", "blazeface"]
    cmd += ["--data-dir", str(tmp_path)]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert line.startswith("hhpnet: serving http://127.0.0.1:"), line
        url = line.split()[2]
        r = httpx.get(url + "v1/version", headers={"Authorization": "Bearer tok"})
        assert r.status_code == 200 and r.json()["detector"] == "blazeface" and r.json()["auth"]
        assert httpx.get(url + "v1/version").status_code == 401  # HHPNET_TOKEN was taken
        assert len(list(tmp_path.iterdir())) == 1  # the run's own job folder
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--host", "0.0.0.0"], "--token"),
        (["--detector", "yolo"], "unknown detector"),
        (["--model", "nope"], "nope"),
        (["--max-upload-mb", "0"], "--max-upload-mb"),
    ],
)
def test_serve_usage_errors_are_one_line_and_exit_2(
    args: list[str], words: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    from tests.helpers.cli import run_cli

    monkeypatch.delenv("HHPNET_TOKEN", raising=False)
    assert run_cli(["serve", *args], monkeypatch) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("hhpnet: error:") and words in err[0]
