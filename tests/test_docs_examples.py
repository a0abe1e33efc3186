"""The README's Python examples run, and every ``import`` line of README.md and docs/*.md
resolves (the documented import paths survive moves of the code)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
PAIR = ROOT / "src" / "hhpnet" / "examples" / "pair_640x480.jpg"


def _python_blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(), re.S)


def test_every_documented_import_line_resolves():
    lines = set()
    for md in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for block in _python_blocks(md):
            for line in block.splitlines():
                s = line.split("#")[0].strip()
                if re.match(r"(from hhpnet[\w.]* import [\w, ]+|import hhpnet[\w.]*)$", s):
                    lines.add(s)
    assert len(lines) >= 8
    for s in sorted(lines):
        exec(s, {})  # an ImportError names the broken documented path


@pytest.mark.parametrize("index", [0, 2])
def test_readme_examples_run(index, tmp_path, monkeypatch):
    blocks = _python_blocks(ROOT / "README.md")
    code = (
        blocks[index]
        .replace('"photo.jpg"', repr(str(PAIR)))
        .replace('"party.jpg"', repr(str(PAIR)))
    )
    code = code.replace('"out.jpg"', repr(str(tmp_path / "out.jpg")))
    if index == 2:  # the interaction example uses the estimator of the first one
        code = "from hhpnet import HeadPoseEstimator\nest = HeadPoseEstimator()\n" + code
    monkeypatch.chdir(tmp_path)
    env: dict[str, object] = {}
    exec(compile(code, f"README.md python block {index}", "exec"), env)
    # the photo: the cameraman on the left, turned to the image right (towards Grace Hopper),
    # Grace on the right facing the camera (measured: yaw −49° and −1°)
    if index == 0:
        poses = env["poses"]
        assert len(poses) == 2 and poses.valid.all()
        left, right = np.argsort(poses.centroid[:, 0])
        assert poses.yaw[left] < -30 and abs(poses.yaw[right]) < 12
        import cv2

        drawn = cv2.imread(str(tmp_path / "out.jpg"))
        assert drawn.shape == (480, 640, 3)
        assert np.abs(drawn.astype(int) - cv2.imread(str(PAIR)).astype(int)).max() > 100
    else:
        inter = env["inter"]
        assert inter.attention.shape == (2, 2)
        # he looks at her (measured 0.81); she looks into the camera, at nobody
        cam = int(np.argmax(inter.attention.max(axis=1)))
        assert inter.attention[cam, 1 - cam] > 0.6 and inter.attention[1 - cam, cam] < 0.05
        assert inter.targets[cam] == 1 - cam and inter.targets[1 - cam] is None
        assert inter.mutual == []
