"""Interleaved before/after measurements of the issue-7 stage optimisations (docs/performance.md).

Run::

    python benchmarks/ab_stages.py model [--rev 271891d]   # single-face predict, old vs current
    python benchmarks/ab_stages.py resize                  # letterbox resize variants
    python benchmarks/ab_stages.py decode                  # PIL vs OpenCV JPEG decode

``model`` imports ``src/hhpnet/model.py`` of git revision ``--rev`` (before the single-face
change) next to the installed one and times ``predict`` on one face, A and B interleaved in one
process (41 blocks of ≥ 20 ms, 1 BLAS thread). ``resize`` compares the shipped ``INTER_AREA``
letterbox with an integer-factor ``INTER_AREA`` followed by ``INTER_LINEAR`` (and ``INTER_AREA``)
to 192 px: render time, and the faces, keypoints and poses found on the bundled photos and on
``make_scene`` images, against the drift caused by ±1 grey level of noise on the shipped
rendering. ``decode`` compares ``read_image`` (Pillow) with ``cv2.imdecode`` + ``cvtColor``.
Medians over interleaved blocks; ratios are the meaningful part on a shared machine.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
from collections.abc import Callable  # noqa: E402
from functools import partial  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from hhpnet.bench import make_scene, measure_interleaved  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _report(title: str, fns: dict[str, Callable[[], Any]], repeats: int = 41) -> None:
    res = measure_interleaved(fns, repeats=repeats, min_time=0.02)
    first = next(iter(res.values())).seconds
    cells = []
    for name, tm in res.items():
        s = sorted(tm.seconds)
        ratio = statistics.median(b / a for a, b in zip(first, tm.seconds, strict=True))
        cells.append(
            f"{name} {statistics.median(s) * 1e6:.1f} µs "
            f"[{s[len(s) // 4] * 1e6:.1f}–{s[3 * len(s) // 4] * 1e6:.1f}] ×{ratio:.3f}"
        )
    print(f"{title}: " + " | ".join(cells))


# --------------------------------------------------------------------------- model
def ab_model(rev: str) -> None:
    from hhpnet import model as new
    from hhpnet.bench.revision import module_at_revision
    from hhpnet.export import sample_inputs

    old = module_at_revision(ROOT, rev, "src/hhpnet/model.py", "hhpnet._model_before")
    for name in ("hhpnet-1.0", "hhpnet-0.6"):
        tensors, meta = new.read_weights(new.resolve_weights(name))
        before, after = old.HeadPoseModel(tensors, meta), new.HeadPoseModel(tensors, meta)
        kp = sample_inputs(2, seed=1)[1]  # one realistic face, (5, 3)
        a, b = before.predict(kp), after.predict(kp)
        np.testing.assert_allclose(b.angles, a.angles, rtol=1e-5, atol=1e-4)
        _report(
            f"{name} predict, 1 face",
            {"before": partial(before.predict, kp), "after": partial(after.predict, kp)},
        )


# --------------------------------------------------------------------------- resize
def _read_rgb(path: str) -> np.ndarray:
    import cv2

    bgr = cv2.imread(path)
    assert bgr is not None, path
    return np.ascontiguousarray(bgr[..., ::-1])


def _render_two_step(view: Any, image: np.ndarray, second: int) -> np.ndarray:
    """``SquareView.render`` with an integer-factor INTER_AREA, then ``second`` to the size."""
    import cv2

    from hhpnet.detectors.base import SquareView

    s = view.scale
    k = int(1.0 / s) if s < 1.0 else 1
    if k < 2:
        return SquareView.render(view, image)
    h, w = image.shape[:2]
    out = np.zeros((view.size, view.size, 3), np.uint8)
    ix0, iy0 = max(0, int(np.floor(view.x0))), max(0, int(np.floor(view.y0)))
    ix1, iy1 = min(w, int(np.ceil(view.x0 + view.side))), min(h, int(np.ceil(view.y0 + view.side)))
    if ix1 <= ix0 or iy1 <= iy0:
        return out
    ox0, oy0 = max(0, round((ix0 - view.x0) * s)), max(0, round((iy0 - view.y0) * s))
    ox1 = min(view.size, round((ix1 - view.x0) * s))
    oy1 = min(view.size, round((iy1 - view.y0) * s))
    if ox1 <= ox0 or oy1 <= oy0:
        return out
    mid = cv2.resize(
        image[iy0:iy1, ix0:ix1], None, fx=1.0 / k, fy=1.0 / k, interpolation=cv2.INTER_AREA
    )
    out[oy0:oy1, ox0:ox1] = cv2.resize(mid, (ox1 - ox0, oy1 - oy0), interpolation=second)
    return out


def ab_resize() -> None:
    import cv2

    from hhpnet.commands.demo import example_images
    from hhpnet.detectors import base, create_detector
    from hhpnet.model import load_model

    cv2.setNumThreads(2)
    shipped = base.SquareView.render
    rng = np.random.default_rng(0)

    def noisy(view: Any, image: np.ndarray) -> np.ndarray:
        out = shipped(view, image).astype(np.int16) + rng.integers(-1, 2, (view.size,) * 2 + (3,))
        return np.clip(out, 0, 255).astype(np.uint8)

    variants: dict[str, Callable[[Any, np.ndarray], np.ndarray]] = {
        "shipped INTER_AREA": shipped,
        "±1 grey noise": noisy,
        "area×k + LINEAR": lambda v, im: _render_two_step(v, im, cv2.INTER_LINEAR),
        "area×k + AREA": lambda v, im: _render_two_step(v, im, cv2.INTER_AREA),
    }
    images = {Path(p).name: _read_rgb(p) for p in example_images()}
    for n, (w, h) in [(1, (640, 480)), (6, (640, 480)), (12, (1280, 720)), (9, (3000, 2000))]:
        images[f"scene {n} people {w}×{h}"] = np.ascontiguousarray(make_scene(n, w, h)[..., ::-1])
    det = create_detector("blazeface", num_threads=2)
    model = load_model("hhpnet-1.0")
    for name, img in images.items():
        base.SquareView.render = shipped
        ref = det(img)
        ref_angles = model.predict(ref.keypoints).angles
        cells = [f"{name}: {len(ref)} faces"]
        for label, fn in list(variants.items())[1:]:
            base.SquareView.render = fn
            got = det(img)
            c0 = ref.boxes.reshape(-1, 2, 2).mean(1)
            c1 = got.boxes.reshape(-1, 2, 2).mean(1)
            if len(ref) == 0 or len(got) == 0:
                cells.append(f"{label}: {len(got)} faces")
                continue
            d = np.sqrt(((c1[None] - c0[:, None]) ** 2).sum(-1))
            idx, ok = d.argmin(1), d.min(1) < 20
            dk = np.abs(got.keypoints[idx, :, :2] - ref.keypoints[:, :, :2])[ok]
            da = np.abs(model.predict(got.keypoints).angles[idx] - ref_angles)[ok]
            da[:, 0] = np.minimum(da[:, 0], 360.0 - da[:, 0])
            cells.append(
                f"{label}: {len(got)} faces, keypoints max {dk.max():.1f} px "
                f"(median {np.median(dk):.2f}), angles max {np.nanmax(da):.1f}° "
                f"(median {np.nanmedian(da):.2f}°)"
            )
        print(" | ".join(cells))
    base.SquareView.render = shipped
    for name in ("scene 6 people 640×480", "grace_hopper.jpg", "scene 9 people 3000×2000"):
        img = images[name]
        view = base.SquareView.letterbox(img.shape[1], img.shape[0], 192)
        fns: dict[str, Callable[[], Any]] = {
            k: partial(f, view, img) for k, f in variants.items() if "noise" not in k
        }
        _report(f"letterbox render to 192 px, {name}", fns, repeats=21)


# --------------------------------------------------------------------------- decode
def ab_decode() -> None:
    import cv2

    from hhpnet.io import read_image

    _, buf = cv2.imencode(".jpg", make_scene(6), [cv2.IMWRITE_JPEG_QUALITY, 95])
    data = buf.tobytes()

    def opencv() -> Any:
        bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        assert bgr is not None
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    assert np.array_equal(read_image(data), opencv())
    _report(
        "640×480 JPEG bytes → RGB",
        {"read_image (Pillow)": lambda: read_image(data), "cv2.imdecode + cvtColor": opencv},
        repeats=31,
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("what", choices=("model", "resize", "decode"))
    p.add_argument("--rev", default="271891d", help="git revision of the 'before' model.py")
    args = p.parse_args()
    if args.what == "model":
        ab_model(args.rev)
    elif args.what == "resize":
        ab_resize()
    else:
        ab_decode()


if __name__ == "__main__":
    main()
