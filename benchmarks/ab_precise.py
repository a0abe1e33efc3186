"""Cost of the default and of ``precise=True`` per 640×480 image, against the estimator of a
git revision (issue 20: default ≤ +15 %, precise ≤ 2.5× the default).

Run from the repository root::

    python benchmarks/ab_precise.py [--rev main] [--repeats 21] [--threads 2]

Imports ``src/hhpnet/pipeline.py`` of ``--rev`` next to the installed one (same model and
detector objects, so only the estimator's own work differs) and times, interleaved in one
process (rounds of ≥ 0.3 s blocks, :func:`hhpnet.bench.measure_interleaved`): the revision's
default, today's default and today's ``precise=True``, each on the same images — the bundled
``pair_640x480.jpg`` and rendered 640×480 scenes of 1 and 3 people
(:func:`hhpnet.samples.make_scene`; ``--pair-only``: the pair photo alone), and today's
default without the face mesh (``mesh=False``). Printed: median ms per image with the
interquartile range and the median of the per-round ratios to the revision's default (ratios
are what is meaningful on a shared machine; note the load with ``uptime``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rev", default="main")
    ap.add_argument("--repeats", type=int, default=21)
    ap.add_argument("--threads", type=int, default=2, help="detector interpreter threads")
    ap.add_argument(
        "--pair-only", action="store_true", help="only the bundled pair photo (2 faces)"
    )
    args = ap.parse_args()

    import hhpnet
    from hhpnet.bench import measure_interleaved
    from hhpnet.bench.revision import module_at_revision
    from hhpnet.detectors import create_detector
    from hhpnet.io import read_image
    from hhpnet.samples import make_scene

    old = module_at_revision(ROOT, args.rev, "src/hhpnet/pipeline.py", "hhpnet._pipeline_before")
    model = hhpnet.load_model("hhpnet-1.0")
    detector = create_detector("auto", num_threads=args.threads)
    before = old.HeadPoseEstimator(model=model, detector=detector)
    now = hhpnet.HeadPoseEstimator(model=model, detector=detector)
    no_mesh = hhpnet.HeadPoseEstimator(model=model, detector=detector, mesh=False)
    images = [read_image(ROOT / "src" / "hhpnet" / "examples" / "pair_640x480.jpg", rgb=True)]
    for n in () if args.pair_only else (1, 3):
        images.append(np.ascontiguousarray(make_scene(n)[..., ::-1]))  # BGR → RGB
    for img in images:
        assert img.shape[:2] == (480, 640), img.shape

    def run(fn: Any) -> Any:
        return lambda: [fn(img) for img in images]

    fns = {
        f"default @ {args.rev}": run(lambda im: before(im, rgb=True)),
        "default now": run(lambda im: now(im, rgb=True)),
        "default, no mesh": run(lambda im: no_mesh(im, rgb=True)),
        "precise now": run(lambda im: now(im, rgb=True, precise=True)),
    }
    res = measure_interleaved(fns, repeats=args.repeats, min_time=0.3)
    first = next(iter(res.values())).seconds
    for name, tm in res.items():
        s = sorted(tm.seconds)
        ratio = statistics.median(b / a for a, b in zip(first, tm.seconds, strict=True))
        per = 1e3 / len(images)
        print(
            f"{name:>18}: {statistics.median(s) * per:7.2f} ms/image "
            f"[{s[len(s) // 4] * per:.2f}–{s[3 * len(s) // 4] * per:.2f}]  ×{ratio:.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
