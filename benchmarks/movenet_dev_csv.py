"""MoveNet's head keypoints on the real dev photos: what the generator must model, and which
detector's keypoints give better head poses when BlazeFace and MoveNet see the same face.

Reads ``../shared/data/aflw2000-dev-keypoints.csv`` (non-commercial research data: read in place,
never copied; see its README) and prints markdown tables only — aggregate figures, no rows::

    .venv/bin/python benchmarks/movenet_dev_csv.py [--csv PATH] [--model hhpnet-1.0]

1. MoveNet point scores by |yaw| bin, near side vs far side (the far side is the subject's
   right when yaw > 0: the nose turns towards the image's left, the right cheek away).
2. Where the far-side eye and ear land on turned heads, in units of the near-eye → nose
   distance along the image x axis from the near eye (0 = near eye, 1 = nose, > 1 = beyond the
   nose, i.e. on the far side of the face), and how often their order is swapped.
3. Left/right swaps on near-frontal faces (|yaw| < 30: MoveNet's left eye on the image's left).
4. MoveNet vs BlazeFace point positions (same photo), in eye distances.
5. Head-pose MAE with the model and with solvePnP from each source's points, on the photos both
   detectors found, by |yaw| bin, and candidate rules of the fused detector (which keypoints
   win when both see the same head): BlazeFace, MoveNet, or the one the model is surer of (the
   smaller predicted σ).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

from hhpnet.keypoints import blazeface_confidence
from hhpnet.model import load_model
from hhpnet.training.baseline import solve_pnp
from hhpnet.training.evaluate import angle_errors

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CSV = ROOT.parent / "shared" / "data" / "aflw2000-dev-keypoints.csv"
POINTS = ("nose", "left_eye", "right_eye", "left_ear", "right_ear")
BF6 = ("right_eye", "left_eye", "nose", "mouth", "right_ear", "left_ear")
BINS = ((0, 30), (30, 60), (60, 91))


def load(path: Path) -> dict[str, np.ndarray]:
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))

    def col(name: str) -> np.ndarray:
        return np.array([float(r[name]) if r[name] != "" else np.nan for r in rows])

    out = {k: col(k) for k in ("width", "height", "yaw", "pitch", "roll", "bf_score", "mn_score")}
    out["mn"] = np.stack(
        [np.stack([col(f"mn_{p}_x"), col(f"mn_{p}_y"), col(f"mn_{p}_score")], 1) for p in POINTS],
        axis=1,
    )
    bf6 = np.stack([np.stack([col(f"bf_{p}_x"), col(f"bf_{p}_y")], 1) for p in BF6], axis=1)
    out["bf_xy"] = bf6[:, [2, 1, 0, 5, 4]]
    return out


def binned(values: np.ndarray, ayaw: np.ndarray, fn=np.nanmean) -> list[str]:  # type: ignore[no-untyped-def]
    return [f"{fn(values[(ayaw >= a) & (ayaw < b)]):.2f}" for a, b in BINS]


def table(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    ap.add_argument("--model", default="hhpnet-1.0")
    args = ap.parse_args()
    if not args.csv.is_file():
        raise SystemExit(f"{args.csv} not found (the dev keypoint file lives in shared/data)")
    d = load(args.csv)
    yaw, ayaw = d["yaw"], np.abs(d["yaw"])
    labels = np.stack([d["yaw"], d["pitch"], d["roll"]], 1)
    mn = d["mn"]
    has_mn = ~np.isnan(d["mn_score"])
    has_bf = ~np.isnan(d["bf_score"])
    n_bin = [int(((ayaw >= a) & (ayaw < b)).sum()) for a, b in BINS]
    n_mn = [int((has_mn & (ayaw >= a) & (ayaw < b)).sum()) for a, b in BINS]
    n_bf = [int((has_bf & (ayaw >= a) & (ayaw < b)).sum()) for a, b in BINS]
    print(f"photos {len(yaw)}; per |yaw| bin 0-30/30-60/60-90: {n_bin}")
    print(f"MoveNet found (score >= 0.1): {int(has_mn.sum())} {n_mn}; BlazeFace {n_bf}\n")

    ms = d["mn_score"]
    print("## MoveNet person score by |yaw| bin (found photos): mean / 10th percentile\n")
    print(
        table(
            ["", "0-30", "30-60", "60-90"],
            [
                ["mean", *binned(ms, ayaw)],
                ["p10", *binned(ms, ayaw, lambda v: np.nanpercentile(v, 10))],
                ["share < 0.25", *binned((ms < 0.25).astype(float)[has_mn], ayaw[has_mn])],
            ],
        )
    )

    # near/far by the label's yaw sign: yaw > 0 → the subject's right side is far
    far_right = yaw > 0
    sc = mn[..., 2]
    near_eye = np.where(far_right, sc[:, 1], sc[:, 2])
    far_eye = np.where(far_right, sc[:, 2], sc[:, 1])
    near_ear = np.where(far_right, sc[:, 3], sc[:, 4])
    far_ear = np.where(far_right, sc[:, 4], sc[:, 3])
    print("\n## MoveNet point scores by |yaw| bin: mean (10th / 50th / 90th percentile)\n")
    rows = []
    for name, v in (
        ("nose", sc[:, 0]),
        ("near eye", near_eye),
        ("far eye", far_eye),
        ("near ear", near_ear),
        ("far ear", far_ear),
    ):
        cells = []
        for a, b in BINS:
            m = has_mn & (ayaw >= a) & (ayaw < b)
            q = np.percentile(v[m], [10, 50, 90])
            cells.append(f"{v[m].mean():.2f} ({q[0]:.2f} / {q[1]:.2f} / {q[2]:.2f})")
        rows.append([name, *cells])
    print(table(["point", "0-30", "30-60", "60-90"], rows))
    print("\nShare of points below a score threshold (would be reported missing):\n")
    rows = []
    for thr in (0.1, 0.2, 0.3):
        for name, v in (("far eye", far_eye), ("far ear", far_ear), ("nose", sc[:, 0])):
            cells = []
            for a, b in BINS:
                m = has_mn & (ayaw >= a) & (ayaw < b)
                cells.append(f"{(v[m] < thr).mean() * 100:.0f} %")
            rows.append([f"{name} < {thr}", *cells])
    print(table(["", "0-30", "30-60", "60-90"], rows))

    # far-side placement along x from the near eye towards the nose (turned heads)
    x = mn[..., 0]
    nx, ne_x = x[:, 0], np.where(far_right, x[:, 1], x[:, 2])
    fe_x = np.where(far_right, x[:, 2], x[:, 1])
    nr_x = np.where(far_right, x[:, 3], x[:, 4])
    fr_x = np.where(far_right, x[:, 4], x[:, 3])
    unit = nx - ne_x
    ok = has_mn & (np.abs(unit) > 1.0)
    print("\n## Far-side placement (x from the near eye, in near-eye → nose units)\n")
    print(
        "0 = at the near eye, 1 = at the nose, > 1 beyond the nose (towards the far cheek); the "
        "near ear for reference (negative = behind the near eye). Median (10th / 90th pct).\n"
    )
    rows = []
    for name, px in (("far eye", fe_x), ("far ear", fr_x), ("near ear", nr_x)):
        t = (px - ne_x) / np.where(ok, unit, np.nan)
        cells = []
        for a, b in ((15, 30), (30, 45), (45, 60), (60, 75), (75, 91)):
            m = ok & (ayaw >= a) & (ayaw < b)
            q = np.percentile(t[m], [10, 50, 90])
            cells.append(f"{q[1]:.2f} ({q[0]:.2f} / {q[2]:.2f})")
        rows.append([name, *cells])
    print(table(["point", "15-30", "30-45", "45-60", "60-75", "75-90"], rows))
    inside = {}
    for a, b in ((30, 60), (60, 91)):
        m = ok & (ayaw >= a) & (ayaw < b)
        t_ear = (fr_x - ne_x) / np.where(ok, unit, np.nan)
        t_eye = (fe_x - ne_x) / np.where(ok, unit, np.nan)
        inside[(a, b)] = (
            float(np.mean(t_ear[m] < t_eye[m])),
            float(np.mean(t_ear[m] < 1.0)),
            int(m.sum()),
        )
    for (a, b), (before_eye, before_nose, n) in inside.items():
        print(
            f"\n|yaw| {a}-{min(b, 90)} ({n} photos): far ear nearer the near eye than the far "
            f"eye is in {before_eye * 100:.0f} %, on the near-eye side of the nose in "
            f"{before_nose * 100:.0f} %"
        )

    # left/right swaps on near-frontal faces (roll-corrected eye order)
    fr = has_mn & (ayaw < 30)
    r = np.deg2rad(d["roll"])
    dx = mn[:, 1, 0] - mn[:, 2, 0]
    dy = mn[:, 1, 1] - mn[:, 2, 1]
    along = dx * np.cos(r) + dy * np.sin(r)  # left-eye minus right-eye along the rolled x axis
    swapped = along < 0
    print(
        f"\n## Left/right swaps\n\n|yaw| < 30: MoveNet's left eye on the image's left of its "
        f"right eye (swapped) in {int(swapped[fr].sum())} of {int(fr.sum())} photos"
    )
    ex = mn[:, 3, 0] - mn[:, 4, 0]
    ey = mn[:, 3, 1] - mn[:, 4, 1]
    along_ear = ex * np.cos(r) + ey * np.sin(r)
    print(f"ears swapped: {int((along_ear < 0)[fr].sum())} of {int(fr.sum())}")

    # positions vs BlazeFace
    both = has_mn & has_bf
    bfxy = d["bf_xy"]
    eye = np.linalg.norm(bfxy[:, 1] - bfxy[:, 2], axis=1)
    dist = np.linalg.norm(mn[..., :2] - bfxy, axis=-1) / eye[:, None]
    print(
        "\n## MoveNet vs BlazeFace point positions (median distance in BlazeFace eye distances)\n"
    )
    rows = []
    for j, name in enumerate(POINTS):
        rows.append([name, *binned(dist[both, j], ayaw[both], np.nanmedian)])
    print(table(["point", "0-30", "30-60", "60-90"], rows))

    # head pose from each source
    model = load_model(args.model)
    size = np.stack([d["width"], d["height"]], 1)
    bf_kp = np.zeros((len(yaw), 5, 3), np.float32)
    bf_kp[both, :, :2] = bfxy[both]
    bf_kp[both, :, 2] = blazeface_confidence(bfxy[both], d["bf_score"][both])

    def mn_kp(thr: float) -> np.ndarray:
        k = np.nan_to_num(mn.astype(np.float32))
        k[k[..., 2] < max(thr, 1e-6)] = 0.0
        return k

    def run(kp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        out = model.predict(kp[both])
        e = np.full((len(yaw), 3), np.nan)
        s = np.full((len(yaw), 3), np.nan)
        e[both] = angle_errors(out.angles, labels[both])
        s[both] = out.sigma
        e[both & ~np.isin(np.arange(len(yaw)), np.flatnonzero(both)[out.valid])] = np.nan
        return e, s

    def pnp(kp: np.ndarray, head: str) -> np.ndarray:
        ang, _ = solve_pnp(kp[both], size[both], head=head)
        e = np.full((len(yaw), 3), np.nan)
        e[both] = angle_errors(ang, labels[both])
        return e

    e_bf, s_bf = run(bf_kp)
    results = {
        "BlazeFace points, model": e_bf,
        "BlazeFace points, solvePnP": pnp(bf_kp, "blazeface"),
    }
    sig = {}
    for thr in (0.0, 0.1, 0.2, 0.3):
        e, s = run(mn_kp(thr))
        results[f"MoveNet points ≥ {thr}, model"] = e
        sig[thr] = (e, s)
        results[f"MoveNet points ≥ {thr}, solvePnP"] = pnp(mn_kp(thr), "coco")
    e_mn, s_mn = sig[0.2]
    surer = np.where((s_mn.sum(1) < s_bf.sum(1))[:, None], e_mn, e_bf)
    results["fused: smaller model σ (MoveNet ≥ 0.2 vs BlazeFace), model"] = surer
    e_all, _ = sig[0.0]
    bf_yaw = np.full(len(yaw), np.nan)
    bf_yaw[both] = model.predict(bf_kp[both]).yaw
    for cut in (45, 60, 75):
        prof = (np.abs(bf_yaw) >= cut)[:, None]
        results[f"fused: MoveNet points (all) when yaw from BlazeFace ≥ ±{cut}, model"] = np.where(
            prof, e_all, e_bf
        )
    print(
        f"\n## Head-pose MAE on the {int(both.sum())} photos both detectors found ({args.model})\n"
    )
    rows = []
    for name, e in results.items():
        m = both & ~np.isnan(e).any(1)
        cells = [f"{int(m.sum())}", f"{e[m].mean():.2f}"]
        cells += [f"{v:.2f}" for v in e[m].mean(0)]
        cells += binned(np.where(m, np.nanmean(e, 1), np.nan), ayaw)
        rows.append([name, *cells])
    print(
        table(
            ["keypoints, method", "n", "mean", "yaw", "pitch", "roll", "0-30", "30-60", "60-90"],
            rows,
        )
    )
    pick = (s_mn.sum(1) < s_bf.sum(1))[both]
    print(f"\nsmaller-σ rule picks MoveNet on {pick.mean() * 100:.0f} % of those photos")


if __name__ == "__main__":
    main()
