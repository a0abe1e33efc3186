"""People found and false people per detector on every permissively licensed picture we have.

Run from the repository root::

    .venv/bin/python benchmarks/detector_recall.py [--threads 2]

People pictures (expected count known): the 4 bundled examples (5 people), the 6-person example
grid of benchmarks/bench_pipeline.py, compositions of 2, 3, 4 and 6 head-and-shoulders crops
(tests/detectors/detector_images.py), the pair shrunk into a 1920×1080 frame (people 43 px
wide at 256 px), and the CC0 rendered figure from 6 sides (tests/detectors/data: front, 45°,
both profiles, 135°, back). Pictures without people: 17 scikit-image pictures and 5 noise /
blank images. "False" counts detections beyond the expected number on people pictures and all
detections on the others (an upper bound: a duplicate and a false person count alike).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "detectors"))
from detector_images import compose, example_grid  # noqa: E402

from hhpnet.commands.demo import EXAMPLES_DIR  # noqa: E402
from hhpnet.detectors import create_detector  # noqa: E402
from hhpnet.io import read_image  # noqa: E402

NEGATIVE = (
    "brick", "cat", "checkerboard", "chelsea", "clock", "coffee", "coins", "colorwheel", "grass",
    "gravel", "horse", "hubble_deep_field", "immunohistochemistry", "logo", "moon", "page",
    "rocket",
)  # fmt: skip


def people_pictures() -> list[tuple[str, np.ndarray, int]]:
    out = []
    for name, n in (("astronaut", 1), ("camera", 1), ("grace_hopper", 1), ("pair_640x480", 2)):
        out.append((name, read_image(EXAMPLES_DIR / f"{name}.jpg"), n))
    out.append(("example_grid", example_grid(), 6))
    out += [(f"compose{n}", compose(n), n) for n in (2, 3, 4, 6)]
    canvas = np.full((1080, 1920, 3), 110, np.uint8)
    canvas[700:940, 1400:1720] = cv2.resize(out[3][1], (320, 240), interpolation=cv2.INTER_AREA)
    out.append(("pair_small_1920", canvas, 2))
    data = ROOT / "tests" / "detectors" / "data"
    for path in sorted(data.glob("figure_yaw*.png")):
        out.append((path.stem, read_image(path), 1))
    out.append(("scene_four_people", read_image(data / "scene_four_people.png"), 4))
    return out


def negative_pictures() -> list[tuple[str, np.ndarray]]:
    import skimage.data

    out = []
    for name in NEGATIVE:
        im = np.asarray(getattr(skimage.data, name)())
        if im.dtype == bool:
            im = im.astype(np.uint8) * 255
        if im.ndim == 2:
            im = np.stack([im] * 3, axis=-1)
        out.append((name, np.ascontiguousarray(im[..., :3].astype(np.uint8))))
    rng = np.random.default_rng(0)
    for i in range(3):
        out.append((f"noise{i}", rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)))
    out.append(("black", np.zeros((480, 640, 3), np.uint8)))
    out.append(("white", np.full((480, 640, 3), 255, np.uint8)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--detail", action="store_true", help="one line per picture")
    args = ap.parse_args()
    pos, neg = people_pictures(), negative_pictures()
    configs = [
        ("blazeface", {}),
        ("blazeface", {"tile": True}),
        ("blazepose", {}),
        ("movenet", {}),
        ("movenet", {"tile": True}),
        ("auto", {}),
        ("auto", {"tile": True}),
    ]
    print(
        f"{len(pos)} people pictures ({sum(n for *_, n in pos)} people), "
        f"{len(neg)} pictures without people\n"
    )
    print("| detector | people found | missed in | false people | median ms / picture |")
    print("|---|---|---|---|---|")
    for name, opts in configs:
        det = create_detector(name, num_threads=args.threads, **opts)
        found = false = 0
        missed: list[str] = []
        times = []
        for label, img, n in pos:
            t = time.perf_counter()
            k = len(det(img))
            times.append(time.perf_counter() - t)
            found += min(k, n)
            false += max(k - n, 0)
            if k < n:
                missed.append(f"{label} {k}/{n}")
            if args.detail:
                print(f"  {name} {opts} {label}: {k}/{n}")
        for label, img in neg:
            k = len(det(img))
            false += k
            if k and args.detail:
                print(f"  {name} {opts} {label}: {k} false")
        total = sum(n for *_, n in pos)
        tag = name + (" tile" if opts else "")
        print(
            f"| {tag} | {found}/{total} | {', '.join(missed) or '—'} | "
            f"{false} in {len(pos) + len(neg)} pictures | {np.median(times) * 1000:.0f} |"
        )


if __name__ == "__main__":
    main()
