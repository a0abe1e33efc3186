"""Interleaved A/B timing of the whole pipeline with several detectors (fair on a shared machine).

Run from the repository root::

    .venv/bin/python benchmarks/ab_detectors.py [--detectors blazeface auto movenet]
        [--rounds 60] [--threads 2]

Scenes as benchmarks/bench_pipeline.py (640×480: one person; six people). Every round calls
each estimator once on each scene, in rotating order, so load changes on the machine hit all
of them alike. Reported: median and 90th-percentile ms per image (``HeadPoseEstimator`` on a
BGR array: detector + batched pose model), images per second from the median, people found.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from bench_pipeline import one_person, six_people

from hhpnet.pipeline import HeadPoseEstimator


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--detectors", nargs="+", default=["blazeface", "auto", "movenet"])
    ap.add_argument("--model", default="hhpnet-1.0")
    ap.add_argument("--rounds", type=int, default=60)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    scenes = {"1 person": one_person(), "6 people": six_people()}
    ests = {
        d: HeadPoseEstimator(model=args.model, detector=d, num_threads=args.threads)
        for d in args.detectors
    }
    found = {(d, s): len(e(img)) for d, e in ests.items() for s, img in scenes.items()}  # warm-up
    times: dict[tuple[str, str], list[float]] = {k: [] for k in found}
    names = list(ests)
    for r in range(args.rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for d in order:
            for s, img in scenes.items():
                t = time.perf_counter()
                ests[d](img)
                times[(d, s)].append(time.perf_counter() - t)
    print("| detector | scene | found | median ms | p90 ms | images/s |")
    print("|---|---|---|---|---|---|")
    for (d, s), t in times.items():
        ms = np.array(t) * 1000
        med = float(np.median(ms))
        print(
            f"| {d} | {s} | {found[(d, s)]} | {med:.1f} | {np.percentile(ms, 90):.1f} | "
            f"{1000 / med:.0f} |"
        )


if __name__ == "__main__":
    main()
