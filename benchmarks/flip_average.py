"""Does test-time flip averaging help on real keypoints? (issue 11, item 4)

Run from the repository root after ``benchmarks/cv_real.py run`` (it needs the fold models)::

    .venv/bin/python benchmarks/flip_average.py [--out runs/cv] [--name hhpnet-1.0]

For every fold k the model trained without fold k scores the held-out photos twice: as is, and
as the average of its reading of the keypoints and of their mirror image (left/right points
swapped, x negated; the mirrored pose is (−yaw, pitch, −roll), so the two readings are mapped
back and averaged, yaw on the circle). σ of the average: the mean of the two σ (the readings
are strongly correlated). Printed: the pooled held-out table for each detector, both ways.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from hhpnet.keypoints import flip_keypoints
from hhpnet.model import PoseOutput, load_model
from hhpnet.training.datasets import load_keypoints_csv
from hhpnet.training.evaluate import evaluate_keypoint_set


class FlipAveraged:
    """A model whose reading is the mean of its reading of the points and of their mirror."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.name = f"{getattr(model, 'name', 'model')} + flip"

    def predict(self, keypoints: Any) -> PoseOutput:
        kp = np.asarray(keypoints, np.float32).reshape(-1, 5, 3)
        a = self.model.predict(kp)
        b = self.model.predict(flip_keypoints(kp, 0.0))
        yaw = np.degrees(
            np.arctan2(
                np.sin(np.radians(a.yaw)) + np.sin(np.radians(-b.yaw)),
                np.cos(np.radians(a.yaw)) + np.cos(np.radians(-b.yaw)),
            )
        ).astype(np.float32)
        pitch = ((a.pitch + b.pitch) / 2).astype(np.float32)
        roll = ((a.roll - b.roll) / 2).astype(np.float32)
        sigma = ((a.sigma + b.sigma) / 2).astype(np.float32)
        return PoseOutput(yaw, pitch, roll, sigma, a.valid & b.valid)

    def __getattr__(self, item: str) -> Any:
        return getattr(self.model, item)


def pooled(results: list[Any]) -> tuple[float, list[float], list[float]]:
    err = np.concatenate([r.error for r in results])
    sig = np.concatenate([r.sigma for r in results])
    ok = np.isfinite(err).all(axis=1)
    mae = err[ok].mean(axis=0)
    cover = (err[ok] <= sig[ok]).mean(axis=0) * 100
    return float(mae.mean()), [float(v) for v in mae], [float(v) for v in cover]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--csv", default="../shared/data/aflw2000-dev-keypoints.csv")
    ap.add_argument("--out", default="runs/cv")
    ap.add_argument("--name", default="hhpnet-1.0")
    ap.add_argument("--num-folds", type=int, default=5)
    args = ap.parse_args()
    print("| source | readings | n | **mean** | yaw | pitch | roll | 1σ cover y / p / r |")
    print("|---|---|---|---|---|---|---|---|")
    for source in ("blazeface", "blazepose", "movenet"):
        kset = load_keypoints_csv(args.csv, source)
        plain, flipped = [], []
        for k in range(args.num_folds):
            path = Path(args.out) / f"fold{k}" / f"{args.name}.safetensors"
            model = load_model(path)
            for wrap, bucket in ((model, plain), (FlipAveraged(model), flipped)):
                bucket.append(
                    evaluate_keypoint_set(wrap, kset, folds=[k], k=args.num_folds, baseline=False)
                )
        for label, res in (("as is", plain), ("flip-averaged", flipped)):
            mean, mae, cover = pooled(res)
            n = sum(int(np.isfinite(r.error).all(axis=1).sum()) for r in res)
            print(
                f"| {source} | {label} | {n} | **{mean:.2f}** | "
                + " | ".join(f"{v:.2f}" for v in mae)
                + " | "
                + " / ".join(f"{v:.0f} %" for v in cover)
                + " |"
            )


if __name__ == "__main__":
    main()
