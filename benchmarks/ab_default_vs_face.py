"""The default pipeline's time against BlazeFace alone, with and without the face mesh (issue 21).

``hhpnet bench -s pipeline`` compares the estimators as users build them, where the face-mesh
reading runs with either detector; issue 21's ratio is the default (``auto``) against the
face-only pipeline. This script times, interleaved in one process (2 detector threads, numpy
single-threaded), on the rendered 640×480 scenes of 1 and 6 people and the bundled pair photo:
``blazeface`` and ``auto`` without the mesh, and both with it (the shipped default).

    python benchmarks/ab_default_vs_face.py [--repeats 15]
"""

from __future__ import annotations

import argparse
import os

import cv2

from hhpnet.bench.timing import measure_interleaved
from hhpnet.commands.demo import EXAMPLES_DIR
from hhpnet.io import read_image
from hhpnet.model import load_model
from hhpnet.pipeline import HeadPoseEstimator
from hhpnet.samples import make_scene


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=15)
    args = ap.parse_args()
    cv2.setNumThreads(2)
    model = load_model("hhpnet-1.0")
    variants = {
        "blazeface, no mesh": HeadPoseEstimator(model, "blazeface", num_threads=2, mesh=False),
        "auto, no mesh": HeadPoseEstimator(model, "auto", num_threads=2, mesh=False),
        "blazeface + mesh": HeadPoseEstimator(model, "blazeface", num_threads=2),
        "auto + mesh (default)": HeadPoseEstimator(model, "auto", num_threads=2),
    }
    pair = read_image(EXAMPLES_DIR / "pair_640x480.jpg")  # RGB
    scenes = {"1 person": make_scene(1), "6 people": make_scene(6), "pair photo": pair}
    print(f"load average at start {os.getloadavg()}")
    for name, img in scenes.items():
        fns = {k: (lambda e=e, im=img: e(im, rgb=True)) for k, e in variants.items()}
        t = measure_interleaved(fns, repeats=args.repeats, min_time=0.1)
        base = t["blazeface, no mesh"].median
        print(f"\n{name} (640×480)")
        for k, v in t.items():
            print(f"  {k:24s} {v.median * 1e3:7.2f} ms  × {v.median / base:.2f}")
    print(f"\nload average at end {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
