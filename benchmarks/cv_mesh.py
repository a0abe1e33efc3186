"""Cross-validated accuracy of the face-mesh reading (fit → train → calibrate → score held out).

    python benchmarks/cv_mesh.py run --out runs/cv-mesh [--config C.yaml] [--tag T]
                                     [--set input.points='"all"' ...] [--folds 0 1]
    python benchmarks/cv_mesh.py report --out runs/cv-mesh [--tag T] [--oof PATH] [-o report.md]
    python benchmarks/cv_mesh.py compare --out runs/cv-mesh --tags T1 T2 ...

For each fold k of the development landmarks file (5 folds stratified by |yaw|, the folds of
``hhpnet.training.datasets.fold_ids``, the same as the keypoints CSV's): fit the mesh generator
on the other folds' real readings (photos and mirror images), train the mesh network from scratch on
synthetic landmarks, calibrate σ on the other folds' real readings, then read the held-out
fold's photos and mirror images. ``report`` pools the held-out readings (no row is scored by a
model, generator fit or σ calibration that saw it) and prints the mesh reading next to SQPnP of
the 468 landmarks, the shipped hhpnet-1.0 on the same photos' BlazeFace and MoveNet points and
their pairwise fusion (what ``auto`` does), the error correlations between readings (in σ units,
estimated on the other folds for every fused row), fusions with the mesh and mirror readings,
and where the mesh helps (face size, estimated |yaw|). ``--oof`` writes the held-out mesh
readings (outside the repository: they derive from the dev rows). Only aggregate figures are
printed (the file's labels are non-commercial).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

# one BLAS thread per process (set before numpy loads): on a shared machine OpenBLAS's
# spinning threads make the generator fit's SVDs ~50× slower (measured under load)
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_NPZ = ROOT.parent / "shared" / "data" / "aflw2000-dev-landmarks.npz"
BINS = ((0, 30), (30, 60), (60, 99.5))
ANGLES = ("yaw", "pitch", "roll")
#: error correlation assumed between a photo's reading and its mirror image's when fusing the
#: 5-point readings in --precise style (estimated here too)
READINGS = ("mesh", "blazeface", "movenet")


# ----------------------------------------------------------------------------- run
def run_fold(k: int, args: argparse.Namespace) -> None:
    from hhpnet.mesh_model import load_mesh_model
    from hhpnet.training.landmarks_npz import load_landmarks_npz
    from hhpnet.training.mesh_fit import MeshFit, fit_mesh_generator
    from hhpnet.training.mesh_train import load_mesh_config, real_mesh_rows, train_mesh
    from hhpnet.training.train import parse_overrides

    out = args.out / f"fold{k}"
    out.mkdir(parents=True, exist_ok=True)
    cfg = load_mesh_config(args.config, **parse_overrides(args.set))
    cfg["real_npz"] = str(args.npz)
    cfg["exclude_fold"] = k
    cfg["folds"] = args.num_folds
    tag = args.tag or cfg["name"]
    model_path = out / f"{tag}.safetensors"
    if not model_path.is_file():
        fit_path = out / f"mesh_fit-{_fit_key(cfg)}.npz"
        if fit_path.is_file():
            fit = MeshFit.from_arrays(np.load(fit_path))
        else:
            lm, lab, photo = real_mesh_rows(args.npz, k, args.num_folds)
            fit = fit_mesh_generator(lm, lab, photo, cfg["fit"], seed=int(cfg["seed"]))
            np.savez(fit_path, **fit.to_arrays())
        train_mesh(
            cfg,
            output=model_path,
            fit=fit,
            log=lambda m: print(f"[fold {k} {tag}] {m}", flush=True),
        )
    model = load_mesh_model(model_path)
    lset = load_landmarks_npz(args.npz)
    held = lset.folds(args.num_folds) == k
    rec: dict[str, Any] = {"rows": np.flatnonzero(held)}
    for mirror, key in ((False, "photo"), (True, "flip")):
        o = model.predict(lset.reading("facemesh", mirror)[held])
        ang = o.angles
        if mirror:  # back to the photo's frame: yaw and roll negated
            ang = ang * np.array([-1.0, 1.0, -1.0], np.float32)
        rec[f"{key}_angles"] = ang
        rec[f"{key}_sigma"] = o.sigma
        rec[f"{key}_valid"] = o.valid & lset.found("facemesh", mirror)[held]
    np.savez(out / f"heldout-{tag}.npz", **rec)
    print(f"[fold {k} {tag}] done", flush=True)


def _fit_key(cfg: dict[str, Any]) -> str:
    import hashlib

    text = json.dumps({"fit": cfg["fit"], "seed": cfg["seed"]}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


# ----------------------------------------------------------------------------- readings
def _wrap(d: np.ndarray) -> np.ndarray:
    out = np.array(d, np.float64)
    out[..., 0] = (out[..., 0] + 180.0) % 360.0 - 180.0
    return out


def load_oof(out: Path, tag: str, n: int, folds: int) -> dict[str, np.ndarray]:
    """Pooled held-out mesh readings in file row order (NaN / inf where none)."""
    res = {
        f"mesh{s}_{f}": np.full((n, 3), np.nan if f == "angles" else np.inf, np.float32)
        for s in ("", "_flip")
        for f in ("angles", "sigma")
    }
    res["fold"] = np.full(n, -1)
    for k in range(folds):
        path = out / f"fold{k}" / f"heldout-{tag}.npz"
        if not path.is_file():
            continue
        d = np.load(path)
        rows = d["rows"]
        res["fold"][rows] = k
        for src, dst in (("photo", "mesh"), ("flip", "mesh_flip")):
            ok = d[f"{src}_valid"]
            res[f"{dst}_angles"][rows[ok]] = d[f"{src}_angles"][ok]
            res[f"{dst}_sigma"][rows[ok]] = d[f"{src}_sigma"][ok]
    return res


def five_point_readings(lset: Any) -> dict[str, np.ndarray]:
    """The shipped hhpnet-1.0 on the file's BlazeFace and MoveNet points of the photos and of
    their mirror images, cleaned as the pipeline cleans them (MoveNet: COCO head points, scores
    below the detector's keypoint threshold missing); mirror readings in the photo's frame."""
    from hhpnet.model import load_model

    model = load_model("hhpnet-1.0")
    out = {}
    for name in ("blazeface", "movenet"):
        for mirror in (False, True):
            o = model.predict(lset.keypoints5(name, mirror))
            ang = np.where(o.valid[:, None], o.angles, np.nan)
            if mirror:
                ang = ang * np.array([-1.0, 1.0, -1.0])
            suffix = "_flip" if mirror else ""
            out[f"{name}{suffix}_angles"] = ang.astype(np.float32)
            out[f"{name}{suffix}_sigma"] = np.where(o.valid[:, None], o.sigma, np.inf)
    return out


def sqpnp_angles(lset: Any) -> np.ndarray:
    """SQPnP of the 468 landmarks to MediaPipe's canonical face (the benchmark's competitor)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from alternatives import canonical_face, pnp_angles

    lm = lset.reading("facemesh")
    out = np.full((len(lset), 3), np.nan)
    found = lset.found("facemesh")
    for i in np.flatnonzero(found):
        w, h = lset.image_size[i]
        out[i] = pnp_angles(lm[i : i + 1, :, :2], canonical_face(), int(w), int(h))[0]
    return out


# ----------------------------------------------------------------------------- fusion
def fuse(
    angles: list[np.ndarray], sigmas: list[np.ndarray], rho: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Minimum-variance combination per angle of K correlated readings (N, 3) with σ (N, 3)
    and error correlations ``rho`` (3, K, K): generalised least squares with non-negative
    weights (a reading whose weight would be negative — strongly correlated with a more
    certain one — is left out, as ``hhpnet.fusion.combine`` clips its weight to [0, 1]);
    readings missing in a row are left out of that row; yaw on the circle around the median
    reading."""
    a = np.stack(angles, axis=1).astype(np.float64)  # (N, K, 3)
    s = np.stack(sigmas, axis=1).astype(np.float64)
    ok = np.isfinite(a) & np.isfinite(s) & (s > 0)
    n = len(a)
    yaw = np.where(ok[:, :, 0], a[:, :, 0], np.nan)
    with np.errstate(all="ignore"):
        anchor = np.nan_to_num(np.nanmedian(yaw, axis=1))
    a[:, :, 0] = anchor[:, None] + ((a[:, :, 0] - anchor[:, None] + 180.0) % 360.0 - 180.0)
    out = np.full((n, 3), np.nan)
    sig = np.full((n, 3), np.inf)
    for i in range(n):
        for j in range(3):
            use = np.flatnonzero(ok[i, :, j])
            while len(use):
                sd = s[i, use, j]
                cov = sd[:, None] * sd[None, :] * rho[j][np.ix_(use, use)]
                w = np.linalg.solve(cov, np.ones(len(use)))
                if (w >= 0).all():
                    out[i, j] = (w * a[i, use, j]).sum() / w.sum()
                    sig[i, j] = np.sqrt(1.0 / w.sum())
                    break
                use = np.delete(use, np.argmin(w))
    out[:, 0] = (out[:, 0] + 180.0) % 360.0 - 180.0
    return out, sig


def mean_of_two(
    a: np.ndarray, sa: np.ndarray, b: np.ndarray, sb: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Plain mean of two readings (yaw on the circle), σ the mean σ; where one is missing,
    the other."""
    ra, rb = np.radians(a[:, 0]), np.radians(b[:, 0])
    out = (a + b) / 2.0
    out[:, 0] = np.degrees(np.arctan2(np.sin(ra) + np.sin(rb), np.cos(ra) + np.cos(rb)))
    sig = (sa + sb) / 2.0
    ok_a, ok_b = np.isfinite(a).all(axis=1), np.isfinite(b).all(axis=1)
    out = np.where((ok_a & ok_b)[:, None], out, np.where(ok_a[:, None], a, b))
    sig = np.where((ok_a & ok_b)[:, None], sig, np.where(ok_a[:, None], sa, sb))
    return out, sig


def z_errors(angles: np.ndarray, sigma: np.ndarray, label: np.ndarray) -> np.ndarray:
    return _wrap(angles - label) / sigma


def correlations(z: list[np.ndarray], rows: np.ndarray) -> np.ndarray:
    """(3, K, K) correlation of the σ-unit errors of K readings over ``rows`` (pairwise
    complete; 0 where a pair has < 20 rows in common)."""
    k = len(z)
    rho = np.tile(np.eye(k), (3, 1, 1))
    for j in range(3):
        for p in range(k):
            for q in range(p + 1, k):
                m = rows & np.isfinite(z[p][:, j]) & np.isfinite(z[q][:, j])
                if m.sum() >= 20:
                    c = np.corrcoef(z[p][m, j], z[q][m, j])[0, 1]
                    rho[j, p, q] = rho[j, q, p] = np.clip(c, -0.95, 0.95)
    return rho


def fused_oof(
    names: list[str], read: dict[str, np.ndarray], label: np.ndarray, fold: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fusion of the named readings, each fold fused with correlations estimated on the other
    folds; also returns the mean correlation matrices used (3, K, K)."""
    z = [z_errors(read[f"{n}_angles"], read[f"{n}_sigma"], label) for n in names]
    out = np.full((len(label), 3), np.nan)
    sig = np.full((len(label), 3), np.inf)
    used = []
    for k in np.unique(fold[fold >= 0]):
        rho = correlations(z, fold != k)
        used.append(rho)
        rows = fold == k
        a, s = fuse(
            [read[f"{n}_angles"][rows] for n in names],
            [read[f"{n}_sigma"][rows] for n in names],
            rho,
        )
        out[rows], sig[rows] = a, s
    return out, sig, np.mean(used, axis=0)


# ----------------------------------------------------------------------------- report
def metrics(angles: np.ndarray, sigma: np.ndarray | None, label: np.ndarray) -> dict[str, Any]:
    from scipy.stats import spearmanr

    ok = np.isfinite(angles).all(axis=1)
    d = _wrap(angles[ok] - label[ok])
    err = np.abs(d)
    ay = np.abs(label[ok, 0])
    res: dict[str, Any] = {
        "n": int(ok.sum()),
        "mean": float(err.mean()),
        "per_angle": err.mean(axis=0).tolist(),
        "bins": [float(err[(ay >= lo) & (ay < hi)].mean()) for lo, hi in BINS],
        "bias": d.mean(axis=0).tolist(),
    }
    if sigma is not None:
        s = sigma[ok]
        res["cover"] = (err <= s).mean(axis=0).tolist()
        res["spearman"] = [float(spearmanr(s[:, j], err[:, j]).statistic) for j in range(3)]
        res["beyond3"] = (err > 3 * s).mean(axis=0).tolist()
    return res


def row(name: str, m: dict[str, Any]) -> str:
    cells = [
        name,
        str(m["n"]),
        f"**{m['mean']:.2f}**",
        " / ".join(f"{v:.2f}" for v in m["per_angle"]),
        " / ".join(f"{v:.2f}" for v in m["bins"]),
        " / ".join(f"{v:+.1f}" for v in m["bias"]),
    ]
    if "cover" in m:
        cells += [
            " / ".join(f"{100 * v:.0f}" for v in m["cover"]),
            " / ".join(f"{v:.2f}" for v in m["spearman"]),
            " / ".join(f"{100 * v:.1f}" for v in m["beyond3"]),
        ]
    else:
        cells += ["—", "—", "—"]
    return "| " + " | ".join(cells) + " |"


HEADER = (
    "| reading | n | **mean** | yaw / pitch / roll | |yaw| 0–30 / 30–60 / 60–99 | bias y / p / r "
    "| 1σ cover % | Spearman(σ, |e|) | |e| > 3σ % |\n|---|---|---|---|---|---|---|---|---|"
)


def report(args: argparse.Namespace) -> str:
    from hhpnet.training.landmarks_npz import load_landmarks_npz

    lset = load_landmarks_npz(args.npz)
    n = len(lset)
    label = lset.angles.astype(np.float64)
    read: dict[str, np.ndarray] = dict(load_oof(args.out, args.tag, n, args.num_folds))
    fold = read.pop("fold")
    done = fold >= 0
    read.update(five_point_readings(lset))
    # auto today: BlazeFace and MoveNet readings fused with the shipped correlations
    from hhpnet.fusion import ERROR_CORRELATION, combine

    a, s = combine(
        read["movenet_angles"], read["movenet_sigma"], read["blazeface_angles"],
        read["blazeface_sigma"], ERROR_CORRELATION,
    )  # fmt: skip
    read["auto_angles"], read["auto_sigma"] = a, s
    a, s = combine(
        read["movenet_flip_angles"], read["movenet_flip_sigma"], read["blazeface_flip_angles"],
        read["blazeface_flip_sigma"], ERROR_CORRELATION,
    )  # fmt: skip
    read["auto_flip_angles"], read["auto_flip_sigma"] = a, s
    sq = sqpnp_angles(lset)
    lines = [
        f"# Face-mesh reading `{args.tag}`, {int(done.sum())} of {n} photos in "
        f"{len(np.unique(fold[done]))} held-out folds of {args.npz.name}",
        "",
        "Every photo of the table (the rows of the folds done) counts; a reading that found "
        "nothing is left out of its own row (n). Bins by |label yaw|.",
        "",
        HEADER,
    ]
    table: dict[str, dict[str, Any]] = {}

    def add(name: str, ang: np.ndarray, sig: np.ndarray | None) -> None:
        m = metrics(ang[done], None if sig is None else sig[done], label[done])
        table[name] = m
        lines.append(row(name, m))

    add("mesh (photo)", read["mesh_angles"], read["mesh_sigma"])
    add("mesh (mirror image)", read["mesh_flip_angles"], read["mesh_flip_sigma"])
    add("SQPnP of the 468 landmarks", sq, None)
    add("hhpnet-1.0 on blazeface5", read["blazeface_angles"], read["blazeface_sigma"])
    add("hhpnet-1.0 on movenet17", read["movenet_angles"], read["movenet_sigma"])
    add("auto today (BlazeFace + MoveNet fused)", read["auto_angles"], read["auto_sigma"])
    folds_done = np.where(done, fold, -1)
    a, s = mean_of_two(read["mesh_angles"], read["mesh_sigma"], read["mesh_flip_angles"],
                       read["mesh_flip_sigma"])  # fmt: skip
    read["mesh p+m_angles"], read["mesh p+m_sigma"] = a, s
    add("mesh, photo and mirror image averaged", a, s)
    combos = {
        "auto, photo and mirror (GLS)": ["auto", "auto_flip"],
        "default: GLS of BlazeFace, MoveNet, mesh": ["movenet", "blazeface", "mesh"],
        "default: GLS of auto, mesh": ["auto", "mesh"],
        "precise: GLS of the six readings": [
            "movenet", "blazeface", "mesh", "movenet_flip", "blazeface_flip", "mesh_flip",
        ],
        "precise: GLS of mesh p+m averaged, auto p+m": ["mesh p+m", "auto, photo and mirror (GLS)"],
    }  # fmt: skip
    rhos = {}
    for name, names in combos.items():
        a, s, rho = fused_oof(names, read, label, folds_done)
        read[f"{name}_angles"], read[f"{name}_sigma"] = a, s
        rhos[name] = (names, rho)
        add(name, a, s)
    lines += [
        "",
        "GLS: generalised least squares per angle with non-negative weights, error "
        "correlations (σ units) estimated on the other folds' photos; p+m: photo and mirror "
        "image; auto: BlazeFace and MoveNet combined as the pipeline does today.",
    ]
    every = done.copy()
    for name in ("mesh", "blazeface", "movenet"):
        every &= np.isfinite(read[f"{name}_angles"]).all(axis=1)
    lines += [
        "",
        f"The {int(every.sum())} photos where the mesh, BlazeFace and MoveNet all read "
        "(docs/model.md's 'both found' table is on such photos):",
        "",
        HEADER,
    ]
    for name in ("mesh", "blazeface", "movenet", "auto", "default: GLS of auto, mesh"):
        m = metrics(read[f"{name}_angles"][every], read[f"{name}_sigma"][every], label[every])
        lines.append(row(name, m))
    lines += ["", "Error correlations (σ units) used by the fusions (mean over folds):", ""]
    names, rho = rhos["precise: GLS of the six readings"]
    lines.append("| angle | " + " | ".join(names) + " |")
    lines.append("|---|" + "---|" * len(names))
    for j, ang in enumerate(ANGLES):
        for p, nm in enumerate(names):
            lines.append(
                f"| {ang}: {nm} | "
                + " | ".join(f"{rho[j, p, q]:.2f}" for q in range(len(names)))
                + " |"
            )
    lines += ["", _gating(read, lset, label, done), "", _twin_check(args, lset), ""]
    if args.oof:
        keys = ("mesh_angles", "mesh_sigma", "mesh_flip_angles", "mesh_flip_sigma")
        np.savez(args.oof, **{k: read[k] for k in keys}, fold=fold, files=np.array(lset.files))
        lines.append(f"(held-out mesh readings written to {args.oof})")
    if args.json:
        args.json.write_text(json.dumps(table, indent=1))
    return "\n".join(lines)


def _gating(read: dict[str, np.ndarray], lset: Any, label: np.ndarray, done: np.ndarray) -> str:
    """Where adding the mesh to auto helps: by face size (BlazeFace box side, px) and by the
    estimated |yaw| (auto's own reading, not the label)."""
    box = lset.extras.get("facemesh_box")
    side = (
        np.full(len(label), np.nan)
        if box is None
        else np.maximum(box[:, 2] - box[:, 0], box[:, 3] - box[:, 1])
    )
    est = np.abs(read["auto_angles"][:, 0])
    base = np.abs(_wrap(read["auto_angles"] - label)).mean(axis=1)
    both = np.abs(_wrap(read["default: GLS of auto, mesh_angles"] - label)).mean(axis=1)
    mesh = np.abs(_wrap(read["mesh_angles"] - label)).mean(axis=1)
    lines = [
        "Where the mesh helps (mean MAE of the photos where auto and the mesh both read):",
        "",
        "| group | n | auto | mesh alone | GLS of auto, mesh |",
        "|---|---|---|---|---|",
    ]
    ok = done & np.isfinite(base) & np.isfinite(mesh)
    groups = [(f"est. |yaw| {lo}–{hi}", (est >= lo) & (est < hi)) for lo, hi in
              ((0, 15), (15, 30), (30, 45), (45, 60), (60, 75), (75, 181))]  # fmt: skip
    q = np.nanquantile(side[ok], [0, 1 / 3, 2 / 3, 1]) if ok.any() else [0, 0, 0, 0]
    groups += [
        (f"face {q[i]:.0f}–{q[i + 1]:.0f} px", (side >= q[i]) & (side <= q[i + 1]))
        for i in range(3)
    ]
    for name, m in groups:
        g = ok & m
        if g.sum() < 5:
            continue
        lines.append(
            f"| {name} | {int(g.sum())} | {base[g].mean():.2f} | {mesh[g].mean():.2f} | "
            f"{both[g].mean():.2f} |"
        )
    return "\n".join(lines)


def _twin_check(args: argparse.Namespace, lset: Any) -> str:
    """Does the generator fitted on the other folds make readings like the held-out ones? For
    each fold: the held-out photos' readings and their synthetic twin (the generator of that
    fold at the very same labels), both read by that fold's model; residual size against the
    posed canonical face (median, cm) and the model's MAE, pooled, by |label yaw|."""
    from hhpnet.mesh_model import load_mesh_model
    from hhpnet.training.evaluate import angle_errors
    from hhpnet.training.mesh_fit import MeshFit, pose_residuals
    from hhpnet.training.mesh_synth import generate_mesh

    folds = lset.folds(args.num_folds)
    rows: dict[str, list[np.ndarray]] = {"real": [], "twin": [], "rr": [], "rt": [], "yaw": []}
    for k in range(args.num_folds):
        path = args.out / f"fold{k}" / f"{args.tag}.safetensors"
        if not path.is_file():
            continue
        model = load_mesh_model(path)
        cfg = json.loads(model.metadata["train_config"])
        fit_path = args.out / f"fold{k}" / f"mesh_fit-{_fit_key(cfg)}.npz"
        if not fit_path.is_file():
            continue
        fit = MeshFit.from_arrays(np.load(fit_path))
        held = (folds == k) & lset.found("facemesh")
        real = lset.reading("facemesh")[held]
        lab = lset.angles[held]
        twin, _ = generate_mesh(fit, len(lab), 100 + k, angles=lab)
        for name, lm, res in (("real", real, "rr"), ("twin", twin, "rt")):
            o = model.predict(lm)
            rows[name].append(np.where(o.valid[:, None], angle_errors(o.angles, lab), np.nan))
            r, _ = pose_residuals(lm, lab, fit.pitch_offset, fit.depth_scale)
            rows[res].append(np.sqrt((r[..., :2] ** 2).sum(-1).mean(-1)))
        rows["yaw"].append(np.abs(lab[:, 0]))
    if not rows["yaw"]:
        return ""
    v = {key: np.concatenate(val) for key, val in rows.items()}
    lines = [
        "Generator check: held-out real readings vs their synthetic twin (same labels, the "
        "generator fitted without them), read by the same fold model:",
        "",
        "| \\|yaw\\| | n | residual median real / twin (cm) | MAE real / twin |",
        "|---|---|---|---|",
    ]
    for lo, hi in (*BINS, (0, 99.5)):
        m = (v["yaw"] >= lo) & (v["yaw"] < hi)
        lines.append(
            f"| {lo}–{hi:g} | {int(m.sum())} | {np.median(v['rr'][m]):.2f} / "
            f"{np.median(v['rt'][m]):.2f} | {np.nanmean(v['real'][m]):.2f} / "
            f"{np.nanmean(v['twin'][m]):.2f} |"
        )
    return "\n".join(lines)


def compare(args: argparse.Namespace) -> str:
    """One line per tag: the held-out mesh reading of the photos (variant selection)."""
    from hhpnet.training.landmarks_npz import load_landmarks_npz

    lset = load_landmarks_npz(args.npz)
    label = lset.angles.astype(np.float64)
    lines = [HEADER.replace("| reading |", "| variant |")]
    for tag in args.tags:
        read = load_oof(args.out, tag, len(lset), args.num_folds)
        done = read["fold"] >= 0
        m = metrics(read["mesh_angles"][done], read["mesh_sigma"][done], label[done])
        lines.append(row(f"{tag} ({len(np.unique(read['fold'][done]))} folds)", m))
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("command", choices=["run", "report", "compare"])
    ap.add_argument(
        "--npz", type=Path, default=Path(os.environ.get("HHPNET_DEV_LANDMARKS", DEFAULT_NPZ))
    )
    ap.add_argument("--config", type=Path, default=ROOT / "configs" / "hhpnet-mesh-1.0.yaml")
    ap.add_argument("--tag", default="hhpnet-mesh-1.0")
    ap.add_argument("--tags", nargs="*", default=[])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--folds", type=int, nargs="*", default=None)
    ap.add_argument("--num-folds", type=int, default=5)
    ap.add_argument("--set", action="append", help="config override key=json")
    ap.add_argument("--oof", type=Path, default=None, help="report: write held-out readings")
    ap.add_argument("--json", type=Path, default=None, help="report: write the table as JSON")
    ap.add_argument("-o", "--output", type=Path, default=None)
    args = ap.parse_args()
    if not args.npz.is_file():
        print(f"skipped: {args.npz} not present (set --npz or HHPNET_DEV_LANDMARKS)")
        return 0
    if args.command == "run":
        for k in args.folds if args.folds is not None else range(args.num_folds):
            run_fold(k, args)
        return 0
    text = report(args) if args.command == "report" else compare(args)
    print(text)
    if args.output:
        args.output.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
