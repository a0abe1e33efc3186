"""Video benchmark: smoothing quality, end-to-end fps, memory over long runs.

    .venv/bin/python benchmarks/bench_video.py                  # all sections
    .venv/bin/python benchmarks/bench_video.py --section smoothing
    .venv/bin/python benchmarks/bench_video.py --section fps --model hhpnet-1.0
    .venv/bin/python benchmarks/bench_video.py --section memory --minutes 10

* smoothing: synthetic measurement noise of σ degrees (the σ given to the filter) on
  (a) a static head: RMS error and frame-to-frame jitter, smoothed / raw;
  (b) a head turning at 60°/s for 2 s between rests: steady lag (mean error during the turn
  ÷ rate, ms), largest error in the 0.5 s after the start and after the stop, RMS error.
  Averaged over 5 seeds at 30 fps, for several process-noise values.
* fps: a 640×480 mp4 (5 s at 30 fps) of 1 or 4 faces cut from the bundled example photos,
  drifting slowly; ``process_video`` with the default detector, the model, tracking, smoothing,
  interaction and the CSV writer; decoding included.
* fps720: a 1280×720 mp4 (6 s at 30 fps) of the two people of the bundled pair photo drifting
  towards and away from each other; ``hhpnet video``'s processing (default detector ``auto``,
  tracking, smoothing, interaction, timeline CSV) for several variants, each run in a fresh
  process, rounds interleaved: this tree with ``auto``, ``auto --body-every 2/3`` and
  ``blazeface``, and (``--base SRC``) another checkout's ``src`` with ``auto`` — e.g. main,
  ``git worktree add /tmp/hhpnet-main main --detach`` then ``--base /tmp/hhpnet-main/src``.
  Reports frames/s (median over rounds), each variant's ratio to the base's (median of
  per-round ratios), and whether its timeline CSV equals that of this tree's ``auto``.
* timeline-noise: the fps720 clip's interaction timeline with ``auto`` on the clean frames and
  with ±1 grey level of random noise added to every frame (``--seeds`` seeds): the timeline's
  own noise floor; then each variant (``auto --body-every 2/3``, ``auto`` with MoveNet's
  ``trim``) on the clean frames, and whether it stays within that floor: the same intervals
  (kind, pair, order) with every start and end inside the range the noisy runs span.
* memory: a generator source of 4 moving synthetic people (keypoints → the real model, no
  detector) for N minutes of 30 fps video with tracking, smoothing, interaction ("paper"),
  timeline and CSV (run the section alone for clean figures); resident memory (VmRSS)
  after 1 minute and at the end.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

FPS = 30.0


def smoothing_section(sigma: float = 5.0) -> None:
    from hhpnet.video.smoothing import PoseSmoother, wrap180

    n = 300
    t = np.arange(n) / FPS
    print(f"\n## Smoothing (σ = {sigma}° measurement noise, 30 fps, mean of 5 seeds)\n")
    print(
        "| accel_std (deg/s²/√s) | static RMS ratio | static jitter ratio | lag at 60°/s (ms)* "
        "| max err after start (°)* | max err after stop (°)* | turn RMS sm / raw (°) |"
    )
    print("|---|---|---|---|---|---|---|")
    ramp = 60.0 * np.clip(t - 2.0, 0.0, 2.0)  # rest 2 s, turn 120° in 2 s, rest
    for acc in (50.0, 100.0, 200.0, 400.0, 1e4):
        res = []
        for seed in range(5):
            rng = np.random.default_rng(seed)
            row = []
            for truth_yaw in (np.zeros(n), ramp):
                truth = np.zeros((n, 3))
                truth[:, 0] = truth_yaw
                z = truth + rng.normal(0.0, sigma, (n, 3))
                sm = PoseSmoother(accel_std=acc)
                s = np.array(
                    [sm.update([0], z[k : k + 1], [[sigma] * 3], t[k])[0][0] for k in range(n)]
                )
                row.append((z[:, 0], s[:, 0], truth_yaw))
            (zs, ss, ts), (zt, st, tt) = row
            static_rms = np.sqrt(np.mean((ss[30:] - ts[30:]) ** 2)) / np.sqrt(
                np.mean((zs[30:] - ts[30:]) ** 2)
            )
            jitter = np.std(np.diff(ss[30:])) / np.std(np.diff(zs[30:]))
            err = wrap180(tt - st)
            rms = np.sqrt(np.mean(err[30:] ** 2))
            # lag and overshoot: the filter's response to noise-free measurements (same σ given)
            sm = PoseSmoother(accel_std=acc)
            clean = np.stack([ramp, np.zeros(n), np.zeros(n)], 1)
            sc = np.array(
                [sm.update([0], clean[k : k + 1], [[sigma] * 3], t[k])[0][0] for k in range(n)]
            )
            e0 = wrap180(ramp - sc[:, 0])
            during = (t > 3.0) & (t < 4.0)
            lag_ms = np.mean(e0[during]) / 60.0 * 1000.0
            after_start = np.abs(e0[(t >= 2.0) & (t < 2.5)]).max()
            after_stop = np.abs(e0[(t >= 4.0) & (t < 4.5)]).max()
            rms_raw = np.sqrt(np.mean(wrap180(tt - zt)[30:] ** 2))
            res.append((static_rms, jitter, lag_ms, after_start, after_stop, rms, rms_raw))
        m = np.mean(res, axis=0)
        label = "1e4 (≈ no smoothing)" if acc >= 1e4 else f"{acc:g}"
        print(
            f"| {label} | {m[0]:.2f} | {m[1]:.2f} | {m[2]:.1f} | {m[3]:.1f} | {m[4]:.1f} "
            f"| {m[5]:.2f} / {m[6]:.2f} |"
        )
    print(
        "\n*: response to noise-free measurements (σ still given to the filter): turn of 120° at "
        "60°/s starting at t = 2 s; lag = mean error over t = 3–4 s ÷ 60°/s."
    )


def _scene_video(path: str, n_people: int, seconds: float = 5.0) -> str:
    import cv2

    from hhpnet.samples import face_crops

    crops = face_crops(150, ("astronaut.jpg", "grace_hopper.jpg", "camera.jpg"))
    size = crops[0].shape[0]
    slots = [(60, 60), (400, 60), (60, 270), (400, 270)]
    writer = cv2.VideoWriter(path, cv2.VideoWriter.fourcc(*"mp4v"), FPS, (640, 480))
    for k in range(int(seconds * FPS)):
        img = np.full((480, 640, 3), 90, np.uint8)
        img[:, :, 1] = 110
        for p in range(n_people):
            x0, y0 = slots[p]
            dx = int(40 * np.sin(2 * np.pi * k / 150 + p))
            dy = int(20 * np.cos(2 * np.pi * k / 150 + p))
            crop = crops[p % len(crops)]
            img[y0 + dy + 30 : y0 + dy + 30 + size, x0 + dx + 40 : x0 + dx + 40 + size] = crop
        writer.write(img)
    writer.release()
    return path


def fps_section(model: str) -> None:
    from hhpnet.pipeline import HeadPoseEstimator
    from hhpnet.video import process_video

    print(f"\n## End-to-end fps, 640×480 mp4, 150 frames, model {model}, detector blazeface\n")
    print("| people in the scene | mean people found / frame | fps (median of 3) | ms / frame |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for n in (1, 4):
            path = _scene_video(os.path.join(tmp, f"s{n}.mp4"), n)
            est = HeadPoseEstimator(model=model)
            est(np.zeros((480, 640, 3), np.uint8))  # load detector and model outside timing
            runs = []
            for r in range(3):
                s = process_video(path, est, csv=os.path.join(tmp, f"s{n}_{r}.csv"), progress=False)
                runs.append((s.fps, s.rows / max(s.frames, 1)))
            fps = float(np.median([x[0] for x in runs]))
            print(f"| {n} | {runs[0][1]:.2f} | {fps:.1f} | {1000 / fps:.1f} |")


def pair_clip_720p(path: str, seconds: float = 6.0) -> str:
    """1280×720 mp4: the camera man and Grace Hopper of ``pair_640x480.jpg`` (its two halves,
    scaled 1.2×) drifting horizontally towards and away from each other, bobbing a little."""
    import cv2

    import hhpnet

    pair = cv2.imread(str(Path(hhpnet.__file__).parent / "examples" / "pair_640x480.jpg"))
    halves = [cv2.resize(pair[:, x : x + 320], (384, 576)) for x in (0, 320)]
    writer = cv2.VideoWriter(path, cv2.VideoWriter.fourcc(*"mp4v"), FPS, (1280, 720))
    for k in range(int(seconds * FPS)):
        img = np.full((720, 1280, 3), 70, np.uint8)
        img[:, :, 0] = 95
        phase = 2 * np.pi * k / (3 * FPS)
        gap = int(80 * np.sin(phase))  # towards and away from each other
        for p, half in enumerate(halves):
            x0 = (100 + gap if p == 0 else 800 - gap) + int(10 * np.sin(phase * 2 + p))
            y0 = 72 + int(12 * np.cos(phase * 1.5 + p))
            img[y0 : y0 + 576, x0 : x0 + 384] = half
        writer.write(img)
    writer.release()
    return path


_FPS720_CHILD = """
import json, sys, tempfile, os
sys.path.insert(0, sys.argv[1])
from hhpnet.pipeline import HeadPoseEstimator
from hhpnet.video import process_video
import numpy as np
clip, model, detector, every = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
est = HeadPoseEstimator(model=model, detector=detector)
est(np.zeros((720, 1280, 3), np.uint8))  # load the models outside the timing
kw = {"body_every": every} if every > 1 else {}
with tempfile.TemporaryDirectory() as tmp:
    tl = os.path.join(tmp, "t.csv")
    s = process_video(clip, est, csv=os.path.join(tmp, "p.csv"), timeline_csv=tl,
                      progress=False, **kw)
    print(json.dumps({"fps": s.fps, "frames": s.frames, "rows": s.rows,
                      "timeline": open(tl).read(), "hhpnet": __import__("hhpnet").__file__}))
"""


def fps720_section(model: str, base: str | None, rounds: int) -> None:
    import json
    import subprocess

    src = str(Path(__file__).resolve().parents[1] / "src")
    variants = [("auto", src, "auto", 1)]
    if base:
        variants.insert(0, ("auto (base)", base, "auto", 1))
    variants += [
        ("auto --body-every 2", src, "auto", 2),
        ("auto --body-every 3", src, "auto", 3),
        ("blazeface", src, "blazeface", 1),
    ]
    env = dict(os.environ, PYTHONPATH="")
    with tempfile.TemporaryDirectory() as tmp:
        clip = pair_clip_720p(os.path.join(tmp, "pair720.mp4"))
        res: dict[str, list[dict]] = {v[0]: [] for v in variants}
        for _ in range(rounds):
            for label, root, det, every in variants:
                out = subprocess.run(
                    [sys.executable, "-c", _FPS720_CHILD, root, clip, model, det, str(every)],
                    capture_output=True, text=True, env=env, check=True,
                )  # fmt: skip
                res[label].append(json.loads(out.stdout.strip().splitlines()[-1]))
    ref_label = variants[0][0]
    ours = res["auto"][0]["timeline"]
    print(f"\n## hhpnet video, 1280×720, 2 people, {rounds} interleaved rounds, model {model}\n")
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    print("| variant | frames/s (median) | × frames/s of " + ref_label + " | rows | "
          "timeline = this tree's auto |")  # fmt: skip
    print("|---|---|---|---|---|")
    for label, runs in res.items():
        fps = float(np.median([r["fps"] for r in runs]))
        ratio = float(
            np.median([r["fps"] / b["fps"] for r, b in zip(runs, res[ref_label], strict=True)])
        )
        same = all(r["timeline"] == ours for r in runs)
        print(f"| {label} | {fps:.1f} | {ratio:.2f} | {runs[0]['rows']} | {same} |")


def _timeline(frames: list, est, **kw) -> list[tuple]:  # type: ignore[type-arg]
    from hhpnet.video import process_video

    s = process_video(iter(frames), est, fps=FPS, progress=False, **kw)
    return [
        (i.kind, i.a, i.b, round(i.start_s, 3), round(i.end_s, 3)) for i in s.timeline.intervals
    ]


def timeline_noise_section(model: str, seeds: int) -> None:
    import cv2

    from hhpnet.detectors.fused import FusedDetector
    from hhpnet.pipeline import HeadPoseEstimator

    with tempfile.TemporaryDirectory() as tmp:
        cap = cv2.VideoCapture(pair_clip_720p(os.path.join(tmp, "pair720.mp4")))
        frames = []
        while True:
            ok, f = cap.read()
            if not ok:
                break
            frames.append(f)
    est = HeadPoseEstimator(model=model, detector="auto")
    ref = _timeline(frames, est)
    runs = [ref]
    print(f"\n## Timeline noise floor, 720p pair clip ({len(frames)} frames), model {model}\n")
    print(f"- clean: {ref}")
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        noisy = [
            np.clip(f.astype(np.int16) + rng.integers(-1, 2, f.shape), 0, 255).astype(np.uint8)
            for f in frames
        ]
        runs.append(_timeline(noisy, est))
        print(f"- ±1 grey level, seed {seed}: {runs[-1]}")
    same = all([iv[:3] for iv in r] == [iv[:3] for iv in ref] for r in runs)
    lo = np.min([[iv[3:] for iv in r] for r in runs], axis=0) if same else None
    hi = np.max([[iv[3:] for iv in r] for r in runs], axis=0) if same else None
    spread = None if lo is None or hi is None else list(zip(lo, hi, strict=True))
    print(f"- spread (start, end) per interval: {spread}")
    trimmed = HeadPoseEstimator(model=model, detector=FusedDetector(body={"trim": True}))
    variants = {
        "auto --body-every 2": (est, {"body_every": 2}),
        "auto --body-every 3": (est, {"body_every": 3}),
        "auto, MoveNet trim": (trimmed, {}),
    }
    print("\n| variant | intervals | within the noise floor |\n|---|---|---|")
    for name, (e, kw) in variants.items():
        tl = _timeline(frames, e, **kw)
        ok = (
            lo is not None
            and [iv[:3] for iv in tl] == [iv[:3] for iv in ref]
            and bool((np.array([iv[3:] for iv in tl]) >= lo - 1e-6).all())
            and bool((np.array([iv[3:] for iv in tl]) <= hi + 1e-6).all())
        )
        print(f"| {name} | {tl} | {ok} |")


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def memory_section(model: str, minutes: float) -> None:
    import resource

    from hhpnet.pipeline import HeadPoseEstimator
    from hhpnet.video import process_video

    est = HeadPoseEstimator(model=model, detector=None)
    frames = int(minutes * 60 * FPS)
    base = np.array(
        [[0, 8, 1.0], [8, 0, 1.0], [-8, 0, 1.0], [20, 6, 1.0], [-20, 6, 1.0]], np.float32
    )
    marks: dict[str, float] = {}

    def estimator(image: np.ndarray):
        k = estimator.k  # type: ignore[attr-defined]
        estimator.k += 1  # type: ignore[attr-defined]
        kp = np.repeat(base[None], 4, 0)
        centres = np.array([[100, 100], [500, 100], [100, 380], [500, 380]], np.float32)
        centres += 30 * np.sin(k / 90 + np.arange(4))[:, None]
        kp[:, :, :2] += centres[:, None, :]
        kp[:, 0, 0] += 17 * np.sin(k / 45 + np.arange(4))  # heads turning side to side
        return est.from_keypoints(kp, layout="hhpnet5", image_size=(640, 480))

    estimator.k = 0  # type: ignore[attr-defined]
    img = np.zeros((48, 64, 3), np.uint8)

    def on_frame(r) -> None:
        if r.index == int(60 * FPS) - 1:
            marks["1 min"] = _rss_mb()

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        s = process_video(
            (img for _ in range(frames)),
            estimator,
            csv=os.path.join(tmp, "m.csv"),
            progress=False,
            on_frame=on_frame,
            interaction_method="paper",  # 2-D gaze: these flat synthetic heads do interact
        )
        marks[f"{minutes:g} min"] = _rss_mb()
        dt = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"\n## Memory over a long run (4 people, no detector, model {model})\n")
    print(
        f"{s.frames} frames ({minutes:g} min of 30 fps video) in {dt:.1f} s, "
        f"{len(s.timeline.intervals)} timeline intervals, {s.rows} CSV rows"
    )
    for k, v in marks.items():
        print(f"- resident memory after {k}: {v:.1f} MiB")
    print(f"- peak resident memory of the process: {peak:.1f} MiB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--section",
        choices=("smoothing", "fps", "fps720", "timeline-noise", "memory"),
        action="append",
    )
    ap.add_argument("--seeds", type=int, default=6, help="timeline-noise: noise seeds")
    ap.add_argument("--base", default=None, help="fps720: src folder of a checkout to compare")
    ap.add_argument("--rounds", type=int, default=3, help="fps720: interleaved rounds")
    ap.add_argument("--model", default=None, help="model name (default: best installed)")
    ap.add_argument("--minutes", type=float, default=10.0)
    args = ap.parse_args()
    model = args.model
    if model is None:
        wdir = Path(__file__).resolve().parents[1] / "src" / "hhpnet" / "weights"
        names = ("hhpnet-1.0", "hhpnet-0.6", "hhpnet-0.2")
        model = next((m for m in names if (wdir / f"{m}.safetensors").exists()), "hhpnet-1.0")
    sections = args.section or ["smoothing", "fps", "memory"]
    print(
        f"# bench_video — {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs visible, "
        f"python {sys.version.split()[0]}"
    )
    if "smoothing" in sections:
        smoothing_section()
    if "fps" in sections:
        fps_section(model)
    if "fps720" in sections:
        fps720_section(model, args.base, args.rounds)
    if "timeline-noise" in sections:
        timeline_noise_section(model, args.seeds)
    if "memory" in sections:
        memory_section(model, args.minutes)


if __name__ == "__main__":
    main()
