"""Real vs synthetic keypoint statistics conditioned on pose (the generator's fit, diagnosed).

    python benchmarks/generator_diagnostics.py [--csv FILE] [--old-synth OLD_SYNTH.py] [-o out.md]

For each detector source of the development keypoints file and for the synthetic generator
(keypoints generated at the very same labels and head sizes: the "synthetic twin"), prints
pose-conditioned statistics of the five points, each in units of the ear-to-ear distance of
near-frontal faces (or of the head size on profiles):

* eye spacing / ear spacing and the eye-line and nose heights above the ear line, for
  near-frontal faces (|yaw| < 15°, |roll| < 15°), and their slope against pitch (per 10°);
* where the far-side ear and eye sit on turned heads (|yaw| 60–90°): the far ear's offset from
  the near eye along the face, in head sizes (positive: towards the near side);
* the per-point scatter left after the fitted shape (RMS, head mm).

``--old-synth`` imports another generator module file (e.g. the first wave's
``git show 3207202:src/hhpnet/synth.py > /tmp/synth_v1.py``) and adds its statistics from a
large sample selected by the same pose bins (it cannot generate at given labels).
Only aggregate figures are printed.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CSV = ROOT.parent / "shared" / "data" / "aflw2000-dev-keypoints.csv"
PROFILE = {"blazeface": 0, "blazepose": 1, "movenet": 2}


def _rotate_roll(kp: np.ndarray, roll: np.ndarray) -> np.ndarray:
    """Undo the in-image roll about the points' centroid (so 'up' is the face's up)."""
    a = np.deg2rad(-roll)[:, None]
    c, s = np.cos(a), np.sin(a)
    xy = kp[..., :2] - kp[..., :2].mean(1, keepdims=True)
    return np.stack([c * xy[..., 0] - s * xy[..., 1], s * xy[..., 0] + c * xy[..., 1]], -1)


def stats(kp: np.ndarray, ang: np.ndarray) -> dict[str, float]:
    """Pose-conditioned statistics (module docstring) of (n, 5, 3) points with labels (n, 3)."""
    yaw, pitch, roll = ang.T
    xy = _rotate_roll(kp, roll)
    ear = np.linalg.norm(xy[:, 3] - xy[:, 4], axis=1)
    out: dict[str, float] = {}
    fr = (np.abs(yaw) < 15) & (np.abs(roll) < 15) & (ear > 0)
    eye_line = (xy[:, 1, 1] + xy[:, 2, 1]) / 2
    ear_line = (xy[:, 3, 1] + xy[:, 4, 1]) / 2
    eye_h = (ear_line - eye_line) / ear  # > 0: eyes above the ears
    nose_h = (ear_line - xy[:, 0, 1]) / ear  # < 0: nose below the ears
    out["eye/ear spacing"] = float(
        np.median(np.linalg.norm(xy[fr, 1] - xy[fr, 2], axis=1) / ear[fr])
    )
    level = fr & (np.abs(pitch) < 10)
    out["eye line above ears"] = float(np.median(eye_h[level]))
    out["nose above ears"] = float(np.median(nose_h[level]))
    for name, v in (("eye line", eye_h), ("nose", nose_h)):
        slope = np.polyfit(pitch[fr], v[fr], 1)[0] * 10 if fr.sum() > 5 else np.nan
        out[f"{name} height per 10° pitch"] = float(slope)
    prof = (np.abs(yaw) >= 60) & (np.abs(yaw) < 90)
    if prof.sum() > 5:
        right = yaw > 0  # positive yaw: nose to the image left, the subject's right is far
        sgn = np.where(right, -1.0, 1.0)  # +: towards the near side
        size = np.ptp(xy[..., 0], axis=1)
        far_ear = np.where(right, xy[:, 4, 0], xy[:, 3, 0])
        far_eye = np.where(right, xy[:, 2, 0], xy[:, 1, 0])
        near_eye = np.where(right, xy[:, 1, 0], xy[:, 2, 0])
        nose = xy[:, 0, 0]
        out["profile: far ear − near eye"] = float(
            np.median(((far_ear - near_eye) * sgn / size)[prof])
        )
        out["profile: far eye − nose"] = float(np.median(((far_eye - nose) * sgn / size)[prof]))
    return out


def _old_module(path: Path):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("synth_old", path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["synth_old"] = mod
    spec.loader.exec_module(mod)
    return mod


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--csv", type=Path, default=Path(os.environ.get("HHPNET_DEV_KEYPOINTS", DEFAULT_CSV))
    )
    ap.add_argument("--old-synth", type=Path, default=None)
    ap.add_argument("-o", "--output", type=Path, default=None)
    args = ap.parse_args()
    if not args.csv.is_file():
        print(f"skipped: {args.csv} not present")
        return 0
    from hhpnet.training import synth
    from hhpnet.training.datasets import load_keypoints_csv

    old = _old_module(args.old_synth) if args.old_synth else None
    old_batch = old.generate(400_000, 5) if old else None
    lines = []
    for source, prof in PROFILE.items():
        kset = load_keypoints_csv(args.csv, source)
        f = kset.found
        kp, ang = kset.keypoints[f].astype(float), kset.angles[f].astype(float)
        hp = np.maximum(np.linalg.norm(kp[:, 3, :2] - kp[:, 4, :2], axis=1), np.ptp(kp[..., 0], 1))
        w = [0.0, 0.0, 0.0]
        w[prof] = 1.0
        cfg = synth.SynthConfig(
            detector_weights=(w[0], w[1], w[2]),
            mirror_share=0.0,
            outlier=0.0,
            dropout=0.0,
            coco_thresholds=(0.0,),
            score_gamma=(1.0, 1.0),
            generic_score_share=0.0,
        )
        twin = synth.generate(
            len(ang) * 4, 3, cfg, angles=np.tile(ang, (4, 1)), head_px=np.tile(hp, 4)
        )
        cols = {
            "real": stats(kp, ang),
            "synthetic twin": stats(twin.keypoints.astype(float), twin.angles.astype(float)),
        }
        if old_batch is not None:
            sel = (old_batch.detector == prof) & (np.abs(old_batch.angles[:, 0]) < 100)
            sel &= np.abs(old_batch.angles[:, 1]) < 60
            kpo = old_batch.keypoints[sel].astype(float)
            ok = (kpo[..., 2] > 0).all(1)
            cols["first-wave generator"] = stats(kpo[ok], old_batch.angles[sel][ok].astype(float))
        names = list(cols)
        lines += [
            f"### {source}",
            "",
            "| statistic | " + " | ".join(names) + " |",
            "|---|" + "---|" * len(names),
        ]
        for key in cols["real"]:
            lines.append(
                f"| {key} | " + " | ".join(f"{cols[c].get(key, np.nan):+.3f}" for c in names) + " |"
            )
        lines.append("")
    text = "\n".join(lines)
    print(text)
    if args.output:
        args.output.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
