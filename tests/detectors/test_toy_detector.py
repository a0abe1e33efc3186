"""A detector added the documented way (docs/detectors.md, "Adding a detector"): this module is
the detector's file, the fixture's ``register`` call its registration line. The estimator, the
command line (``--detector toy`` and its help) and ``hhpnet serve``'s choices then know it."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from hhpnet.detectors import create_detector, registry
from hhpnet.detectors.base import Detections, Detector, check_image
from hhpnet.pipeline import HeadPoseEstimator
from tests.helpers.cli import run_cli
from tests.helpers.video_fakes import R, draw_people


class ToyDetector(Detector):
    """White discs with a dark nose dot (:func:`tests.helpers.video_fakes.draw_people`): eyes
    and ears at fixed places on the disc, the nose at the dot; ``score`` for every head."""

    name = "toy"

    def __init__(self, score: float = 0.9, num_threads: int = 1) -> None:
        self.score = float(score)

    def __call__(self, image: np.ndarray) -> Detections:
        grey = check_image(image).astype(np.int32).sum(axis=2)
        n, labels, stats, centres = cv2.connectedComponentsWithStats((grey > 450).astype(np.uint8))
        kps, boxes = [], []
        for i in range(1, n):
            x, y, w, h, area = stats[i]
            (cx, cy), (ys, xs) = centres[i], np.nonzero((labels == 0) & (grey < 300))
            near = (xs - cx) ** 2 + (ys - cy) ** 2 < (0.8 * R) ** 2
            if area < 300 or not near.any():
                continue
            nose = (xs[near].mean(), ys[near].mean(), 1.0)
            eyes = [(cx + 0.4 * R, cy - 0.2 * R, 1.0), (cx - 0.4 * R, cy - 0.2 * R, 1.0)]
            kps.append([nose, *eyes, (cx + R, cy, 1.0), (cx - R, cy, 1.0)])
            boxes.append([x, y, x + w, y + h])
        k = len(kps)
        return Detections(
            np.reshape(boxes, (k, 4)), np.reshape(kps, (k, 5, 3)), np.full(k, self.score), "toy"
        )


@pytest.fixture
def toy(monkeypatch: pytest.MonkeyPatch) -> registry.DetectorInfo:
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))  # undone after the test
    return registry.register(registry.DetectorInfo("toy", "white discs", f"{__name__}:ToyDetector"))


@pytest.fixture
def two_people(tmp_path: Path) -> Path:
    path = tmp_path / "two.png"
    cv2.imwrite(str(path), draw_people(320, 240, [(80, 120, 0.6), (240, 120, -0.6)]))
    return path


def test_a_registered_detector_is_created_by_name_and_runs_in_the_estimator(
    toy: registry.DetectorInfo, two_people: Path
) -> None:
    assert registry.names()[-1] == "toy" and toy.load() is ToyDetector
    det = create_detector("TOY", score=0.7)  # any case, with its own options
    assert isinstance(det, ToyDetector) and det.score == 0.7
    poses = HeadPoseEstimator(detector="toy")(str(two_people))
    assert len(poses) == 2 and list(poses.detector) == ["toy", "toy"]
    # the discs' nose dots are turned towards each other: the left person's nose to image right
    left, right = np.argsort(np.asarray(poses.boxes)[:, 0])
    assert poses.yaw[left] < -10 and poses.yaw[right] > 10 and poses.valid.all()
    with pytest.raises(ValueError, match="already registered"):
        registry.register(toy)


def test_the_command_line_runs_and_lists_a_registered_detector(
    toy: registry.DetectorInfo,
    two_people: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "p.jsonl"
    args = ["predict", str(two_people), "--detector", "toy", "--json", str(out), "--no-progress"]
    assert run_cli(args, monkeypatch) == 0
    people = json.loads(out.read_text())["people"]
    assert [p["detector"] for p in people] == ["toy", "toy"] and all(p["valid"] for p in people)
    capsys.readouterr()
    for command, listed in [
        ("predict", "toy (white discs), auto ("),
        ("video", "movenet, toy, auto."),
    ]:
        assert run_cli([command, "--help"], monkeypatch) == 0
        assert listed in " ".join(capsys.readouterr().out.split())
    assert run_cli(["predict", str(two_people), "--detector", "nope"], monkeypatch) == 2
    assert capsys.readouterr().err.strip().endswith("movenet, toy")
    monkeypatch.undo()  # the registration is gone with the test
    assert "toy" not in registry.names()
    assert run_cli(["predict", str(two_people), "--detector", "toy"], monkeypatch) == 2
