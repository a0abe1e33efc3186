"""The package's structure: runtime code never imports the training family nor the bench harness,
and the old flat import paths still reach the moved modules."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import numpy as np

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


def test_old_flat_paths_are_the_moved_modules():
    moved = {
        "hhpnet.synth": "hhpnet.training.synth",
        "hhpnet.nn": "hhpnet.training.nn",
        "hhpnet.train": "hhpnet.training.train",
        "hhpnet.datasets": "hhpnet.training.datasets",
        "hhpnet.evaluate": "hhpnet.training.evaluate",
        "hhpnet.baseline": "hhpnet.training.baseline",
        "hhpnet.generator_fit": "hhpnet.training.generator_fit",
        "hhpnet.sources": "hhpnet.video.sources",
        "hhpnet.tracking": "hhpnet.video.tracking",
        "hhpnet.smoothing": "hhpnet.video.smoothing",
        "hhpnet.timeline": "hhpnet.video.timeline",
        "hhpnet.sinks": "hhpnet.video.sinks",
        "hhpnet.interaction_draw": "hhpnet.draw.interaction",
    }
    for old, new in moved.items():
        assert importlib.import_module(old) is importlib.import_module(new), old
    import hhpnet.batch as batch

    assert batch.run_batch.__module__ == "hhpnet.batch.driver" and batch._timeline_totals
    from hhpnet import synth
    from hhpnet.synth import MEAN_HEAD_MM, generate

    assert synth.generate is generate
    assert np.array_equal(
        MEAN_HEAD_MM["coco"], importlib.import_module("hhpnet.headmodel").MEAN_HEAD_MM["coco"]
    )
