"""Benchmark of ``hhpnet batch`` (Ray): throughput against one ``hhpnet video`` process,
scheduling overhead per input, worker memory over a long input, per-core cost of each stage.

    .venv/bin/python benchmarks/bench_batch.py --section throughput --repeats 3
    .venv/bin/python benchmarks/bench_batch.py --section throughput --size 1280x720
    .venv/bin/python benchmarks/bench_batch.py --section overhead --inputs 40
    .venv/bin/python benchmarks/bench_batch.py --section memory --minutes 10
    .venv/bin/python benchmarks/bench_batch.py --section stages --size 1280x720

* throughput: ``--videos`` clips of ``--seconds`` s at 30 fps (two faces cut from the bundled
  example photos drifting over a plain background; mp4v, or H.264 when an ``ffmpeg`` with libx264
  is on PATH). A = one ``hhpnet video`` process over all clips (CSV + Parquet + timeline, the
  default 2 detector threads); B = ``hhpnet batch`` with ``--workers`` (default 2) on a fresh
  local Ray instance. Both are timed as whole commands (process start, model loading, Ray
  start-up and shut-down included), interleaved A/B ``--repeats`` times; the median ratio is
  reported, and B's processing phase without the Ray start-up as well.
* overhead: ``--inputs`` tiny clips (3 frames, 320×240). The same per-input work is timed in
  one process (``process_video`` with the batch's outputs), then through ``run_batch`` on an
  already running Ray instance with one worker; overhead per input = (batch − in-process) / N.
* memory: one clip of ``--minutes`` minutes processed by ``hhpnet batch`` (1 worker); the
  worker's resident memory sampled every minute of video (recorded in the input's record).
* stages: per-core cost of decoding, detection and everything else for one clip, on one core
  (detector with 1 thread, OpenCV with 1 thread).

Check the load first (``uptime``): the machine is shared; the figures are wall-clock times.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "src" / "hhpnet" / "examples"
HHPNET = [sys.executable, "-m", "hhpnet.cli"]
FPS = 30.0


def make_clip(path: str, seconds: float, size: tuple[int, int], seed: int = 0) -> str:
    """Two faces drifting over a plain background (mp4v; H.264 if ffmpeg+libx264 exists)."""
    import cv2

    from hhpnet.samples import face_crops

    w, h = size
    crops = face_crops(int(h * 0.32), mirrored=False)
    s = crops[0].shape[0]
    raw = path if not _have_x264() else path + ".mp4v.mp4"
    writer = cv2.VideoWriter(raw, cv2.VideoWriter.fourcc(*"mp4v"), FPS, (w, h))
    rng = np.random.default_rng(seed)
    phase = rng.uniform(0, 2 * np.pi, 2)
    slots = [(int(0.12 * w), int(0.3 * h)), (int(0.58 * w), int(0.3 * h))]
    for k in range(int(seconds * FPS)):
        img = np.full((h, w, 3), 90, np.uint8)
        img[:, :, 1] = 110
        for p, (x0, y0) in enumerate(slots):
            dx = int(0.05 * w * np.sin(2 * np.pi * k / 150 + phase[p]))
            dy = int(0.04 * h * np.cos(2 * np.pi * k / 170 + phase[p]))
            img[y0 + dy : y0 + dy + s, x0 + dx : x0 + dx + s] = crops[p]
        writer.write(img)
    writer.release()
    if raw != path:
        subprocess.run(
            [
                "ffmpeg",
                "-loglevel",
                "error",
                "-y",
                "-i",
                raw,
                "-c:v",
                "libx264",
                "-preset",
                "medium",
                "-crf",
                "23",
                "-pix_fmt",
                "yuv420p",
                path,
            ],
            check=True,
        )
        os.remove(raw)
    return path


def _have_x264() -> bool:
    if os.environ.get("BENCH_NO_X264") or shutil.which("ffmpeg") is None:
        return False
    out = subprocess.run(["ffmpeg", "-hide_banner", "-encoders"], capture_output=True, text=True)
    return "libx264" in out.stdout


def _codec() -> str:
    return "H.264 (libx264, crf 23)" if _have_x264() else "MPEG-4 part 2 (mp4v)"


def _load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def _run(cmd: list[str]) -> tuple[float, str, float]:
    """Run a command; (wall seconds, its stderr, CPU seconds of it and its reaped children)."""
    import resource

    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:6])}… failed ({p.returncode}):\n{p.stderr[-2000:]}")
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return dt, p.stderr, cpu


def throughput_section(args: argparse.Namespace) -> None:
    size = tuple(int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        clips = Path(tmp) / "clips"
        clips.mkdir()
        for i in range(args.videos):
            make_clip(str(clips / f"clip{i}.mp4"), args.seconds, size, seed=i)  # type: ignore[arg-type]
        frames = int(args.videos * args.seconds * FPS)
        print(
            f"\n## Throughput: {args.videos} clips × {args.seconds:g} s, {args.size}, "
            f"{_codec()}, 2 faces ({frames} frames)\n"
        )
        print(f"before: {_load()}")
        rows = []
        for r in range(args.repeats):
            a_out = Path(tmp) / f"a{r}"
            a_cmd = [
                *HHPNET,
                "video",
                *sorted(map(str, clips.glob("*.mp4"))),
                "--no-progress",
                "--csv",
                str(a_out / "p.csv"),
                "--parquet",
                str(a_out / "p.parquet"),
                "--timeline-csv",
                str(a_out / "t.csv"),
            ]
            b_cmd = [
                *HHPNET,
                "batch",
                str(clips),
                "--out",
                str(Path(tmp) / f"b{r}"),
                "--no-progress",
                "--workers",
                str(args.workers),
                "--num-cpus",
                str(args.workers),
            ]
            order = [("A", a_cmd), ("B", b_cmd)] if r % 2 == 0 else [("B", b_cmd), ("A", a_cmd)]
            got = {}
            for label, cmd in order:
                got[label] = _run(cmd)
            a_s, _, a_cpu = got["A"]
            b_s, b_err, _ = got["B"]
            recs = (Path(tmp) / f"b{r}" / "_batch" / "records").glob("*.json")
            b_cpu = sum(json.loads(p.read_text())["cpu_s"] for p in recs)
            m = re.search(r"started in ([0-9.]+) s", b_err)
            ray_s = float(m.group(1)) if m else float("nan")
            rows.append((a_s, b_s, ray_s, a_cpu, b_cpu))
            print(
                f"repeat {r + 1}: A {a_s:.1f} s ({frames / a_s:.0f} fps, CPU {a_cpu:.1f} s), "
                f"B {b_s:.1f} s ({frames / b_s:.0f} fps; Ray start {ray_s:.1f} s; tasks' CPU "
                f"{b_cpu:.1f} s), A/B {a_s / b_s:.2f}, {_load()}"
            )
        a_m = statistics.median(x[0] for x in rows)
        b_m = statistics.median(x[1] for x in rows)
        ratio = statistics.median(x[0] / x[1] for x in rows)
        ratio_proc = statistics.median(x[0] / (x[1] - x[2]) for x in rows)
        a_cpu = statistics.median(x[3] for x in rows)
        b_cpu = statistics.median(x[4] for x in rows)
        print(
            f"\n| run | wall (median of {args.repeats}) | frames/s |\n|---|---|---|\n"
            f"| A: one `hhpnet video` process | {a_m:.1f} s | {frames / a_m:.0f} |\n"
            f"| B: `hhpnet batch --workers {args.workers}` | {b_m:.1f} s | {frames / b_m:.0f} |\n"
            f"\nthroughput B / A = {ratio:.2f} (whole commands); "
            f"{ratio_proc:.2f} without B's Ray start-up\n"
            f"CPU time (median): A {a_cpu:.1f} s = {1000 * a_cpu / frames:.2f} ms/frame, "
            f"B {b_cpu:.1f} s = {1000 * b_cpu / frames:.2f} ms/frame (A: the whole process; "
            f"B: the tasks in the workers, Ray's own processes not included)"
        )


def overhead_section(args: argparse.Namespace) -> None:
    from hhpnet.batch import BatchOptions, run_batch, start_ray
    from hhpnet.pipeline import HeadPoseEstimator
    from hhpnet.video import process_video

    n = args.inputs
    with tempfile.TemporaryDirectory() as tmp:
        clips = Path(tmp) / "clips"
        clips.mkdir()
        first = make_clip(str(clips / "c000.mp4"), 3 / FPS, (320, 240))
        for i in range(1, n):
            shutil.copy(first, clips / f"c{i:03d}.mp4")
        print(f"\n## Scheduling overhead: {n} inputs of 3 frames (320×240)\n")
        print(f"before: {_load()}")
        start_ray(num_cpus=2)
        est = HeadPoseEstimator(num_threads=1)
        est(np.zeros((240, 320, 3), np.uint8))
        results = []
        for r in range(args.repeats):
            t0 = time.perf_counter()
            for i, clip in enumerate(sorted(clips.glob("*.mp4"))):
                d = Path(tmp) / f"inproc{r}" / str(i)
                process_video(
                    str(clip),
                    est,
                    csv=d / "poses.csv",
                    parquet=d / "part-0.parquet",
                    timeline_csv=d / "timeline.csv",
                    progress=False,
                )
            t_in = time.perf_counter() - t0
            rep = run_batch(
                [str(clips)],
                Path(tmp) / f"batch{r}",
                BatchOptions(workers=1, progress=False),
                log=lambda s: None,
            )
            assert rep.exit_code == 0
            t_b = rep.elapsed_s
            results.append((t_in, t_b))
            print(
                f"repeat {r + 1}: in-process {t_in:.2f} s ({1000 * t_in / n:.0f} ms/input), "
                f"batch with 1 worker {t_b:.2f} s ({1000 * t_b / n:.0f} ms/input), "
                f"overhead {1000 * (t_b - t_in) / n:.0f} ms/input; {_load()}"
            )
        over = statistics.median((b - a) / n for a, b in results)
        print(f"\noverhead per input (median of {args.repeats}): {1000 * over:.0f} ms")


def memory_section(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        clip = str(Path(tmp) / "long.mp4")
        t0 = time.perf_counter()
        make_clip(clip, args.minutes * 60, (640, 480))
        print(f"\n## Worker memory over one {args.minutes:g}-minute 640×480 input ({_codec()})\n")
        print(f"clip written in {time.perf_counter() - t0:.0f} s; before: {_load()}")
        out = Path(tmp) / "out"
        dt, _, _ = _run(
            [*HHPNET, "batch", clip, "--out", str(out), "--no-progress", "--workers", "1"]
        )
        rec = json.loads((out / "_batch" / "records" / "long.json").read_text())
        print(f"{rec['frames']} frames in {dt:.0f} s ({rec['fps']:.0f} fps in the worker)\n")
        print("| video time | worker RSS (MiB) |\n|---|---|")
        for t, mib in rec["rss_mib"]:
            print(f"| {t / 60:.1f} min | {mib:.1f} |")


def stages_section(args: argparse.Namespace) -> None:
    import cv2

    from hhpnet.pipeline import HeadPoseEstimator
    from hhpnet.video import VideoFileReader, process_video

    cv2.setNumThreads(1)
    size = tuple(int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        clip = make_clip(str(Path(tmp) / "c.mp4"), args.seconds, size)  # type: ignore[arg-type]
        est = HeadPoseEstimator(num_threads=1)
        est(np.zeros((size[1], size[0], 3), np.uint8))
        print(f"\n## Per-core stage costs, {args.size}, {_codec()}, 2 faces, one thread\n")
        print(f"before: {_load()}")
        wall: dict[str, list[float]] = {"decode": [], "detect": [], "total": []}
        cpu: dict[str, list[float]] = {"decode": [], "detect": [], "total": []}

        def timed(key: str, fn: Any, *fn_args: Any) -> Any:
            t0, c0 = time.perf_counter(), time.process_time()
            out = fn(*fn_args)
            wall[key].append((time.perf_counter() - t0) / n)
            cpu[key].append((time.process_time() - c0) / n)
            return out

        def decode_all(path: str) -> list[np.ndarray]:
            reader = VideoFileReader(path)
            frames = []
            while (f := reader.read()) is not None:
                frames.append(f.image)
            reader.close()
            return frames

        def detect_all(det: Any, frames: list[np.ndarray]) -> None:
            for im in frames:
                det(np.ascontiguousarray(im[..., ::-1]))

        def run_all(path: str) -> Any:
            return process_video(
                path,
                est,
                csv=Path(tmp) / "p.csv",
                parquet=Path(tmp) / "p.parquet",
                timeline_csv=Path(tmp) / "t.csv",
                progress=False,
            )

        n = int(args.seconds * FPS)
        for _ in range(args.repeats):
            frames = timed("decode", decode_all, clip)
            timed("detect", detect_all, est.detector, frames)
            timed("total", run_all, clip)
        print(f"after: {_load()}\n")
        w = {k: 1000 * statistics.median(v) for k, v in wall.items()}
        c = {k: 1000 * statistics.median(v) for k, v in cpu.items()}
        print(
            f"| stage | CPU ms / frame | wall ms / frame (median of {args.repeats}) |\n"
            "|---|---|---|\n"
            f"| decode (OpenCV/FFmpeg) | {c['decode']:.2f} | {w['decode']:.2f} |\n"
            f"| detector (BlazeFace: colour conversion, resize, network, decoding of boxes) "
            f"| {c['detect']:.2f} | {w['detect']:.2f} |\n"
            f"| rest (pose model, tracking, smoothing, interaction, CSV/Parquet/timeline) "
            f"| {c['total'] - c['decode'] - c['detect']:.2f} "
            f"| {w['total'] - w['decode'] - w['detect']:.2f} |\n"
            f"| **total** | **{c['total']:.2f}** ({1000 / c['total']:.0f} frames per CPU-second) "
            f"| {w['total']:.2f} |"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--section", choices=["throughput", "overhead", "memory", "stages"], required=True
    )
    ap.add_argument("--videos", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--size", default="640x480")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--inputs", type=int, default=40)
    ap.add_argument("--minutes", type=float, default=10.0)
    args = ap.parse_args()
    {
        "throughput": throughput_section,
        "overhead": overhead_section,
        "memory": memory_section,
        "stages": stages_section,
    }[args.section](args)


if __name__ == "__main__":
    main()
