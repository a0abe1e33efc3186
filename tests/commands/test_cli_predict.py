"""Tests for `hhpnet predict` / `hhpnet demo`: JSON schema, CSV, images, bad inputs, keypoints.

The model here is a small random-weight HHP-Net file (the real numpy model code, untrained
weights): these tests check the command, not the accuracy.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from hhpnet.cli import app
from hhpnet.commands.demo import example_images
from hhpnet.errors import InputError
from hhpnet.pipeline import CSV_COLUMNS
from tests.helpers.fakes import random_model_file
from tests.helpers.video_fakes import write_video

PERSON_KEYS = {
    "box", "score", "detector", "keypoints", "yaw", "pitch", "roll", "sigma", "valid", "ambiguous"
}  # fmt: skip


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    return random_model_file(tmp_path_factory.mktemp("model") / "tiny.safetensors")


def _check_record(rec: dict, sized: bool = True) -> None:
    assert set(rec) == {"source", "width", "height", "people"}
    if sized:
        assert isinstance(rec["width"], int) and isinstance(rec["height"], int)
    else:  # keypoints without an image: size unknown
        assert rec["width"] is None and rec["height"] is None
    for p in rec["people"]:
        assert set(p) == PERSON_KEYS
        assert len(p["box"]) == 4
        no_points = all(k[2] == 0 for k in p["keypoints"])
        assert all((v is None) if no_points else isinstance(v, float) for v in p["box"])
        assert len(p["keypoints"]) == 5 and all(len(k) == 3 for k in p["keypoints"])
        assert set(p["sigma"]) == {"yaw", "pitch", "roll"}
        assert isinstance(p["valid"], bool)
        if p["valid"]:
            assert all(isinstance(p[a], float) for a in ("yaw", "pitch", "roll"))
            assert all(v > 0 for v in p["sigma"].values())


def test_predict_writes_json_csv_images_and_survives_bad_files(
    tmp_path: Path, model_file: str
) -> None:
    imgs = tmp_path / "imgs"
    imgs.mkdir()
    examples = example_images()
    for src in examples:
        (imgs / Path(src).name).write_bytes(Path(src).read_bytes())
    (imgs / "empty.jpg").write_bytes(b"")
    good = Path(examples[0]).read_bytes()
    (imgs / "truncated.jpg").write_bytes(good[: len(good) // 3])
    out = tmp_path / "out"
    res = CliRunner().invoke(
        app,
        [
            "predict",
            str(imgs),
            "--model",
            model_file,
            "--json",
            str(out / "p.jsonl"),
            "--csv",
            str(out / "p.csv"),
            "--save-dir",
            str(out / "vis"),
            "--no-progress",
        ],
    )
    assert res.exit_code == 1  # two bad images
    assert "empty.jpg: empty file" in res.output and "truncated.jpg" in res.output
    lines = (out / "p.jsonl").read_text().splitlines()
    recs = [json.loads(line) for line in lines]
    assert [Path(r["source"]).name for r in recs] == sorted(Path(e).name for e in examples)
    for r in recs:
        _check_record(r)
    by_name = {Path(r["source"]).name: r for r in recs}
    assert len(by_name["pair_640x480.jpg"]["people"]) == 2
    assert (by_name["astronaut.jpg"]["width"], by_name["astronaut.jpg"]["height"]) == (512, 512)
    # the astronaut's face is where it is (upper middle of the photo)
    (p,) = by_name["astronaut.jpg"]["people"]
    x1, y1, x2, y2 = p["box"]
    assert 150 < (x1 + x2) / 2 < 300 and 60 < (y1 + y2) / 2 < 180
    with open(out / "p.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == sum(len(r["people"]) for r in recs)
    assert sorted(f.name for f in (out / "vis").iterdir()) == sorted(Path(e).name for e in examples)


def test_predict_stdout_and_keypoints_file(tmp_path: Path, model_file: str) -> None:
    kp = np.zeros((2, 17, 3))
    kp[0, :5] = [[50, 60, 0.9], [60, 50, 0.9], [40, 50, 0.9], [75, 55, 0.8], [25, 55, 0.8]]
    np.save(tmp_path / "k.npy", kp)
    res = CliRunner().invoke(
        app, ["predict", "--keypoints", str(tmp_path / "k.npy"), "--model", model_file]
    )
    assert res.exit_code == 0, res.output
    rec = json.loads(res.stdout.strip().splitlines()[0])
    _check_record(rec, sized=False)
    assert [p["valid"] for p in rec["people"]] == [True, False]
    assert rec["people"][0]["keypoints"][0] == [50.0, 60.0, 0.9]
    res = CliRunner().invoke(
        app,
        [
            "predict",
            "--keypoints",
            str(tmp_path / "k.npy"),
            "--layout",
            "openpose25",
            "--model",
            model_file,
        ],
    )
    # CliRunner bypasses main(), which prints HhpnetError as one line and exits with 2
    assert isinstance(res.exception, InputError)
    assert "expected shape (N, 25" in str(res.exception)


def test_predict_missing_source_is_one_line_and_exit_1(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["predict", str(tmp_path / "nope.jpg")])
    assert res.exit_code == 1
    assert res.output.count("no such file or folder") == 1


def test_demo_writes_outputs(tmp_path: Path, model_file: str) -> None:
    out = tmp_path / "demo"
    res = CliRunner().invoke(app, ["demo", "--out", str(out), "--model", model_file])
    assert res.exit_code == 0, res.output
    assert str(out / "poses.jsonl") in res.output
    recs = [json.loads(x) for x in (out / "poses.jsonl").read_text().splitlines()]
    assert len(recs) == len(example_images()) >= 4
    assert sum(len(r["people"]) for r in recs) >= 5
    assert (out / "poses.csv").stat().st_size > 0
    inter = [
        json.loads(x) for x in (out / "interaction" / "interaction.jsonl").read_text().splitlines()
    ]
    assert len(inter) == len(recs)
    assert all("interaction" in r for r in inter)
    pair = next(r for r in inter if r["source"].endswith("pair_640x480.jpg"))
    assert pair["interaction"]["n"] == len(pair["people"]) == 2
    assert (out / "interaction" / "pair_640x480_matrix.png").is_file()


def test_main_prints_one_line_and_exits_2(tmp_path: Path) -> None:
    import subprocess
    import sys

    (tmp_path / "a.png").write_bytes(b"not read: the model name is wrong")
    proc = subprocess.run(
        [sys.executable, "-m", "hhpnet.cli", "predict", str(tmp_path / "a.png"), "--model", "x"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert proc.stderr.startswith("hhpnet: error: ") and "x" in proc.stderr


def test_predict_hands_videos_to_the_video_pipeline(tmp_path: Path, model_file: str) -> None:
    import cv2

    frame = cv2.resize(cv2.imread(example_images()[0]), (320, 320))
    video = write_video(str(tmp_path / "clip.avi"), [frame] * 3, fps=10.0, fourcc="MJPG")
    res = CliRunner().invoke(
        app,
        [
            "predict",
            str(video),
            "--model",
            model_file,
            "--json",
            str(tmp_path / "p.jsonl"),
            "--no-progress",
        ],
    )
    assert res.exit_code == 0, res.output
    lines = (tmp_path / "p.jsonl").read_text().splitlines()  # one source: the named file
    assert len(lines) == 3  # one record per frame, written by hhpnet.video


@pytest.mark.parametrize("command", ["predict", "interact"])
def test_truncated_video_keeps_rows_and_exits_1(
    tmp_path: Path, model_file: str, command: str
) -> None:
    import cv2

    frame = cv2.resize(cv2.imread(example_images()[0]), (320, 320))
    frames = [np.roll(frame, 3 * k, axis=1) for k in range(30)]
    video = write_video(str(tmp_path / "full.avi"), frames, fps=10.0, fourcc="MJPG")
    data = Path(video).read_bytes()
    (tmp_path / "cut.avi").write_bytes(data[: len(data) // 2])
    res = CliRunner().invoke(
        app,
        [
            command,
            str(tmp_path / "cut.avi"),
            "--model",
            model_file,
            "--json",
            str(tmp_path / "o.jsonl"),
            "--no-progress",
        ],
    )
    assert res.exit_code == 1, res.output
    assert "truncated or corrupt" in res.output
    lines = (tmp_path / "o.jsonl").read_text().splitlines()
    assert 0 < len(lines) < 30  # what was decoded before the damage is kept


def test_unopenable_video_is_one_clean_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    bad = tmp_path / "corrupt.mp4"
    bad.write_bytes(b"\x00" * 1000)
    proc = subprocess.run(
        [sys.executable, "-m", "hhpnet.cli", "predict", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert lines[0].startswith("hhpnet: error: ") and lines[0].count("corrupt.mp4") == 1
    assert len(lines) == 2 and "WARN" not in proc.stderr  # no OpenCV backend chatter
