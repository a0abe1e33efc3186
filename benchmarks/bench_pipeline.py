"""Pipeline speed and memory: detector + model per 640×480 image, import time, peak memory.

Run from the repository root (single process; the detector uses ``--threads`` threads)::

    .venv/bin/python benchmarks/bench_pipeline.py [--model hhpnet-1.0] [--repeats 50]

Scenes are built from the bundled examples: "1 person" = astronaut.jpg letterboxed into
640×480; "6 people" = a 3×2 grid of crops of the three example portraits (top row) and their
mirror images (bottom row).
Reported: median and 90th percentile wall time of ``HeadPoseEstimator.__call__`` on a BGR array
(detector + batched model; decoding excluded), the detector alone and the model alone; the
number of people found; import time of ``hhpnet`` (fresh interpreter, best of 5); peak Python
heap during the calls (tracemalloc) and the process's peak resident set size.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import cv2
import numpy as np

from hhpnet.commands.demo import EXAMPLES_DIR
from hhpnet.pipeline import HeadPoseEstimator


def _read(name: str) -> np.ndarray:
    return cv2.imread(str(EXAMPLES_DIR / name))  # BGR


def one_person() -> np.ndarray:
    img = cv2.resize(_read("astronaut.jpg"), (480, 480), interpolation=cv2.INTER_AREA)
    canvas = np.full((480, 640, 3), 90, np.uint8)
    canvas[:, 80:560] = img
    return canvas


def six_people() -> np.ndarray:
    cells = []
    # head-and-shoulders crops (x0, y0, x1, y1) with the 213:240 aspect of a grid cell
    crops = {
        "astronaut.jpg": (90, 20, 402, 372),
        "grace_hopper.jpg": (60, 60, 460, 511),
        "camera.jpg": (120, 60, 340, 308),
    }
    for name, (x0, y0, x1, y1) in crops.items():
        cell = cv2.resize(_read(name)[y0:y1, x0:x1], (213, 240), interpolation=cv2.INTER_AREA)
        cells += [cell, cell[:, ::-1]]
    grid = np.vstack([np.hstack(cells[0:6:2]), np.hstack(cells[1:6:2])])
    out = np.full((480, 640, 3), 90, np.uint8)
    out[:, : grid.shape[1]] = grid
    return out


def _timeit(fn, repeats: int) -> tuple[float, float]:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    ms = np.array(times) * 1000
    return float(np.median(ms)), float(np.percentile(ms, 90))


def import_time() -> float:
    code = "import time; t = time.perf_counter(); import hhpnet; print(time.perf_counter() - t)"
    best = min(
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(5)
    )
    return best * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="hhpnet-1.0")
    ap.add_argument("--detector", default="blazeface")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=50)
    ap.add_argument("--tile", action="store_true", help="BlazeFace tiling (small faces)")
    ap.add_argument("--save", help="also write the two scenes, annotated, to this folder")
    args = ap.parse_args()

    options = {"tile": True} if args.tile else {}
    est = HeadPoseEstimator(
        model=args.model, detector=args.detector, num_threads=args.threads, **options
    )
    results: dict[str, object] = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "model": args.model,
        "detector": args.detector,
        "threads": args.threads,
        "tile": args.tile,
        "import_hhpnet_ms": round(import_time(), 1),
    }
    tracemalloc.start()
    for label, scene in (("1_person", one_person()), ("6_people", six_people())):
        rgb = np.ascontiguousarray(scene[..., ::-1])
        poses = est(scene)
        kp = poses.keypoints
        total = _timeit(lambda s=scene: est(s), args.repeats)
        det = _timeit(lambda r=rgb: est.detector(r), args.repeats)
        mdl = _timeit(lambda k=kp: est.model.predict(k), args.repeats)
        results[label] = {
            "people_found": len(poses),
            "total_ms_median": round(total[0], 2),
            "total_ms_p90": round(total[1], 2),
            "detector_ms_median": round(det[0], 2),
            "model_ms_median": round(mdl[0], 3),
        }
        if args.save:
            from hhpnet.draw import annotate

            Path(args.save).mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(Path(args.save) / f"bench_{label}.png"), annotate(scene, poses))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    results["tracemalloc_peak_mb"] = round(peak / 2**20, 1)
    results["max_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
