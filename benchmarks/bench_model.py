"""Speed of the numpy HHP-Net forward pass on one core.

Run: ``OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/bench_model.py``
(the script also sets these before importing numpy). Prints a markdown table: per model and
batch size, the median over repeats of the time per ``predict`` call and the faces per second.
Inputs are realistic face keypoints (pixels + confidences), so validation, normalisation,
the forward pass and the output conversion are all timed.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from hhpnet.model import MODEL_NAMES, WEIGHTS_DIR, load_model  # noqa: E402

FACE = np.array(
    [[100, 120, 0.9], [115, 105, 0.9], [85, 105, 0.9], [135, 112, 0.8], [65, 112, 0.8]], np.float32
)


def faces(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    kp = np.repeat(FACE[None], n, axis=0)
    kp[..., :2] = kp[..., :2] * rng.uniform(0.3, 3.0, (n, 1, 1)) + rng.uniform(0, 1500, (n, 1, 2))
    kp[..., :2] += rng.normal(0, 2.0, (n, 5, 2))
    return kp


def time_call(fn, arg, min_time: float = 0.2, repeats: int = 9) -> float:
    """Median seconds per call over ``repeats`` runs of ≥ ``min_time`` seconds each."""
    fn(arg)
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn(arg)
        if time.perf_counter() - t0 >= min_time / 4:
            break
        n *= 2
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            fn(arg)
        runs.append((time.perf_counter() - t0) / n)
    return float(np.median(runs))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="*", default=list(MODEL_NAMES))
    ap.add_argument("--batches", nargs="*", type=int, default=[1, 16, 256, 4096])
    args = ap.parse_args()
    print("| model | batch | µs / call | µs / face | faces / s |")
    print("|---|---|---|---|---|")
    for name in args.models:
        if not (WEIGHTS_DIR / f"{name}.safetensors").exists() and not name.endswith(".safetensors"):
            print(f"| {name} | – | not trained | | |")
            continue
        model = load_model(name)
        for b in args.batches:
            kp = faces(b) if b > 1 else faces(1)[0]
            t = time_call(model.predict, kp)
            print(f"| {name} | {b} | {t * 1e6:.1f} | {t * 1e6 / b:.2f} | {b / t:,.0f} |")


if __name__ == "__main__":
    main()
