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
    # SIGINT at its default in the child even where this test runs with it ignored
    default_sigint = lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)  # noqa: E731
    proc = subprocess.Popen(
        cmd, stderr=subprocess.PIPE, text=True, env=env, preexec_fn=default_sigint
    )
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
        rest = proc.stderr.read()
        assert "hhpnet: stopped" in rest and "Traceback" not in rest, rest
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


def test_the_readme_curl_examples_work(tmp_path: Path, clip: Path) -> None:
    import json
    import re
    import shutil

    if shutil.which("curl") is None:
        pytest.skip("no curl on this machine")
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Web page and API", 1)[1].split("\n## ", 1)[0]
    block = re.findall(r"```bash\n(.*?)```", section, re.S)[1].replace("\\\n", " ")
    lines = [ln.split("  #")[0].strip() for ln in block.splitlines() if ln.startswith("curl")]
    assert len(lines) == 8
    shutil.copy(PAIR, tmp_path / "photo.jpg")
    shutil.copy(clip, tmp_path / "talk.mp4")
    body25 = [0.0] * 75
    for index, (x, y) in {0: (640, 360), 15: (620, 340), 16: (660, 340), 17: (595, 350)}.items():
        body25[3 * index : 3 * index + 3] = [x, y, 0.9]
    (tmp_path / "openpose.json").write_text(json.dumps({"people": [{"pose_keypoints_2d": body25}]}))
    settings = ServeSettings(port=0, detector="blazeface", warm=False)
    answers: list[str] = []
    job = ""
    with BackgroundServer(settings) as srv, httpx.Client(base_url=srv.url) as c:
        host = srv.url.split("/")[2]
        for line in lines:
            if "$ID" in line and c.get(f"/v1/videos/{job}").json()["state"] != "done":
                from tests.serve.conftest import wait_job

                assert wait_job(c, job)["state"] == "done"
            out = subprocess.run(
                ["bash", "-c", line.replace("localhost:8000", host)],
                cwd=tmp_path,
                env={**os.environ, "ID": job},
                capture_output=True,
                text=True,
                check=True,
            )
            answers.append(out.stdout)
            if "/v1/videos?" in line:
                job = json.loads(out.stdout)["id"]
    poses, inter, kp, video, state, _, deleted, service = answers
    assert len(json.loads(poses)["people"]) == 2
    assert json.loads(inter)["interaction"]["n"] == 2
    assert json.loads(kp)["width"] == 1280 and json.loads(kp)["people"][0]["valid"]
    assert json.loads(video)["name"] == "talk.mp4" and json.loads(state)["state"] == "done"
    assert (tmp_path / "poses.csv").read_text().startswith("frame,time_s,track_id")
    assert json.loads(deleted) == {"id": job, "deleted": True}
    assert '"status":"ok"' in service and '"hhpnet":' in service


def test_an_upload_cut_short_leaves_no_job_and_no_error(caplog: Any) -> None:
    import socket

    settings = ServeSettings(port=0, detector="blazeface", warm=False)
    with BackgroundServer(settings) as srv, caplog.at_level("ERROR", logger="hhpnet.serve"):
        host, port = srv.url.split("/")[2].split(":")
        for path, ctype in (("/v1/videos", "video/mp4"), ("/v1/poses", "image/jpeg")):
            with socket.create_connection((host, int(port))) as s:
                head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {ctype}\r\n"
                s.sendall(f"{head}Content-Length: 1000000\r\n\r\n".encode() + b"x" * 50_000)
                time.sleep(0.3)
        time.sleep(0.5)
        assert httpx.get(srv.url + "v1/health").json()["busy"] == 0
        assert list(srv.app.state.jobs.root.iterdir()) == []
    assert not caplog.records
