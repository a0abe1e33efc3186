"""Cross-validated real-keypoint accuracy of the whole training procedure (generator fit → train).

    python benchmarks/cv_real.py run --out runs/cv [--config C.yaml ...] [--folds 0 1]
    python benchmarks/cv_real.py report --out runs/cv [--name hhpnet-1.0] [-o report.md]

For each fold k of the development keypoints file (5 folds stratified by |yaw|,
:func:`hhpnet.training.datasets.fold_ids`): fit the generator on the other folds
(:func:`hhpnet.training.generator_fit.fit_generator`), train the network anew on synthetic data
from that fit with the given config, calibrate σ on the other folds' real keypoints, then
predict the held-out fold for every detector source. ``report`` pools the held-out predictions
of all folds: every row is scored by a model that never saw it (nor did its generator fit or
σ calibration). ``run`` takes long (one training per fold); run folds in separate processes to
use several cores. Only aggregate figures are printed (the file's labels are non-commercial).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CSV = ROOT.parent / "shared" / "data" / "aflw2000-dev-keypoints.csv"
SOURCES = ("blazeface", "blazepose", "movenet")
BINS = ((0, 30), (30, 60), (60, 99.5))


def run_fold(k: int, args: argparse.Namespace) -> None:
    from hhpnet.training.datasets import load_keypoints_csv
    from hhpnet.training.generator_fit import fit_generator, write_fit

    out = args.out / f"fold{k}"
    out.mkdir(parents=True, exist_ok=True)
    folds = load_keypoints_csv(args.csv, "blazeface").folds(args.num_folds)
    fit_path = out / "synth_fit.json"
    if not fit_path.is_file():
        fit = fit_generator(args.csv, rows=folds != k, note=f"cv: all folds but {k}")
        write_fit(fit, fit_path)
    for config in args.config:
        _train_and_predict(k, out, fit_path, Path(config), folds, args)


def _train_and_predict(
    k: int, out: Path, fit_path: Path, config: Path, folds: np.ndarray, args: argparse.Namespace
) -> None:
    import hhpnet
    from hhpnet.keypoints import drop_implausible_points, validate_keypoints
    from hhpnet.training.datasets import load_keypoints_csv
    from hhpnet.training.train import load_config, train

    name = config.stem
    model_path = out / f"{name}.safetensors"
    if not model_path.is_file():
        cfg = load_config(config)
        cfg["data"]["synth"] = {**cfg["data"]["synth"], "fit": str(fit_path)}
        cfg["real_csv"] = str(args.csv)
        cfg["real_exclude_fold"] = k
        cfg["real_folds"] = args.num_folds
        for item in args.set or []:
            key, value = item.split("=", 1)
            node = cfg
            parts = key.split(".")
            for part in parts[:-1]:
                node = node[part]
            node[parts[-1]] = json.loads(value)
        train(cfg, output=model_path, log=lambda m: print(f"[fold {k} {name}] {m}", flush=True))
    model = hhpnet.load_model(model_path)
    preds = {}
    for source in SOURCES:
        kset = load_keypoints_csv(args.csv, source)
        held = (folds == k) & kset.found
        kp = validate_keypoints(kset.keypoints[held])
        sizes = kset.image_size[held]
        if len(kp):
            kp = np.concatenate(
                [drop_implausible_points(kp[i : i + 1], tuple(sizes[i]))[0] for i in range(len(kp))]
            )
        o = model.predict(kp)
        preds[source] = {
            "pred": np.stack([o.yaw, o.pitch, o.roll], 1),
            "sigma": o.sigma,
            "valid": o.valid,
            "label": kset.angles[held],
        }
    np.savez(
        out / f"heldout-{name}.npz",
        **{f"{s}_{f}": v for s, d in preds.items() for f, v in d.items()},
    )
    print(f"[fold {k} {name}] done: {out}", flush=True)


def _table(args: argparse.Namespace) -> str:
    from scipy.stats import spearmanr

    from hhpnet.training.evaluate import angle_errors

    lines = [
        "| source | n | **mean** | yaw | pitch | roll | |yaw| 0–30 | 30–60 | 60–99 "
        "| bias y / p / r | 1σ cover y / p / r | Spearman y / p / r |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    done = sorted(p for p in args.out.glob(f"fold*/heldout-{args.name}.npz"))
    for source in SOURCES:
        parts = [np.load(p) for p in done]
        pred = np.concatenate([d[f"{source}_pred"] for d in parts])
        sig = np.concatenate([d[f"{source}_sigma"] for d in parts])
        lab = np.concatenate([d[f"{source}_label"] for d in parts]).astype(np.float64)
        ok = np.concatenate([d[f"{source}_valid"] for d in parts])
        pred, sig, lab = pred[ok], sig[ok], lab[ok]
        err = angle_errors(pred, lab)
        d = pred - lab
        d[:, 0] = (d[:, 0] + 180) % 360 - 180
        ay = np.abs(lab[:, 0])
        bins = [err[(ay >= lo) & (ay < hi)].mean() for lo, hi in BINS]
        cover = (err <= sig).mean(0) * 100
        rho = [spearmanr(sig[:, i], err[:, i]).statistic for i in range(3)]
        lines.append(
            f"| {source} | {len(err)} | **{err.mean():.2f}** | "
            + " | ".join(f"{v:.2f}" for v in err.mean(0))
            + " | "
            + " | ".join(f"{v:.2f}" for v in bins)
            + " | "
            + " / ".join(f"{v:+.1f}" for v in d.mean(0))
            + " | "
            + " / ".join(f"{v:.0f} %" for v in cover)
            + " | "
            + " / ".join(f"{v:.2f}" for v in rho)
            + " |"
        )
    head = (
        f"{args.name}, cross-validated on {args.csv.name}: {len(done)} of {args.num_folds} "
        "folds done.\n\n"
    )
    return head + "\n".join(lines) + "\n\n" + _fusion_table(args, done) + "\n"


def _heldout_rows(args: argparse.Namespace, fold: int) -> dict[str, np.ndarray]:
    """Row indices (in the file) of each source's held-out predictions of ``fold``, in order."""
    from hhpnet.training.datasets import load_keypoints_csv

    out = {}
    for source in SOURCES:
        kset = load_keypoints_csv(args.csv, source)
        out[source] = np.flatnonzero((kset.folds(args.num_folds) == fold) & kset.found)
    return out


def _fusion_table(args: argparse.Namespace, done: list[Path]) -> str:
    """BlazeFace + MoveNet readings of the same photo combined (hhpnet.fusion), with the error
    correlation ρ estimated on the other folds' held-out predictions (no row scores itself)."""
    from scipy.stats import spearmanr

    from hhpnet.fusion import combine
    from hhpnet.training.evaluate import angle_errors

    per_fold = []
    for path in done:
        k = int(path.parent.name.removeprefix("fold"))
        d = np.load(path)
        rows = _heldout_rows(args, k)
        _common, ib, im = np.intersect1d(rows["blazeface"], rows["movenet"], return_indices=True)
        rec = {}
        for src, idx in (("b", ib), ("m", im)):
            name = "blazeface" if src == "b" else "movenet"
            rec[src] = (d[f"{name}_pred"][idx], d[f"{name}_sigma"][idx], d[f"{name}_valid"][idx])
        rec["label"] = d["blazeface_label"][ib].astype(np.float64)
        per_fold.append(rec)
    if not per_fold:
        return ""

    def zerr(pred: np.ndarray, sig: np.ndarray, lab: np.ndarray) -> np.ndarray:
        e = pred - lab
        e[:, 0] = (e[:, 0] + 180) % 360 - 180
        return e / sig

    lines = [
        "Both detectors' readings of the photos both found, combined (`hhpnet.fusion`, ρ "
        "estimated on the other folds):",
        "",
        "| readings | n | **mean** | yaw | pitch | roll | 1σ cover y / p / r | Spearman y / p / r "
        "| ρ used y / p / r |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    rows: dict[str, list[np.ndarray]] = {"blazeface": [], "movenet": [], "combined": []}
    sigs: dict[str, list[np.ndarray]] = {"blazeface": [], "movenet": [], "combined": []}
    rhos = []
    for i, rec in enumerate(per_fold):
        others = [r for j, r in enumerate(per_fold) if j != i] or [rec]
        zb = np.concatenate([zerr(r["b"][0], r["b"][1], r["label"]) for r in others])
        zm = np.concatenate([zerr(r["m"][0], r["m"][1], r["label"]) for r in others])
        ok = np.isfinite(zb).all(1) & np.isfinite(zm).all(1)
        rho = np.array([np.corrcoef(zb[ok, a], zm[ok, a])[0, 1] for a in range(3)])
        rhos.append(rho)
        ang, sig = combine(rec["b"][0], rec["b"][1], rec["m"][0], rec["m"][1], rho)
        for name, (p, sg) in (
            ("blazeface", rec["b"][:2]),
            ("movenet", rec["m"][:2]),
            ("combined", (ang, sig)),
        ):
            rows[name].append(angle_errors(p, rec["label"]))
            sigs[name].append(sg)
    rho_mean = np.mean(rhos, axis=0)
    for name in rows:
        err = np.concatenate(rows[name])
        sg = np.concatenate(sigs[name])
        ok = np.isfinite(err).all(1)
        err, sg = err[ok], sg[ok]
        cover = (err <= sg).mean(0) * 100
        rho_s = [spearmanr(sg[:, a], err[:, a]).statistic for a in range(3)]
        used = " / ".join(f"{v:.2f}" for v in rho_mean) if name == "combined" else "—"
        lines.append(
            f"| {name} | {len(err)} | **{err.mean():.2f}** | "
            + " | ".join(f"{v:.2f}" for v in err.mean(0))
            + " | "
            + " / ".join(f"{v:.0f} %" for v in cover)
            + " | "
            + " / ".join(f"{v:.2f}" for v in rho_s)
            + f" | {used} |"
        )
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("command", choices=["run", "report"])
    ap.add_argument(
        "--csv", type=Path, default=Path(os.environ.get("HHPNET_DEV_KEYPOINTS", DEFAULT_CSV))
    )
    ap.add_argument(
        "--config", type=Path, nargs="+", default=[ROOT / "configs" / "hhpnet-1.0.yaml"]
    )
    ap.add_argument("--name", default="hhpnet-1.0", help="report: which config's models")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--folds", type=int, nargs="*", default=None)
    ap.add_argument("--num-folds", type=int, default=5)
    ap.add_argument(
        "--set", action="append", help="config override key=json, e.g. training.epochs=8"
    )
    ap.add_argument("-o", "--output", type=Path, default=None)
    args = ap.parse_args()
    if not args.csv.is_file():
        print(f"skipped: {args.csv} not present (set --csv or HHPNET_DEV_KEYPOINTS)")
        return 0
    if args.command == "run":
        for k in args.folds if args.folds is not None else range(args.num_folds):
            run_fold(k, args)
        return 0
    text = _table(args)
    print(text)
    if args.output:
        args.output.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
