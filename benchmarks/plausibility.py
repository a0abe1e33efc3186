"""How often the plausibility screen refuses real and synthetic keypoints (docs/validity.md).

Run: ``python benchmarks/plausibility.py [--csv ../shared/data/aflw2000-dev-keypoints.csv]
[--synthetic 200000]``

* Real detector output: the BlazeFace, BlazePose and MoveNet points of the development CSV
  (read, never copied; skipped when absent), raw and after confidence thresholds 0.3 / 0.5.
  Prints people refused by :func:`hhpnet.keypoints.plausible`, points dropped by
  :func:`~hhpnet.keypoints.drop_implausible_points` with the 450×450 frame, and the largest
  far-group ratio (gap / spread of rule 3; the screen refuses above FAR_POINT_FACTOR).
* Synthetic people of ``hhpnet.training.synth.generate(n, 1)``: refusals per detector profile, their
  |yaw|, and how many carry one of the generator's confident outliers (found by generating the
  same seed with ``outlier=0``).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

from hhpnet.keypoints import (
    _SPLIT_TIE,
    _SPLIT_USED,
    FAR_POINT_FACTOR,
    _pair_index,
    blazeface_confidence,
    drop_implausible_points,
    plausible,
    validate_keypoints,
)

DEFAULT_CSV = Path(__file__).resolve().parents[2] / "shared" / "data" / "aflw2000-dev-keypoints.csv"
NAMES = ("nose", "left_eye", "right_eye", "left_ear", "right_ear")


def far_ratio(kp: np.ndarray) -> np.ndarray:
    """Per person, the largest gap / spread over the splits of rule 3 (NaN: fewer than 4
    points). The screen refuses a person when this exceeds FAR_POINT_FACTOR."""
    from hhpnet import keypoints as k

    use = kp[..., 2] > 0
    xy = kp[..., :2].astype(np.float64)
    d = np.linalg.norm(xy[:, k._PAIR_I] - xy[:, k._PAIR_J], axis=-1)
    code = use @ (1 << np.arange(5))
    zero = np.concatenate([d, np.zeros((len(d), 1))], axis=1)
    inf = np.concatenate([d, np.full((len(d), 1), np.inf)], axis=1)
    sa = zero[:, _pair_index(k._SPLIT_A, None)].max(axis=2)
    sb = zero[:, _pair_index(k._SPLIT_B, None)].max(axis=2)
    gap = inf[:, _pair_index(k._SPLIT_A, k._SPLIT_B)].min(axis=2)
    s = np.where(_SPLIT_TIE, np.maximum(sa, sb), sa)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(_SPLIT_USED[None] == code[:, None], gap / s, np.nan)
    return np.nanmax(np.where(np.isnan(r), -np.inf, r), axis=1, initial=-np.inf)


def real(path: Path) -> None:
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    sets: dict[str, np.ndarray] = {}
    bf = [r for r in rows if r["bf_score"]]
    xy = np.array([[[float(r[f"bf_{n}_x"]), float(r[f"bf_{n}_y"])] for n in NAMES] for r in bf])
    c = blazeface_confidence(xy, np.array([float(r["bf_score"]) for r in bf]))
    sets["BlazeFace"] = np.concatenate([xy, c[..., None]], axis=-1)
    for key, conf, label in (("bp", "vis", "BlazePose"), ("mn", "score", "MoveNet")):
        sel = [r for r in rows if r[f"{key}_score"]]
        sets[label] = np.array(
            [[[float(r[f"{key}_{n}_{f}"]) for f in ("x", "y", conf)] for n in NAMES] for r in sel]
        )
    print(f"Real detector keypoints ({path.name}, {len(rows)} photos)")
    print("| detector | threshold | people | refused | points dropped (450×450 frame) |")
    print("| --- | --- | --- | --- | --- |")
    worst = 0.0
    for name, kp in sets.items():
        for thr in (0.0, 0.3, 0.5):
            k = kp.astype(np.float32)
            k[k[..., 2] < thr] = 0.0
            v = validate_keypoints(k)
            refused = int((~plausible(v)).sum())
            dropped = int(drop_implausible_points(v, (450, 450))[1].sum())
            worst = max(worst, float(np.nan_to_num(far_ratio(v), neginf=0.0).max()))
            print(f"| {name} | {thr} | {len(v)} | {refused} | {dropped} |")
    limit = f"refused above {FAR_POINT_FACTOR:g}"
    print(f"largest far-group ratio on real keypoints: {worst:.2f} ({limit})")


def synthetic(n: int) -> None:
    from hhpnet.training.synth import DETECTOR_PROFILES, SynthConfig, generate

    batch = generate(n, 1)
    clean = generate(n, 1, SynthConfig(outlier=0.0))
    has_outlier = ~np.all(batch.keypoints == clean.keypoints, axis=(1, 2))
    v = validate_keypoints(batch.keypoints)
    refused = ~plausible(v)
    print(f"\nSynthetic people: hhpnet.training.synth.generate({n}, 1)")
    print("| profile | people | refused | with a generator outlier | min |yaw| refused |")
    print("| --- | --- | --- | --- | --- |")
    for i, name in enumerate(DETECTOR_PROFILES):
        m = batch.detector == i
        r = refused & m
        yaw = np.abs(batch.angles[r, 0])
        low = f"{yaw.min():.1f}°" if len(yaw) else "—"
        print(
            f"| {name} | {m.sum()} | {r.sum()} | {(r & has_outlier).sum()} of "
            f"{(m & has_outlier).sum()} | {low} |"
        )
    ratio = far_ratio(v)
    print(
        f"refused: {refused.sum()} of {n} ({100 * refused.mean():.3f} %); points per refused "
        f"person: {np.bincount((v[refused][..., 2] > 0).sum(axis=1), minlength=6).tolist()}; "
        f"people with ratio > 10: {(ratio > 10).sum()}, > 50: {(ratio > 50).sum()}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    ap.add_argument("--synthetic", type=int, default=200_000)
    args = ap.parse_args()
    if args.csv.is_file():
        real(args.csv)
    else:
        print(f"{args.csv}: not found, real keypoints skipped")
    synthetic(args.synthetic)


if __name__ == "__main__":
    main()
