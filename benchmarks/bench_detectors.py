"""Time the embedded detectors (+ the HHP-Net pose network) on 640×480 images with 1 and 6 people.

The images are composed from permissive sample photos (scikit-image's astronaut, matplotlib's
grace_hopper): head-and-shoulders crops on a grey canvas, every second one mirrored. Reports the
median and 90th percentile wall time per image over ``--repeats`` calls (after warm-up), and how
many people were found. The pose network is ``load_model(--model)``; if no weight file is
installed yet, a randomly initialised network of the same size is timed instead (same cost).

    .venv/bin/python benchmarks/bench_detectors.py --repeats 50 --threads 2
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from typing import Any

import cv2
import numpy as np


def sample_crops() -> list[np.ndarray]:
    import skimage.data
    from matplotlib import cbook
    from PIL import Image

    astro = skimage.data.astronaut()[10:290, 100:350]
    with cbook.get_sample_data("grace_hopper.jpg") as f:
        grace = np.asarray(Image.open(f).convert("RGB"))[90:420, 110:410]
    return [astro, grace]


def compose(n: int, width: int = 640, height: int = 480) -> np.ndarray:
    """``n`` head crops in a grid (1 row up to 3 people, else 2 rows) on a grey canvas."""
    crops = sample_crops()
    canvas = np.full((height, width, 3), 120, np.uint8)
    rows = 1 if n <= 3 else 2
    cols = -(-n // rows)
    cw, ch = width // cols, height // rows
    for i in range(n):
        crop = crops[i % 2] if (i // 2) % 2 == 0 else crops[i % 2][:, ::-1]
        scale = min(cw / crop.shape[1], ch / crop.shape[0]) * 0.9
        c = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        r, q = divmod(i, cols)
        y0, x0 = r * ch + (ch - c.shape[0]) // 2, q * cw + (cw - c.shape[1]) // 2
        canvas[y0 : y0 + c.shape[0], x0 : x0 + c.shape[1]] = c
    return canvas


def pose_model(name: str) -> tuple[Any, str]:
    from hhpnet.model import HeadPoseModel, load_model, tensor_shapes

    try:
        return load_model(name), name
    except Exception as exc:  # no weights shipped yet: same-size random network
        rng = np.random.default_rng(0)
        tensors = {k: rng.normal(0, 0.1, s) for k, s in tensor_shapes(1.0).items()}
        return HeadPoseModel(tensors, {"alpha": "1.0"}), f"random α=1 ({type(exc).__name__})"


def time_calls(fn: Any, repeats: int) -> tuple[float, float]:
    for _ in range(3):
        fn()
    t = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        t.append(time.perf_counter() - t0)
    ms = np.array(t) * 1000
    return float(np.median(ms)), float(np.percentile(ms, 90))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=50)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--model", default="hhpnet-1.0")
    ap.add_argument("--json", default=None, help="also write the results to this JSON file")
    args = ap.parse_args()

    from hhpnet.detectors import create_detector

    model, model_name = pose_model(args.model)
    configs: list[tuple[str, dict[str, Any]]] = [
        ("blazeface", {}),
        ("blazeface", {"tile": True}),
        ("blazepose", {}),
    ]
    images = {n: compose(n) for n in (1, 6)}
    rows = []
    print(f"pose network: {model_name}; {args.threads} threads; median / p90 over {args.repeats}")
    print(f"{'detector':<22} {'people':>6} {'found':>5} {'detector ms':>16} {'+ pose ms':>16}")
    for name, opts in configs:
        det = create_detector(name, num_threads=args.threads, **opts)
        label = name + ("(tile)" if opts.get("tile") else "")
        for n, img in images.items():
            found = len(det(img))

            def full(det: Any = det, img: np.ndarray = img) -> None:
                d = det(img)
                if len(d):
                    model.predict(d.keypoints)

            d_med, d_p90 = time_calls(lambda det=det, img=img: det(img), args.repeats)
            f_med, f_p90 = time_calls(full, args.repeats)
            rows.append(
                {
                    "detector": label,
                    "people": n,
                    "found": found,
                    "detector_ms_median": round(d_med, 2),
                    "detector_ms_p90": round(d_p90, 2),
                    "total_ms_median": round(f_med, 2),
                    "total_ms_p90": round(f_p90, 2),
                }
            )
            print(
                f"{label:<22} {n:>6} {found:>5} {d_med:>8.2f} / {d_p90:>5.2f} "
                f"{f_med:>8.2f} / {f_p90:>5.2f}"
            )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak_mb:.0f} MB")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {
                    "threads": args.threads,
                    "repeats": args.repeats,
                    "model": model_name,
                    "rows": rows,
                    "peak_rss_mb": round(peak_mb),
                },
                f,
                indent=1,
            )


if __name__ == "__main__":
    main()
