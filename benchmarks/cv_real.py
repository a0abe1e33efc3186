"""Cross-validated real-keypoint accuracy of the whole training procedure (generator fit → train).

    python benchmarks/cv_real.py run --out runs/cv [--config C.yaml ...] [--folds 0 1]
    python benchmarks/cv_real.py report --out runs/cv [--name hhpnet-1.0] [-o report.md]
    python benchmarks/cv_real.py readings --out runs/cv [--name hhpnet-1.0] [--npz F] [--mesh F]
    python benchmarks/cv_real.py fit [--npz F]     # the shipped constants of fusion.py / tails.py

For each fold k of the development keypoints file (5 folds stratified by |yaw|,
:func:`hhpnet.training.datasets.fold_ids`): fit the generator on the other folds
(:func:`hhpnet.training.generator_fit.fit_generator`), train the network anew on synthetic data
from that fit with the given config, calibrate σ on the other folds' real keypoints, then
predict the held-out fold for every detector source. ``report`` pools the held-out predictions
of all folds: every row is scored by a model that never saw it (nor did its generator fit or
σ calibration). ``run`` takes long (one training per fold); run folds in separate processes to
use several cores. Only aggregate figures are printed (the file's labels are non-commercial).

``readings`` scores every reading of the landmarks file (``aflw2000-dev-landmarks.npz``: the
photo's and its mirror image's BlazeFace and MoveNet points) and their fusions as the estimator
does them (:mod:`hhpnet.training.fusion_fit`): each row is read by the model of its own fold
(``run``'s models; without them, ``--model``, marked in the output), and for each fold the error
correlations and the tail map are fitted on the other folds' rows. Configurations: each reading
alone, the default (BlazeFace + MoveNet of the photo) and ``precise`` (+ both mirror readings).

**The mesh reading** (issue 20, part 1) plugs in with ``--mesh FILE`` (default
``/work/scratch/mesh_oof.npz`` when it exists): an npz with ``files`` (the landmarks file's
names) and, per reading ``R`` (``facemesh``, ``facemesh_mirror``; ``benchmarks/cv_mesh.py``'s
``mesh`` and ``mesh_flip`` are renamed so), ``R_angles`` and
``R_sigma`` (N, 3) out-of-fold degrees **in the photo's frame** (mirror readings already
mapped back: yaw and roll negated), NaN where not read. Each such reading joins the tables
alone and in the fused configurations (:data:`CONFIGURATIONS`); without such a file the shipped
mesh model reads the landmarks (in-sample for its generator fit and σ calibration).

``fit`` fits the shipped constants on all dev rows (error correlations → ``CORRELATIONS``,
tail map → ``TAIL_MAP``; its bin beyond 90° on the generator's full-range views) and prints
them, with the synthetic full-range check of docs/model.md ("Honest σ"): the five-point
readings by ``--model``, the face mesh's from the ``--mesh`` file (or the shipped mesh model).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

from hhpnet.training.fusion_fit import PIPELINE_CONFIGURATIONS

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CSV = ROOT.parent / "shared" / "data" / "aflw2000-dev-keypoints.csv"
SOURCES = ("blazeface", "blazepose", "movenet")
BINS = ((0, 30), (30, 60), (60, 99.5))
DEFAULT_NPZ = ROOT.parent / "shared" / "data" / "aflw2000-dev-landmarks.npz"
DEFAULT_MESH = Path("/work/scratch/mesh_oof.npz")
#: fused configurations scored by ``readings`` (name → reading names, the estimator's order)
CONFIGURATIONS: dict[str, tuple[str, ...]] = {
    **PIPELINE_CONFIGURATIONS,
    "default without the mesh (hhpnet ≤ 1.1)": ("movenet", "blazeface"),
    "precise without the mesh": ("movenet", "blazeface", "movenet_mirror", "blazeface_mirror"),
    "BlazeFace + mesh (detector blazeface)": ("blazeface", "facemesh"),
    "mesh + its mirror": ("facemesh", "facemesh_mirror"),
    "BlazeFace + its mirror": ("blazeface", "blazeface_mirror"),
    "MoveNet + its mirror": ("movenet", "movenet_mirror"),
}
#: reading names of benchmarks/cv_mesh.py's out-of-fold file → the pipeline's reading names
MESH_NAMES = {"mesh": "facemesh", "mesh_flip": "facemesh_mirror"}
#: configurations the tail map is fitted on (the two the estimator runs)
FIT_ON = tuple(PIPELINE_CONFIGURATIONS)


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
    from hhpnet.training.train import load_config, parse_overrides, train

    name = config.stem
    model_path = out / f"{name}.safetensors"
    if not model_path.is_file():
        cfg = load_config(config, **parse_overrides(args.set))
        cfg["data"]["synth"] = {**cfg["data"]["synth"], "fit": str(fit_path)}
        cfg["real_csv"] = str(args.csv)
        cfg["real_exclude_fold"] = k
        cfg["real_folds"] = args.num_folds
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


def _oof_readings(args: argparse.Namespace) -> tuple[dict, np.ndarray, np.ndarray, str]:
    """Every npz reading, each row read by its own fold's model when ``run`` made them."""
    import hhpnet
    from hhpnet.training.fusion_fit import npz_readings

    paths = [args.out / f"fold{k}" / f"{args.name}.safetensors" for k in range(args.num_folds)]
    if all(p.is_file() for p in paths):
        readings, labels, folds = None, None, None
        for k, p in enumerate(paths):
            r, labels, folds = npz_readings(hhpnet.load_model(p), args.npz)
            if readings is None:
                readings = r
            for s, rd in r.items():
                rows = folds == k
                readings[s].angles[rows], readings[s].sigma[rows] = rd.angles[rows], rd.sigma[rows]
        how = f"each row read by its fold's {args.name} (whole procedure cross-validated)"
    else:
        readings, labels, folds = npz_readings(hhpnet.load_model(args.model), args.npz)
        how = (
            f"shipped {args.model} (trained on synthetic data; its generator fit and σ "
            "calibration saw all dev rows: only the fusion constants are out-of-fold)"
        )
    assert readings is not None and labels is not None and folds is not None
    return readings, labels, folds, how


def _add_mesh_readings(args: argparse.Namespace, readings: dict, labels: np.ndarray) -> str:
    """The face mesh's readings (``facemesh``, ``facemesh_mirror``) added to ``readings``: out
    of fold from the ``--mesh`` file (or the default one), else the shipped mesh model's
    (in-sample: its generator fit and σ calibration saw every dev row). Returns where from."""
    from hhpnet.training.landmarks_npz import load_landmarks_npz

    lset = load_landmarks_npz(args.npz)
    path = _mesh_file(args)
    if path is not None:
        readings.update(_mesh_readings(path, lset.files, len(labels)))
        return f"out of fold from {path}"
    from hhpnet.mesh_model import load_mesh_model
    from hhpnet.training.fusion_fit import MESH_SOURCES, npz_readings

    mesh, _, _ = npz_readings(None, lset, load_mesh_model(), MESH_SOURCES)
    readings.update(mesh)
    return "the shipped hhpnet-mesh-1.0 (in-sample: no --mesh file)"


def _mesh_file(args: argparse.Namespace) -> Path | None:
    """--mesh, else the other engineer's default out-of-fold file when it exists."""
    if args.mesh is not None:
        return Path(args.mesh)
    return DEFAULT_MESH if DEFAULT_MESH.is_file() else None


def _mesh_readings(path: Path, files: list[str], n: int) -> dict:
    """Readings ``R`` from ``R_angles`` / ``R_sigma`` of a mesh out-of-fold file (module
    docstring), rows matched to the landmarks file by name."""
    from hhpnet.training.fusion_fit import Reading

    out = {}
    with np.load(path, allow_pickle=False) as d:
        where = {str(f): i for i, f in enumerate(d["files"])}
        rows = np.array([where.get(f, -1) for f in files])
        for key in d.files:
            if not key.endswith("_angles") or key.removesuffix("_angles") + "_sigma" not in d.files:
                continue
            name = key.removesuffix("_angles")
            ang = np.full((n, 3), np.nan)
            label = MESH_NAMES.get(name, name)
            sig = np.full((n, 3), np.inf)
            ok = rows >= 0
            ang[ok] = d[key][rows[ok]]
            sig[ok] = d[name + "_sigma"][rows[ok]]
            bad = ~(np.isfinite(ang).all(1) & np.isfinite(sig).all(1))
            ang[bad], sig[bad] = np.nan, np.inf
            out[label] = Reading(ang, sig)
    return out


def _readings_report(args: argparse.Namespace) -> str:
    from hhpnet.training.fusion_fit import cross_validate, summary, summary_table

    readings, labels, folds, how = _oof_readings(args)
    mesh = _add_mesh_readings(args, readings, labels)
    configs = dict(CONFIGURATIONS)
    alone = {f"{s} alone": (s,) for s in readings}
    result, fitted = cross_validate(
        readings, labels, folds, {**alone, **configs}, fit_on=FIT_ON, synthetic=_synthetic(args)
    )
    rows_raw = [(c, summary(result[c][0].angles, result[c][0].sigma, labels)) for c in alone]
    rows = [(c, summary(result[c][0].angles, result[c][1], labels)) for c in {**alone, **configs}]
    # hhpnet ≤ 1.0's default: combine() with its constant ρ, the network's σ as it comes
    from hhpnet.fusion import combine

    old = combine(
        readings["movenet"].angles,
        readings["movenet"].sigma,
        readings["blazeface"].angles,
        readings["blazeface"].sigma,
        (0.4, 0.5, 0.55),
    )
    rows.append(("default of hhpnet ≤ 1.0 (combine, ρ 0.4 / 0.5 / 0.55, no tail map)",
                 summary(old[0], old[1], labels)))  # fmt: skip
    raw_fused = [
        (f"{c}, σ before the tail map", summary(f.angles, f.sigma, labels))
        for c, (f, _) in result.items()
        if c in configs
    ]
    n = len(labels)
    corr = fitted[0]["correlations"]
    text = [
        f"Readings of {args.npz.name} ({n} photos, 5 folds): {how}.",
        f"Mesh readings: {mesh}.",
        "",
        "Each reading alone, the network's σ:",
        "",
        summary_table(rows_raw),
        "",
        "Fused as the estimator does (error correlations and tail map fitted on the other folds; "
        "σ after the tail map):",
        "",
        summary_table(rows),
        "",
        "The fused configurations with the fusion's own σ (no tail map):",
        "",
        summary_table(raw_fused),
        "",
        "Error correlations fitted without fold 0 (y / p / r): "
        + "; ".join(f"{a}–{b} " + " / ".join(f"{v:.2f}" for v in r) for (a, b), r in corr.items()),
    ]
    return "\n".join(text) + "\n"


def _synthetic(args: argparse.Namespace) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Single readings of the generator's full-range views (every yaw, every detector profile)
    by ``--model``: angles, σ, labels — what widens the single-reading tail map's profile bins."""
    import hhpnet
    from hhpnet.training.synth import SynthConfig, generate

    cfg = SynthConfig(detector_weights=(0.5, 0.15, 0.35), yaw_mix=(0.0, 0.0, 1.0))
    batch = generate(args.synth_samples, args.synth_seed, cfg)
    o = hhpnet.load_model(args.model).predict(batch.keypoints)
    ang = np.stack([o.yaw, o.pitch, o.roll], 1).astype(np.float64)
    return ang, np.asarray(o.sigma, np.float64), np.asarray(batch.angles, np.float64)


def _fit_report(args: argparse.Namespace) -> str:
    """The constants of fusion.py / tails.py fitted on all dev rows, and the synthetic check."""
    import hhpnet
    from hhpnet.tails import TAIL_FEATURES, YAW_EDGES, honest_sigma
    from hhpnet.training.evaluate import angle_errors
    from hhpnet.training.fusion_fit import (
        error_correlations,
        fit_profile_bins,
        fit_tail_map,
        fuse_readings,
        npz_readings,
        single_readings,
    )
    from hhpnet.training.synth import SynthConfig, generate

    model = hhpnet.load_model(args.model)
    readings, labels, _folds = npz_readings(model, args.npz)
    _add_mesh_readings(args, readings, labels)
    configs = {c: CONFIGURATIONS[c] for c in FIT_ON}
    corr = error_correlations(readings, labels, np.ones(len(labels), bool))
    pool = [(fuse_readings(readings, names, corr)[0], labels) for names in configs.values()]
    alone = [(fuse_readings(readings, [s], corr)[0], labels) for s in single_readings(readings)]
    beta = fit_tail_map(pool)
    last = len(YAW_EDGES)  # beyond 90°: as the 60–90° bin (no fused back view to fit on)
    beta[:, last] = beta[:, last - 1]
    single = fit_tail_map(alone)
    single[:, last] = single[:, last - 1]
    single = fit_profile_bins(single, *_synthetic(args))
    lines = ["CORRELATIONS = {"]
    for (a, b), r in corr.items():
        lines.append(f'    ("{a}", "{b}"): ({r[0]:.2f}, {r[1]:.2f}, {r[2]:.2f}),')
    lines += ["}", "", f"TAIL_MAP features: {', '.join(TAIL_FEATURES)}"]
    for name, b in (("TAIL_MAP", beta), ("TAIL_MAP_SINGLE", single)):
        lines += [f"{name} = ("]
        lines += ["    (" + ", ".join(f"{v:.3f}" for v in row) + ")," for row in b]
        lines += [")", ""]
    # synthetic check on a fresh seed: among errors > 45°, the share beyond 3σ (per angle)
    cfg = SynthConfig(detector_weights=(0.5, 0.15, 0.35), yaw_mix=(0.0, 0.0, 1.0))
    test = generate(args.synth_samples, args.synth_seed + 1, cfg)
    o = model.predict(test.keypoints)
    ang = np.stack([o.yaw, o.pitch, o.roll], 1).astype(np.float64)
    ok = np.asarray(o.valid, bool)
    one = np.ones((int(ok.sum()), 3))
    raw = np.asarray(o.sigma, np.float64)[ok]
    new = honest_sigma(ang[ok], raw, np.zeros_like(one), one, single_map=single)
    err = angle_errors(ang[ok], test.angles[ok])
    big = err > 45
    lines.append(
        f"Synthetic full-range views ({int(ok.sum())} valid single readings, seed "
        f"{args.synth_seed + 1}): errors > 45° per angle {big.mean(0).round(4).tolist()}"
    )
    for name, s in (("network σ", raw), ("honest σ", new)):
        share = [float((err[big[:, a], a] > 3 * s[big[:, a], a]).mean()) for a in range(3)]
        pooled = float((err[big] > 3 * s[big]).mean())
        cover = (err <= s).mean(0)
        lines.append(
            f"  {name}: of those, > 3σ: "
            + " / ".join(f"{100 * v:.1f} %" for v in share)
            + f" (pooled {100 * pooled:.1f} %); 1σ cover all "
            + " / ".join(f"{100 * v:.0f} %" for v in cover)
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("command", choices=["run", "report", "readings", "fit"])
    ap.add_argument(
        "--csv", type=Path, default=Path(os.environ.get("HHPNET_DEV_KEYPOINTS", DEFAULT_CSV))
    )
    ap.add_argument(
        "--config", type=Path, nargs="+", default=[ROOT / "configs" / "hhpnet-1.0.yaml"]
    )
    ap.add_argument("--name", default="hhpnet-1.0", help="report: which config's models")
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "cv")
    ap.add_argument("--folds", type=int, nargs="*", default=None)
    ap.add_argument("--num-folds", type=int, default=5)
    ap.add_argument(
        "--set", action="append", help="config override key=json, e.g. training.epochs=8"
    )
    ap.add_argument("-o", "--output", type=Path, default=None)
    ap.add_argument("--npz", type=Path, default=DEFAULT_NPZ, help="readings, fit: landmarks file")
    ap.add_argument("--mesh", type=Path, default=None, help="readings: mesh out-of-fold npz")
    ap.add_argument("--model", default="hhpnet-1.0", help="readings without fold models, fit")
    ap.add_argument("--synth-samples", type=int, default=200_000)
    ap.add_argument("--synth-seed", type=int, default=321)
    args = ap.parse_args()
    if args.command in ("readings", "fit"):
        if not args.npz.is_file():
            print(f"skipped: {args.npz} not present (set --npz)")
            return 0
        text = _readings_report(args) if args.command == "readings" else _fit_report(args)
        print(text)
        if args.output:
            args.output.write_text(text)
        return 0
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
