"""`hhpnet interact`: JSON (predict record + interaction block), pair CSV, pictures, bad input.

Real photos go through the real detector and a small random-weight HHP-Net file (the command is
tested, not the accuracy); known answers come from keypoints and a geometric stand-in model.
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
from hhpnet.commands.interact import PAIR_COLUMNS, parse_params, run_interact
from hhpnet.errors import InputError
from hhpnet.interaction import analyze
from hhpnet.pipeline import Poses
from tests.helpers.fakes import GeometricModel, random_model_file
from tests.helpers.video_fakes import write_video

PREDICT_KEYS = {"source", "width", "height", "people"}
INTERACTION_KEYS = {"matrix", "attention", "pairs", "mutual", "groups", "targets", "scene_score"}


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    return random_model_file(tmp_path_factory.mktemp("model") / "tiny.safetensors")


def test_interact_on_photos_writes_json_csv_pictures(tmp_path: Path, model_file: str) -> None:
    out = tmp_path / "out"
    res = CliRunner().invoke(
        app,
        [
            "interact",
            *example_images(),
            "--model",
            model_file,
            "--json",
            str(out / "i.jsonl"),
            "--csv",
            str(out / "i.csv"),
            "--save-dir",
            str(out / "vis"),
            "--no-progress",
        ],
    )
    assert res.exit_code == 0, res.output
    recs = [json.loads(line) for line in (out / "i.jsonl").read_text().splitlines()]
    assert len(recs) == len(example_images())
    for rec in recs:
        assert set(rec) == PREDICT_KEYS | {"interaction"}
        block = rec["interaction"]
        assert set(block) >= INTERACTION_KEYS and block["method"] == "hhpnet"
        n = len(rec["people"])
        assert np.asarray(block["matrix"]).shape == (n, n)
        # the block is the analysis of exactly the poses written in the record
        again = analyze(Poses.from_dict(rec))
        np.testing.assert_allclose(block["attention"], again.attention, atol=2e-3)
        assert block["targets"] == again.targets and block["groups"] == again.groups
    pair = next(r for r in recs if Path(r["source"]).name == "pair_640x480.jpg")
    assert len(pair["people"]) == 2
    with open(out / "i.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == PAIR_COLUMNS
    assert len(rows) == sum(len(r["people"]) * (len(r["people"]) - 1) for r in recs) == 2
    att = np.asarray(pair["interaction"]["attention"])
    assert {(int(r["i"]), int(r["j"])) for r in rows} == {(0, 1), (1, 0)}
    for r in rows:
        assert float(r["attention"]) == pytest.approx(att[int(r["i"]), int(r["j"])], abs=1e-3)
    names = sorted(f.name for f in (out / "vis").iterdir())
    assert names == sorted([Path(e).name for e in example_images()] + ["pair_640x480_matrix.png"])


def _two_facing_and_one_to_camera() -> np.ndarray:
    """COCO-17 keypoints: 0 (left) turned fully right, 1 (right) fully left, 2 frontal."""
    kp = np.zeros((3, 17, 3))
    # GeometricModel: yaw from the nose offset along the eye line (±90° at half the eye gap);
    # points: nose, left eye, right eye, left ear, right ear (offsets from the head centre)
    face = np.array([[0, 10], [10, 0], [-10, 0], [15, 5], [-15, 5]], float)
    for k, (cx, cy, nose_dx) in enumerate(((200, 290, 10), (600, 290, -10), (400, 110, 0))):
        kp[k, :5, :2] = face + np.array([cx, cy])
        kp[k, 0, 0] += nose_dx
        kp[k, :5, 2] = 0.9
    return kp


@pytest.mark.parametrize("method", ["hhpnet", "paper"])
def test_interact_known_scene_from_keypoints(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], method: str
) -> None:
    np.save(tmp_path / "k.npy", _two_facing_and_one_to_camera())
    counts = run_interact(
        [],
        method=method,
        model=GeometricModel(),
        keypoints=str(tmp_path / "k.npy"),
        progress=False,
    )
    assert counts == {"images": 1, "people": 3, "mutual": 1, "groups": 1, "failed": 0}
    rec = json.loads(capsys.readouterr().out.strip())
    assert [round(p["yaw"]) for p in rec["people"]] == [-90, 90, 0]
    block = rec["interaction"]
    assert block["method"] == method
    assert block["mutual"] == [[0, 1]] and block["groups"] == [[0, 1]]
    assert block["targets"] == [1, 0, None]
    assert block["pairs"][0]["i"] == 0 and block["pairs"][0]["j"] == 1


def test_cli_threshold_and_params_reach_the_analysis(tmp_path: Path, model_file: str) -> None:
    kp = _two_facing_and_one_to_camera()
    np.save(tmp_path / "k.npy", kp)
    res = CliRunner().invoke(
        app,
        [
            "interact",
            "--keypoints",
            str(tmp_path / "k.npy"),
            "--model",
            model_file,
            "--method",
            "paper",
            "--threshold",
            "0.8",
            "--param",
            "sigma_max_deg=20",
            "--param",
            "converge_range=0.1,2",
        ],
    )
    assert res.exit_code == 0, res.output
    block = json.loads(res.stdout.strip().splitlines()[0])["interaction"]
    assert block["params"]["threshold"] == 0.8
    assert block["params"]["sigma_max_deg"] == 20.0
    assert block["params"]["converge_range"] == [0.1, 2.0]


def test_bad_options_are_one_line_input_errors(tmp_path: Path, model_file: str) -> None:
    np.save(tmp_path / "k.npy", _two_facing_and_one_to_camera())
    base = ["interact", "--keypoints", str(tmp_path / "k.npy"), "--model", model_file]
    for extra, msg in (
        (["--method", "laeo"], "unknown interaction method"),
        (["--param", "cone=4"], "unknown parameter"),
        (["--param", "depth"], "KEY=VALUE"),
        (["--threshold", "2"], "threshold"),
    ):
        res = CliRunner().invoke(app, base + extra)
        assert isinstance(res.exception, InputError), extra
        assert msg in str(res.exception) and "\n" not in str(res.exception)
    res = CliRunner().invoke(app, ["interact", str(tmp_path / "nope.jpg")])
    assert res.exit_code == 1 and res.output.count("no such file") == 1


def test_parse_params_types() -> None:
    assert parse_params(["a=1.5", "b=none", "c=true", "d=size", "e=0.2,1"]) == {
        "a": 1.5,
        "b": None,
        "c": True,
        "d": "size",
        "e": (0.2, 1.0),
    }


def test_interact_hands_videos_to_the_video_pipeline(tmp_path: Path, model_file: str) -> None:
    import cv2

    frame = cv2.resize(cv2.imread(example_images()[-1]), (320, 240))
    video = write_video(str(tmp_path / "clip.avi"), [frame] * 3, fps=10.0, fourcc="MJPG")
    res = CliRunner().invoke(
        app,
        [
            "interact",
            str(video),
            "--model",
            model_file,
            "--json",
            str(tmp_path / "i.jsonl"),
            "--csv",
            str(tmp_path / "i.csv"),
            "--no-progress",
        ],
    )
    assert res.exit_code == 0, res.output
    lines = (tmp_path / "i.jsonl").read_text().splitlines()  # one source: the named files
    assert len(lines) == 3
    assert all("interaction" in json.loads(line) for line in lines)
    assert (tmp_path / "i.timeline.csv").exists()
