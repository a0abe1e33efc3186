"""Time the face-mesh reading per face: crop + face mesh (``FaceMesh``), and the mesh network
(``MeshPoseModel.predict``), with 1 and 2 TFLite threads, interleaved so all candidates share
the machine's load.

    .venv/bin/python benchmarks/bench_facemesh.py [--repeats 7] [--model PATH]

Faces: BlazeFace's faces in the bundled 640×480 example (2 people), all at once and one alone.
Prints ms per face (median of the timed blocks, interquartile range), the load average, and
the CPU time per face of the one-thread candidates (``time.thread_time``: what a quiet core
would take).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from hhpnet.bench.timing import pin_threads

pin_threads(1)  # numpy's BLAS: one thread (before numpy loads)

import numpy as np  # noqa: E402


def main() -> int:
    import hhpnet
    from hhpnet.bench.timing import measure_interleaved
    from hhpnet.detectors import create_detector
    from hhpnet.detectors.facemesh import FaceMesh
    from hhpnet.io import read_image
    from hhpnet.mesh_model import load_mesh_model

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--model", default="hhpnet-mesh-1.0")
    args = ap.parse_args()
    img = read_image(Path(hhpnet.__file__).parent / "examples" / "pair_640x480.jpg")
    faces = create_detector("blazeface", num_threads=1)(img)
    n = len(faces)
    meshes = {t: FaceMesh(num_threads=t) for t in (1, 2)}
    model = load_mesh_model(args.model)
    lm = meshes[1].from_detections(img, faces).landmarks
    one = faces[0]
    fns = {
        f"crop + mesh, {n} faces, 1 thread": lambda: meshes[1].from_detections(img, faces),
        f"crop + mesh, {n} faces, 2 threads": lambda: meshes[2].from_detections(img, faces),
        "crop + mesh, 1 face, 1 thread": lambda: meshes[1].from_detections(img, one),
        "crop + mesh, 1 face, 2 threads": lambda: meshes[2].from_detections(img, one),
        f"crop only, {n} faces": lambda: meshes[1].crops(img, _rois(faces)),
        f"mesh network, {n} faces": lambda: model.predict(lm),
        "mesh network, 1 face": lambda: model.predict(lm[:1]),
    }
    items = {k: (1 if "1 face" in k else n) for k in fns}
    res = measure_interleaved(fns, items=items, repeats=args.repeats)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; {n} faces")
    print("| stage | ms per face | IQR (ms per call) | CPU ms per face (1 thread) |")
    print("|---|---|---|---|")
    for name, t in res.items():
        cpu = _cpu_ms(fns[name]) / items[name] if "2 threads" not in name else float("nan")
        print(
            f"| {name} | {1e3 * t.per_item:.3f} | {1e3 * t.q1:.2f}–{1e3 * t.q3:.2f} | {cpu:.3f} |"
        )
    return 0


def _cpu_ms(fn: object, calls: int = 60) -> float:
    """Median CPU time of this thread per call (ms): a load-independent proxy for calls that
    run on this thread only (1 TFLite thread, numpy with 1 BLAS thread)."""
    import time

    times = []
    for _ in range(calls):
        t0 = time.thread_time()
        fn()  # type: ignore[operator]
        times.append(time.thread_time() - t0)
    return 1e3 * float(np.median(times))


def _rois(faces: object) -> np.ndarray:
    from hhpnet.detectors.facemesh import mesh_rois

    return mesh_rois(faces.boxes, faces.keypoints)  # type: ignore[attr-defined]


if __name__ == "__main__":
    raise SystemExit(main())
