"""Video jobs of ``hhpnet serve``: the life cycle, the files (the same as ``hhpnet video``
writes), cancel, clean-up after ``keep_hours``, the disk budget and a clean shutdown."""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.cli import run_cli
from tests.serve.conftest import wait_job
from tests.serve.media import require_serve

require_serve()

MP4 = {"content-type": "video/mp4"}


@pytest.fixture(scope="module")
def jobs_client() -> Any:
    from tests.serve.conftest import client_for

    with client_for(detector="blazeface") as c:
        yield c


def test_job_runs_to_its_end_with_the_files_of_hhpnet_video(
    jobs_client: Any, clip: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    c = jobs_client
    r = c.post("/v1/videos?name=pair_clip.mp4", content=clip.read_bytes(), headers=MP4)
    assert r.status_code == 202
    job = r.json()
    assert job["state"] in ("queued", "running") and job["total_frames"] == 12
    done = wait_job(c, job["id"])
    assert done["state"] == "done", done
    assert done["frames"] == 12 and done["progress"] == 1.0 and done["error"] is None
    assert set(done["files"]) >= {"poses.csv", "poses.jsonl", "timeline.csv", "timeline.png"}
    assert "annotated.mp4" not in done["files"]  # only when asked for
    # the same rows as the command line's video pipeline on the same file
    out = tmp_path / "cli.csv"
    args = ["video", str(clip), "--detector", "blazeface", "--csv", str(out), "--no-show"]
    assert run_cli(args, monkeypatch) == 0
    served = c.get(done["files"]["poses.csv"])
    assert served.status_code == 200
    assert served.headers["content-disposition"] == 'attachment; filename="pair_clip_poses.csv"'
    assert served.text == out.read_text()
    rows = list(csv.DictReader(io.StringIO(served.text)))
    assert len(rows) == 24 and {r["track_id"] for r in rows} == {"0", "1"}
    lines = c.get(done["files"]["poses.jsonl"]).text.splitlines()
    first = json.loads(lines[0])
    assert len(lines) == 12 and first["source"] == "pair_clip.mp4"  # no server path
    assert c.get(done["files"]["timeline.png"]).content[:8] == b"\x89PNG\r\n\x1a\n"
    assert done["previews"] == list(range(12))
    frame = c.get(f"/v1/videos/{job['id']}/frame-3.jpg")
    assert frame.status_code == 200 and frame.content[:2] == b"\xff\xd8"
    for bad in ("frame-99.jpg", "input.mp4", "..%2F..%2Fsecret", "annotated.mp4"):
        assert c.get(f"/v1/videos/{job['id']}/{bad}").status_code == 404
    listed = c.get("/v1/videos").json()["jobs"]
    assert job["id"] in [j["id"] for j in listed]


def test_multipart_video_with_annotated_output(jobs_client: Any, clip: Path) -> None:
    c = jobs_client
    files = {"file": ("my clip.mp4", clip.read_bytes(), "video/mp4")}
    r = c.post("/v1/videos?annotated=true&stride=3&max_frames=3", files=files)
    assert r.status_code == 202 and r.json()["name"] == "my clip.mp4"
    done = wait_job(c, r.json()["id"])
    assert done["state"] == "done" and done["frames"] == 3
    video = c.get(done["files"]["annotated.mp4"])
    assert video.status_code == 200 and b"ftyp" in video.content[:32]


def test_delete_cancels_and_removes_the_files(jobs_client: Any, clip: Path) -> None:
    c = jobs_client
    jobs = c.app.state.jobs
    long = c.post("/v1/videos", content=clip.read_bytes(), headers=MP4).json()
    queued = c.post("/v1/videos", content=clip.read_bytes(), headers=MP4).json()
    folders = [jobs.root / long["id"], jobs.root / queued["id"]]
    assert all(f.is_dir() for f in folders)
    for j in (queued, long):
        r = c.delete(f"/v1/videos/{j['id']}")
        assert r.status_code == 200 and r.json() == {"id": j["id"], "deleted": True}
        assert c.get(f"/v1/videos/{j['id']}").status_code == 404
    deadline = time.monotonic() + 30
    while any(f.exists() for f in folders) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(f.exists() for f in folders)
    assert c.delete(f"/v1/videos/{long['id']}").status_code == 404


def test_finished_jobs_are_removed_after_keep_hours(jobs_client: Any, clip: Path) -> None:
    c = jobs_client
    jobs = c.app.state.jobs
    job = wait_job(c, c.post("/v1/videos", content=clip.read_bytes(), headers=MP4).json()["id"])
    folder = jobs.root / job["id"]
    assert folder.is_dir() and jobs.get(job["id"]).size > 0
    assert jobs.sweep(now=time.time() + 3600) == 0  # within keep_hours (24 h)
    assert jobs.sweep(now=time.time() + 25 * 3600) >= 1
    assert not folder.exists() and c.get(f"/v1/videos/{job['id']}").status_code == 404


def test_disk_budget_and_job_slots_are_bounded(make_client: Any, clip: Path) -> None:
    body = clip.read_bytes()
    with make_client(detector="blazeface", max_disk_mb=len(body) / 2 / 2**20) as c:
        r = c.post("/v1/videos", content=body, headers=MP4)
        assert r.status_code == 413 and "max-disk-mb" in r.json()["error"]
        assert not any(c.app.state.jobs.root.iterdir())
    with make_client(detector="blazeface", max_jobs=1, video_workers=1) as c:
        first = c.post("/v1/videos", content=body, headers=MP4)
        second = c.post("/v1/videos", content=body, headers=MP4)
        assert first.status_code == 202
        if second.status_code != 202:  # the first one still runs: no slot
            assert second.status_code == 503 and second.headers["retry-after"] == "30"


def test_shutdown_cancels_jobs_and_removes_their_files(make_client: Any, clip: Path) -> None:
    with make_client(detector="blazeface") as c:
        root = c.app.state.jobs.root
        r = c.post("/v1/videos", content=clip.read_bytes(), headers=MP4)
        assert r.status_code == 202 and (root / r.json()["id"]).is_dir()
    assert not root.exists()


def test_data_dir_gets_a_run_folder_that_shutdown_removes(make_client: Any, tmp_path: Path) -> None:
    keep = tmp_path / "mine.txt"
    keep.write_text("not the server's")
    with make_client(detector="blazeface", data_dir=str(tmp_path)) as c:
        root = c.app.state.jobs.root
        assert root.parent == tmp_path and root.is_dir()
    assert not root.exists() and keep.read_text() == "not the server's"
