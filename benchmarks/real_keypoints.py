"""Accuracy on real detector keypoints with labels: every source, the shipped models, solvePnP.

    python benchmarks/real_keypoints.py [--csv FILE] [--models hhpnet-1.0 ...] [--folds 0,1]
                                        [-o report.md]

Reads the development keypoints file (default ``../shared/data/aflw2000-dev-keypoints.csv``
next to the repository, or ``$HHPNET_DEV_KEYPOINTS``); where it is absent, says so and exits 0.
The file's labels are for non-commercial research: only aggregate figures are printed or
written. For each detector source (BlazeFace, BlazePose, MoveNet) one table: the share of photos
where the face was found, then one line per model and one for
``hhpnet.training.baseline.solve_pnp`` on the very same keypoints — MAE (mean, per angle, per
|yaw| bin), signed bias, 1σ coverage and Spearman(σ, |error|).
``hhpnet eval --keypoints-csv FILE --model M --out DIR`` gives the full report (sparsification,
calibration plot) for one model.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CSV = ROOT.parent / "shared" / "data" / "aflw2000-dev-keypoints.csv"
SHIPPED = ("hhpnet-1.0", "hhpnet-0.6", "hhpnet-0.2")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--csv", type=Path, default=Path(os.environ.get("HHPNET_DEV_KEYPOINTS", DEFAULT_CSV))
    )
    ap.add_argument("--models", nargs="+", default=list(SHIPPED))
    ap.add_argument("--sources", nargs="+", default=None, help="default: all three")
    ap.add_argument("--folds", default=None, help="only these folds, e.g. 0,3")
    ap.add_argument("--num-folds", type=int, default=5)
    ap.add_argument("--fold-seed", type=int, default=0)
    ap.add_argument("--kpt-thr", type=float, default=0.0)
    ap.add_argument("-o", "--output", type=Path, default=None, help="also write the tables here")
    args = ap.parse_args()
    if not args.csv.is_file():
        print(f"skipped: {args.csv} not present (set --csv or HHPNET_DEV_KEYPOINTS)")
        return 0

    import hhpnet
    from hhpnet.training.datasets import KEYPOINT_SOURCES, load_keypoints_csv
    from hhpnet.training.evaluate import comparison_table, evaluate_keypoint_set

    start = time.perf_counter()
    folds = [int(f) for f in args.folds.split(",")] if args.folds else None
    models = [hhpnet.load_model(m) for m in args.models]
    lines = [f"# Real detector keypoints: {args.csv.name}", ""]
    if folds is not None:
        lines += [f"Folds {args.folds} of {args.num_folds} (seed {args.fold_seed}) only.", ""]
    for source in args.sources or KEYPOINT_SOURCES:
        kset = load_keypoints_csv(args.csv, source, kpt_thr=args.kpt_thr)
        rows = []
        for i, model in enumerate(models):
            res = evaluate_keypoint_set(
                model,
                kset,
                folds=folds,
                k=args.num_folds,
                fold_seed=args.fold_seed,
                baseline=i == 0,  # same keypoints for every model: one baseline run
            )
            rows.append((model.name, res, False))
            if i == 0:
                first = res
        rows.append(("solvePnP (hhpnet.training.baseline)", first, True))
        found = ", ".join(
            f"{label} {100 * f / n:.1f} %" for label, (f, n) in first.detection.items() if n
        )
        lines += [
            f"## {source} (detector profile {kset.profile})",
            "",
            f"Face found: {found}.",
            "",
            comparison_table(rows),
        ]
    lines.append(f"{time.perf_counter() - start:.1f} s for {len(models)} model(s).")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
