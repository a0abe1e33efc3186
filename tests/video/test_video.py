"""process_video end to end on small synthetic videos encoded and decoded with OpenCV."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from hhpnet.errors import InputError
from hhpnet.pipeline import HeadPoseEstimator
from hhpnet.video import open_source, process_video
from hhpnet.video.sinks import read_csv_rows
from tests.helpers.video_fakes import (
    draw_people,
    facing_analyzer,
    walking_scene,
    write_video,
)


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("v") / "walk.mp4"
    return write_video(str(path), walking_scene(30))


def test_end_to_end_outputs(clip, tmp_path, estimator):
    out = {
        "csv": tmp_path / "p.csv",
        "parquet": tmp_path / "p.parquet",
        "jsonl": tmp_path / "p.jsonl",
        "save_video": tmp_path / "a.mp4",
        "timeline_csv": tmp_path / "tl.csv",
        "timeline_png": tmp_path / "tl.png",
    }
    s = process_video(clip, estimator(), analyzer=facing_analyzer, progress=False, **out)
    assert s.ok and s.frames == 30 and s.tracks == 2 and s.rows == 60
    rows = read_csv_rows(out["csv"])
    assert rows["frame"].tolist() == sorted(rows["frame"].tolist())
    np.testing.assert_allclose(rows["time_s"], rows["frame"] / 30.0, atol=1e-3)
    # A walks right at y = 80, B walks left at y = 170: one id each, all frames
    for tid in (0, 1):
        sel = rows["track_id"] == tid
        x = rows["nose_x"][sel]
        assert sel.sum() == 30
        y = rows["nose_y"][sel].mean()
        assert np.all(np.diff(x) > 0) if y < 120 else np.all(np.diff(x) < 0)
    # smoothed angles present and close to raw ones (slow turn)
    assert np.isfinite(rows["yaw_smooth"]).all()
    assert np.abs(rows["yaw_smooth"] - rows["yaw"]).max() < 15
    pq = pytest.importorskip("pyarrow.parquet")
    table = pq.read_table(out["parquet"])
    np.testing.assert_allclose(table.column("yaw").to_numpy(), rows["yaw"], atol=1e-3)
    recs = [json.loads(ln) for ln in open(out["jsonl"])]
    assert len(recs) == 30 and {p["track_id"] for p in recs[0]["people"]} == {0, 1}
    assert "interaction" in recs[0]
    cap = cv2.VideoCapture(str(out["save_video"]))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 30
    cap.release()
    # A (left) turns towards B (right) in the second half: a one-way or mutual interval
    assert len(s.timeline.intervals) >= 1
    assert out["timeline_png"].stat().st_size > 0


def test_stride_start_end_max_frames(clip, estimator):
    seen = []
    process_video(
        clip,
        estimator(),
        interact=False,
        progress=False,
        stride=3,
        start=0.2,
        end=0.8,
        on_frame=lambda r: seen.append(r.index),
    )
    assert seen == [6, 9, 12, 15, 18, 21, 24]
    seen.clear()
    s = process_video(
        clip,
        estimator(),
        interact=False,
        progress=False,
        max_frames=4,
        on_frame=lambda r: seen.append(r.index),
    )
    assert seen == [0, 1, 2, 3] and s.frames == 4


def test_truncated_avi_is_processed_up_to_the_damage(tmp_path, estimator):
    path = write_video(str(tmp_path / "m.avi"), walking_scene(40), fourcc="MJPG")
    data = open(path, "rb").read()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: len(data) // 2])
    s = process_video(str(cut), estimator(), interact=False, progress=False, csv=tmp_path / "c.csv")
    assert not s.ok and s.error is not None and "truncated or corrupt" in s.error
    assert "\n" not in s.error
    assert 5 < s.frames < 40
    assert read_csv_rows(tmp_path / "c.csv")["frame"].max() == s.last_frame


def test_unreadable_sources_fail_at_once(tmp_path, estimator):
    path = write_video(str(tmp_path / "m.mp4"), walking_scene(10))
    data = open(path, "rb").read()
    (tmp_path / "cut.mp4").write_bytes(data[: len(data) // 2])  # moov atom lost
    with pytest.raises(InputError, match="cannot open"):
        process_video(str(tmp_path / "cut.mp4"), estimator(), interact=False, progress=False)
    (tmp_path / "empty.mp4").write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        open_source(str(tmp_path / "empty.mp4"))
    with pytest.raises(InputError):
        open_source(str(tmp_path / "missing.mp4"))
    with pytest.raises(InputError, match="resume"):
        process_video(path, estimator(), resume=True, progress=False)


def test_resume_after_interrupt_has_no_duplicate_or_lost_rows(clip, tmp_path, estimator):
    full = tmp_path / "full.csv"
    process_video(clip, estimator(), analyzer=facing_analyzer, progress=False, csv=full)
    ref = read_csv_rows(full)

    part = tmp_path / "part.csv"

    def stop_at(r):
        if r.index == 12:
            raise KeyboardInterrupt

    s1 = process_video(
        clip, estimator(), analyzer=facing_analyzer, progress=False, csv=part, on_frame=stop_at
    )
    assert s1.interrupted and s1.last_frame == 11
    with open(part, "a") as fh:  # and a hard kill cut the next write in half
        fh.write("12,0.4000,0,1")
    s2 = process_video(
        clip,
        estimator(),
        analyzer=facing_analyzer,
        progress=False,
        csv=part,
        resume=True,
        timeline_csv=tmp_path / "tl.csv",
    )
    # frame 12 was written before the interrupt: it is the restart point, redone once
    assert s2.ok and s2.resumed_from == 12 and s2.first_frame == 12
    got = read_csv_rows(part)
    assert got["frame"].tolist() == ref["frame"].tolist()
    assert got["track_id"].tolist() == ref["track_id"].tolist()
    np.testing.assert_allclose(got["yaw"], ref["yaw"], atol=1e-3)
    np.testing.assert_allclose(got["yaw_smooth"], ref["yaw_smooth"], atol=0.05)


def test_image_folder_and_generator_sources(tmp_path, estimator):
    frames = walking_scene(6)
    for k, f in enumerate(frames):
        cv2.imwrite(str(tmp_path / f"f{k:03d}.png"), f)
    (tmp_path / "f003.png").write_bytes(b"not an image")
    seen = []
    s = process_video(
        str(tmp_path),
        estimator(),
        interact=False,
        progress=False,
        fps=10,
        on_frame=lambda r: seen.append((r.index, round(r.time_s, 3))),
    )
    assert seen == [(0, 0.0), (1, 0.1), (2, 0.2), (4, 0.4), (5, 0.5)]
    assert any("f003.png" in w for w in s.warnings)
    gen = (draw_people(160, 120, [(40 + k, 60, 0.0)]) for k in range(5))
    s = process_video(gen, estimator(), interact=False, progress=False)
    assert s.frames == 5 and s.tracks == 1
    with pytest.raises(InputError):
        process_video(iter([np.zeros((4, 4))]), estimator(), interact=False, progress=False)


def test_headless_show_falls_back(clip, capsys, monkeypatch, estimator):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    s = process_video(clip, estimator(), interact=False, progress=False, show=True, max_frames=2)
    assert s.frames == 2
    assert "headless" in capsys.readouterr().err


def test_real_pipeline_on_moved_mirrored_rotated_face(tmp_path):
    """The bundled cameraman photo (turned ~35°) moved, then mirrored, then rotated in a video."""
    from pathlib import Path

    import hhpnet
    from hhpnet.io import read_image

    rgb = read_image(Path(hhpnet.__file__).parent / "examples" / "camera.jpg")
    est = HeadPoseEstimator(model="hhpnet-1.0")
    det = est(rgb, rgb=True)
    x1, y1, x2, y2 = det.boxes[int(np.argmax(det.scores))]
    cx, cy, half = (x1 + x2) / 2, (y1 + y2) / 2, 0.9 * max(x2 - x1, y2 - y1)
    crop = np.ascontiguousarray(
        rgb[int(cy - half) : int(cy + half), int(cx - half) : int(cx + half), ::-1]
    )
    crop = cv2.resize(crop, (200, 200))
    frames = []
    for k in range(45):
        img = np.full((480, 640, 3), 100, np.uint8)
        face = crop if k < 15 else crop[:, ::-1]
        if k >= 30:  # clockwise in-plane rotation by 20° → roll + 20°
            m = cv2.getRotationMatrix2D((100, 100), -20, 1.0)
            face = cv2.warpAffine(face, m, (200, 200), borderValue=(100, 100, 100))
        x = 150 + 3 * k
        img[140:340, x : x + 200] = face
        frames.append(img)
    path = write_video(str(tmp_path / "cam.mp4"), frames)
    s = process_video(path, est, interact=False, progress=False, csv=tmp_path / "c.csv")
    rows = read_csv_rows(tmp_path / "c.csv")
    assert s.ok and len(rows["frame"]) == 45 and set(rows["track_id"].tolist()) == {0}
    yaw, roll = rows["yaw"], rows["roll"]
    first, mirrored, rotated = yaw[5:15].mean(), yaw[20:30].mean(), roll[35:45].mean()
    assert abs(first) > 15 and np.sign(first) == -np.sign(mirrored)
    assert abs(first + mirrored) < 0.5 * abs(first)
    assert abs(rotated - roll[20:30].mean() - 20) < 10
    # smoothing follows within the segments and is steadier than the raw angles
    assert np.std(np.diff(rows["yaw_smooth"][5:15])) <= np.std(np.diff(yaw[5:15])) + 1e-6


def test_resume_rebuilds_a_parquet_left_without_footer(clip, tmp_path, estimator):
    pq = pytest.importorskip("pyarrow.parquet")
    csv_p, pq_p = tmp_path / "p.csv", tmp_path / "p.parquet"
    process_video(clip, estimator(), interact=False, progress=False, csv=csv_p, max_frames=10)
    pq_p.write_bytes(b"PAR1 half-written")  # as after a hard kill
    s = process_video(
        clip, estimator(), interact=False, progress=False, csv=csv_p, parquet=pq_p, resume=True
    )
    assert s.ok and s.resumed_from == 9
    frames = pq.read_table(pq_p).column("frame").to_pylist()
    assert frames == read_csv_rows(csv_p)["frame"].tolist() and len(frames) == 60


def test_settings_object_equals_the_keywords(clip, tmp_path, estimator):
    from hhpnet.video import VideoSettings

    kw = {"stride": 2, "max_frames": 9, "start": 0.1, "flush_every": 3, "progress": False}
    a = process_video(clip, estimator(), analyzer=facing_analyzer, csv=tmp_path / "a.csv", **kw)
    settings = VideoSettings(csv=str(tmp_path / "b.csv"), **kw)
    b = process_video(clip, estimator(), analyzer=facing_analyzer, settings=settings)
    assert (a.frames, a.first_frame, a.last_frame, a.rows) == (
        b.frames,
        b.first_frame,
        b.last_frame,
        b.rows,
    )
    assert (tmp_path / "a.csv").read_text() == (tmp_path / "b.csv").read_text()
    assert a.timeline.to_dict() == b.timeline.to_dict()
    with pytest.raises(InputError, match="stride"):
        process_video(clip, estimator(), settings=VideoSettings(stride=0))


def test_every_keyword_of_process_video_that_names_a_setting_reaches_it():
    import dataclasses
    import inspect

    from hhpnet.video import VideoSettings

    params = inspect.signature(process_video).parameters
    fields = {f.name for f in dataclasses.fields(VideoSettings)}
    # the estimator's own options are the estimator's (given, or made by the commands)
    assert fields - set(params) == {"model", "detector", "kpt_thr", "smooth_accel"}
    values = {"stride": 3, "jsonl": "x.jsonl", "outputs": None, "on_frame": print, "name": "n"}
    s = VideoSettings.of_keywords(values)
    assert (s.stride, s.jsonl, s.outputs, s.name, s.max_frames) == (3, "x.jsonl", {}, "n", None)
