"""The package's structure: runtime code never imports the training family nor the bench harness
(the old flat import paths: tests/test_compat.py; import cycles: tests/test_import_graph.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "src" / "hhpnet" / "examples"

# A prediction on a real photo with the default detector, the interaction analysis (depth from
# the fitted head) and drawing: everything a runtime user does, in a fresh interpreter.
_RUNTIME = """
import sys
import numpy as np
import hhpnet
from hhpnet.draw import annotate
from hhpnet.interaction import analyze
from hhpnet.io import read_image

est = hhpnet.HeadPoseEstimator()
img = read_image(sys.argv[1])
poses = est(img)
assert len(poses) >= 2 and poses.valid.all(), poses
inter = analyze(poses)
assert inter.attention.shape == (len(poses), len(poses))
out = annotate(img, poses)
assert out.shape == img.shape
hhpnet.load_model("hhpnet-1.0").predict(np.asarray(poses.keypoints))
print("\\n".join(sorted(sys.modules)))
"""


def test_runtime_imports_neither_training_nor_bench():
    proc = subprocess.run(
        [sys.executable, "-c", _RUNTIME, str(EXAMPLES / "pair_640x480.jpg")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    loaded = set(proc.stdout.split())
    assert "hhpnet.interaction" in loaded and "hhpnet.headmodel" in loaded  # the run happened
    forbidden = ("hhpnet.training", "hhpnet.bench", "hhpnet.samples", "torch")
    bad = sorted(m for m in loaded if m.startswith(forbidden))
    assert bad == []


def test_batch_package_exposes_the_driver():
    import hhpnet.batch as batch

    assert batch.run_batch.__module__ == "hhpnet.batch.driver" and batch._timeline_totals
