"""Who-looks-at-whom accuracy of the interaction methods on simulated 3-D scenes.

Run: ``.venv/bin/python docs/interaction_eval.py [--scenes 2000] [--seed 0]``
(results are quoted in docs/interaction.md). Each scene: 2–6 people standing 1.8–6 m in front
of a pinhole camera (1280 × 720, field of view 50–80°, the analysis assumes 65°); each person
attends to another person with probability 0.7 (head direction = direction to that head turned
away by an eye-in-head offset of |N(0, 7°)|), else looks somewhere at least 25° away from
everybody. The analysis gets noisy poses: yaw and pitch + N(0, σ) with σ_yaw ~ U(2°, 15°),
σ_pitch = 1.3 σ_yaw (σ reported as is — a calibrated model), head sizes × exp(N(0, 0.08)) and
centroids + N(0, 0.05 head sizes).

Scores: *target accuracy* = share of people whose target (or "nobody") is right; precision,
recall and F1 of the directed "i looks at j" decisions and of the mutual pairs.
"""

from __future__ import annotations

import argparse
from collections import defaultdict

import numpy as np

from hhpnet.interaction import analyze, from_arrays, scene_from_3d
from hhpnet.poses import Poses

METHODS = {
    "hhpnet": ("hhpnet", {}),
    "hhpnet depth=none": ("hhpnet", {"depth": "none"}),
    "hhpnet ray_relative=False": ("hhpnet", {"ray_relative": False}),
    "hhpnet depth_noise=0": ("hhpnet", {"depth_noise": 0.0}),
    "paper": ("paper", {}),
    "paper-v1": ("paper-v1", {}),
}


def _rotate_away(d: np.ndarray, angle_deg: float, rng: np.random.Generator) -> np.ndarray:
    """Unit vector at ``angle_deg`` from unit ``d`` in a random direction."""
    tmp = rng.normal(size=3)
    perp = tmp - tmp.dot(d) * d
    perp /= np.linalg.norm(perp)
    a = np.deg2rad(angle_deg)
    return np.cos(a) * d + np.sin(a) * perp


def make_scene(rng: np.random.Generator) -> tuple[Poses, np.ndarray]:
    n = int(rng.integers(2, 7))
    while True:
        pos = np.stack(
            [rng.uniform(-2000, 2000, n), rng.uniform(150, 450, n), rng.uniform(1800, 6000, n)], 1
        )
        d = np.linalg.norm(pos[:, None] - pos[None], axis=-1) + np.eye(n) * 1e9
        if d.min() > 600:
            break
    truth = np.full(n, -1)
    gaze = np.zeros((n, 3))
    for i in range(n):
        dirs = pos - pos[i]
        dirs[i] = np.nan
        unit = dirs / np.linalg.norm(dirs, axis=1, keepdims=True)
        if rng.random() < 0.7:
            j = int(rng.choice([k for k in range(n) if k != i]))
            truth[i] = j
            gaze[i] = _rotate_away(unit[j], abs(rng.normal(0, 7)), rng)
        else:
            for _ in range(100):
                g = rng.normal(size=3) * (1, 0.2, 1)
                g /= np.linalg.norm(g)
                if np.nanmax(unit @ g) < np.cos(np.deg2rad(25)):
                    break
            gaze[i] = g
    fov = rng.uniform(50, 80)
    s = scene_from_3d(pos, gaze, image_size=(1280, 720), fov_deg=fov)
    sig_y = rng.uniform(2, 15, n)
    sigma = np.stack([sig_y, 1.3 * sig_y, sig_y], 1)
    yaw = s.yaw + rng.normal(0, sig_y)
    pitch = np.clip(s.pitch + rng.normal(0, 1.3 * sig_y), -89, 89)
    hs = s.head_size * np.exp(rng.normal(0, 0.08, n))
    cen = s.centroid + rng.normal(0, 0.05, (n, 2)) * hs[:, None]
    noisy = from_arrays(yaw, pitch, cen, hs, sigma, np.ones(n, bool), image_size=(1280, 720))
    return noisy, truth


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / max(tp + fp, 1)
    r = tp / max(tp + fn, 1)
    return p, r, 2 * p * r / max(p + r, 1e-12)


def evaluate(scenes: int, seed: int) -> dict[str, dict[str, float]]:
    rng = np.random.default_rng(seed)
    stats: dict[str, dict[str, int]] = {m: defaultdict(int) for m in METHODS}
    for _ in range(scenes):
        poses, truth = make_scene(rng)
        n = len(truth)
        look_t = np.zeros((n, n), bool)
        look_t[np.arange(n)[truth >= 0], truth[truth >= 0]] = True
        mut_t = look_t & look_t.T
        for name, (method, params) in METHODS.items():
            r = analyze(poses, method=method, **params)
            st = stats[name]
            look = r.attention >= r.params["threshold"]
            mut = np.zeros((n, n), bool)
            for i, j in r.mutual:
                mut[i, j] = mut[j, i] = True
            tgt = np.array([-1 if t is None else t for t in r.targets])
            st["people"] += n
            st["target_ok"] += int((tgt == truth).sum())
            st["tp"] += int((look & look_t).sum())
            st["fp"] += int((look & ~look_t).sum())
            st["fn"] += int((~look & look_t).sum())
            up = np.triu(np.ones((n, n), bool), 1)
            st["mtp"] += int((mut & mut_t & up).sum())
            st["mfp"] += int((mut & ~mut_t & up).sum())
            st["mfn"] += int((~mut & mut_t & up).sum())
    out = {}
    for name, st in stats.items():
        p, r, f = _prf(st["tp"], st["fp"], st["fn"])
        mp, mr, mf = _prf(st["mtp"], st["mfp"], st["mfn"])
        out[name] = {
            "target_acc": st["target_ok"] / st["people"],
            "look_P": p,
            "look_R": r,
            "look_F1": f,
            "mutual_P": mp,
            "mutual_R": mr,
            "mutual_F1": mf,
            "mutual_pairs": st["mtp"] + st["mfn"],
            "people": st["people"],
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenes", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    res = evaluate(args.scenes, args.seed)
    cols = ["target_acc", "look_P", "look_R", "look_F1", "mutual_P", "mutual_R", "mutual_F1"]
    first = next(iter(res.values()))
    print(
        f"{args.scenes} scenes, seed {args.seed}, {first['people']} people, "
        f"{first['mutual_pairs']} true mutual pairs"
    )
    print("| method | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    for name, r in res.items():
        print(f"| {name} | " + " | ".join(f"{r[c]:.3f}" for c in cols) + " |")


if __name__ == "__main__":
    main()
