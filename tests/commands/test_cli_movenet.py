"""The MoveNet and fused detectors through the API and every command (predict, interact, video).

The pose model is a small random-weight file: these tests check the plumbing with the real
detectors, not the angles.
"""

from __future__ import annotations

import csv
import json
import shutil
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hhpnet.cli import app, main
from hhpnet.commands.demo import EXAMPLES_DIR
from hhpnet.pipeline import HeadPoseEstimator
from tests.helpers.fakes import random_model_file

PAIR = str(EXAMPLES_DIR / "pair_640x480.jpg")


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    return random_model_file(tmp_path_factory.mktemp("model") / "tiny.safetensors")


@pytest.mark.parametrize(
    ("detector", "tag"), [("movenet", "movenet"), ("auto", "blazeface+movenet+facemesh")]
)
def test_api(detector: str, tag: str, model_file: str) -> None:
    est = HeadPoseEstimator(model=model_file, detector=detector, num_threads=1)
    poses = est(PAIR)
    assert len(poses) == 2 and poses.detector.tolist() == [tag, tag]
    assert poses.valid.all()


@pytest.mark.parametrize("detector", ["movenet", "auto"])
def test_predict_and_interact(detector: str, model_file: str, tmp_path: Path) -> None:
    res = CliRunner().invoke(
        app,
        [
            "predict",
            PAIR,
            "--detector",
            detector,
            "--model",
            model_file,
            "--json",
            str(tmp_path / "p.jsonl"),
            "--csv",
            str(tmp_path / "p.csv"),
            "--no-progress",
        ],
    )
    assert res.exit_code == 0, res.output
    rec = json.loads((tmp_path / "p.jsonl").read_text())
    assert len(rec["people"]) == 2
    assert {p["detector"] for p in rec["people"]} <= {
        "movenet",
        "blazeface+facemesh",
        "blazeface+movenet+facemesh",
    }
    with open(tmp_path / "p.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["detector"] for r in rows] == [p["detector"] for p in rec["people"]]
    res = CliRunner().invoke(
        app,
        [
            "interact",
            PAIR,
            "--detector",
            detector,
            "--model",
            model_file,
            "--json",
            str(tmp_path / "i.jsonl"),
            "--no-progress",
        ],
    )
    assert res.exit_code == 0, res.output
    rec = json.loads((tmp_path / "i.jsonl").read_text())
    assert len(rec["people"]) == 2 and "interaction" in rec


def test_video_with_auto(model_file: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    frames = tmp_path / "frames"
    frames.mkdir()
    for i in range(3):
        shutil.copy(PAIR, frames / f"f{i:03d}.jpg")
    out = tmp_path / "v.jsonl"
    args = ["hhpnet", "video", str(frames), "--detector", "auto", "--model", model_file]
    args += ["--json", str(out), "--no-progress", "--no-show"]
    monkeypatch.setattr(sys, "argv", args)
    try:
        main()
    except SystemExit as exc:
        assert not exc.code
    recs = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(recs) == 3 and all(len(r["people"]) == 2 for r in recs)
    assert all(p["detector"] == "blazeface+movenet+facemesh" for r in recs for p in r["people"])


def test_unknown_detector_is_a_one_line_error(
    model_file: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        sys, "argv", ["hhpnet", "predict", PAIR, "--detector", "movenet2", "--model", model_file]
    )
    with pytest.raises(SystemExit) as exc:
        main()
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "unknown detector 'movenet2'" in err and "auto" in err
