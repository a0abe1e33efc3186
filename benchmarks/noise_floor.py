"""MAE of models on the synthetic test set with and without detector noise (the geometric floor).

    python benchmarks/noise_floor.py [MODEL ...]      # default: hhpnet-1.0

"Noise-free" = the test set of ``hhpnet eval`` (same seed, cameras, detector profiles and
fitted detector shapes) with zero residual noise (the fitted detector scatter, face-to-face
shape variation and label noise), drop-outs, outliers, ear swaps and no label spread along the
gimbal ridge: what is left is the ambiguity of five points under perspective and head scale.
"""

from __future__ import annotations

import argparse

import numpy as np

import hhpnet
from hhpnet.training import synth
from hhpnet.training.evaluate import TEST_SAMPLES, TEST_SEED, angle_errors

NOISE_FREE = synth.SynthConfig(
    noise_scale=0.0,
    noise_px=0.0,
    small_head_noise=0.0,
    dropout=0.0,
    outlier=0.0,
    ear_swap=0.0,
    ridge_scale=0.0,
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="*", default=["hhpnet-1.0"])
    ap.add_argument("--samples", type=int, default=TEST_SAMPLES)
    args = ap.parse_args()
    print("| test set | model | \\|yaw\\| ≤ 90: yaw / pitch / roll | mean | all: mean |")
    print("|---|---|---|---|---|")
    for label, cfg in (("noise-free", NOISE_FREE), ("realistic (hhpnet eval)", None)):
        b = synth.generate(args.samples, TEST_SEED, cfg)
        for name in args.models:
            o = hhpnet.load_model(name).predict(b.keypoints)
            e = angle_errors(np.stack([o.yaw, o.pitch, o.roll], 1), b.angles)
            front = o.valid & (np.abs(b.angles[:, 0]) <= 90)
            per = " / ".join(f"{x:.2f}" for x in e[front].mean(0))
            print(f"| {label} | {name} | {per} | {e[front].mean():.2f} | {e[o.valid].mean():.2f} |")


if __name__ == "__main__":
    main()
