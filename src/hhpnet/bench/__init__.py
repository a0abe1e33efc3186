"""Benchmark harness: machine facts, repeated timings with spread, and a markdown report.

Run as ``hhpnet bench`` (or ``python -m hhpnet.bench``); ``benchmarks/run_all.py`` adds the
competing pipelines to the same run. Every figure is the median over repeated timed blocks with
the interquartile range; comparisons are timed *interleaved* (A, B, C, A, B, C, …) so that load
from other processes hits all candidates alike, and ratios are taken within one run.

Thread counts matter more than anything else for small CPU workloads, so they are pinned
explicitly: :func:`pin_threads` sets ``OMP_NUM_THREADS`` and friends, which only works **before**
numpy is imported — :func:`main` therefore re-executes itself in a fresh interpreter when numpy is
already loaded. onnxruntime, torch and the TFLite detectors get their thread counts as arguments.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from hhpnet.bench.machine import MachineInfo, machine_info, peak_gflops, pose_macs
from hhpnet.bench.pipeline import (
    Candidate,
    cli_suite,
    hhpnet_candidate,
    pipeline_suite,
    startup_times,
)
from hhpnet.bench.posenet import _rss_probe as _rss_probe
from hhpnet.bench.posenet import get_model, posenet_suite
from hhpnet.bench.report import Report
from hhpnet.bench.timing import (
    THREAD_VARS,
    Timing,
    fmt_time,
    measure,
    measure_interleaved,
    pin_threads,
)
from hhpnet.samples import face_tiles, make_scene, synthetic_model

__all__ = [
    "THREAD_VARS",
    "Candidate",
    "MachineInfo",
    "Report",
    "Timing",
    "cli_suite",
    "face_tiles",
    "fmt_time",
    "get_model",
    "hhpnet_candidate",
    "machine_info",
    "main",
    "make_scene",
    "measure",
    "measure_interleaved",
    "peak_gflops",
    "pin_threads",
    "pipeline_suite",
    "pose_macs",
    "posenet_suite",
    "run",
    "startup_times",
    "synthetic_model",
]


# --------------------------------------------------------------------------- entry point
def run(
    *,
    output: Path | None = None,
    quick: bool = False,
    sections: Sequence[str] = ("posenet", "pipeline", "cli", "startup"),
    threads: int = 1,
    pipeline_threads: int = 2,
    extra_candidates: Sequence[Candidate] = (),
    title: str = "hhpnet benchmark",
) -> Report:
    """Run the selected sections and return (and optionally write) the report.

    ``threads``: threads of the pose-network backends (1 = per-core figures);
    ``pipeline_threads``: detector (TFLite) and OpenCV threads of the whole-pipeline section.
    ``extra_candidates`` are timed next to ours in the pipeline section (benchmarks/run_all.py).
    """
    info = machine_info()
    report = Report(title)
    report.data["machine"] = info.to_dict()
    report.heading("Machine")
    report.text(
        "Shared machine: other processes may run at the same time, so absolute times are noisy; "
        "compare the ratios, which are measured interleaved within this run."
    )
    report.table(["item", "value"], [])  # placeholder removed below
    report.parts[-1] = info.markdown() + "\n"
    repeats = 5 if quick else 9
    t0 = time.perf_counter()
    if "posenet" in sections:
        posenet_suite(
            report,
            info,
            batches=(1, 64, 4096),
            names=("hhpnet-1.0",) if quick else ("hhpnet-1.0", "hhpnet-0.6", "hhpnet-0.2"),
            threads=threads,
            repeats=repeats,
            min_time=0.02 if quick else 0.05,
        )
    if "pipeline" in sections:
        min_time = 0.05 if quick else 0.1
        out_dir = output.parent if output is not None else None
        _pipeline_section(
            report, pipeline_threads, extra_candidates, quick, repeats, min_time, out_dir
        )
    if "cli" in sections:
        cli_suite(report, repeats=2 if quick else 3)
    if "startup" in sections:
        _startup_section(report, repeats=3 if quick else 7)
    report.text(
        f"Total benchmark time {time.perf_counter() - t0:.0f} s; load average at the end "
        f"{tuple(round(x, 2) for x in os.getloadavg())}."
    )
    if output is not None:
        report.write(output)
    return report


def _pipeline_section(
    report: Report,
    threads: int,
    extra_candidates: Sequence[Candidate],
    quick: bool,
    repeats: int,
    min_time: float,
    out_dir: Path | None,
) -> None:
    """The whole pipeline: ours with BlazeFace, the default (``auto``) and (not ``quick``)
    BlazePose, and the extra candidates, on scenes of 1 and 6 people."""
    import cv2

    cv2.setNumThreads(threads)
    ours, est = hhpnet_candidate("blazeface", threads=threads)
    # the default pipeline next to BlazeFace alone (its "× time" column is the ratio)
    cands = [ours, hhpnet_candidate("auto", threads=threads)[0]]
    if not quick:
        cands.append(hhpnet_candidate("blazepose", threads=threads)[0])
    cands += list(extra_candidates)
    scenes = {1: make_scene(1), 6: make_scene(6)}
    report.text(f"Detector (TFLite) and OpenCV threads: {threads}; numpy single-threaded.")
    pipeline_suite(
        report, cands, scenes, estimator=est, repeats=repeats, min_time=min_time, out_dir=out_dir
    )


def _startup_section(report: Report, repeats: int) -> None:
    """Wall time of a fresh process per command, median [IQR]."""
    report.heading("Start-up")
    st = startup_times(repeats=repeats)
    report.text("Wall time of a fresh process, median [IQR].")
    report.table(["command", "time"], [[k, v.fmt()] for k, v in st.items()])
    report.data["startup"] = [v.to_dict() for v in st.values()]


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m hhpnet.bench [--quick] [-o report.md] [--threads N] [--sections ...]``.

    Re-executes itself once with the thread variables set before numpy is imported.
    """
    import argparse

    parser = argparse.ArgumentParser(prog="hhpnet bench", description=__doc__)
    parser.add_argument("-o", "--output", type=Path, default=None, help="markdown report path")
    parser.add_argument("--quick", action="store_true", help="α=1.0 only, fewer repeats")
    parser.add_argument("--threads", type=int, default=1, help="pose-network threads")
    parser.add_argument("--pipeline-threads", type=int, default=2, help="detector threads")
    parser.add_argument(
        "--sections",
        nargs="+",
        default=["posenet", "pipeline", "cli", "startup"],
        choices=["posenet", "pipeline", "cli", "startup"],
    )
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    if os.environ.get("HHPNET_BENCH_CHILD") != "1":
        env = dict(os.environ, HHPNET_BENCH_CHILD="1")
        env.update({v: str(args.threads) for v in THREAD_VARS})
        cmd = [sys.executable, "-m", "hhpnet.bench", *(sys.argv[1:] if argv is None else argv)]
        return subprocess.run(cmd, env=env, check=False).returncode
    report = run(
        output=args.output,
        quick=args.quick,
        sections=args.sections,
        threads=args.threads,
        pipeline_threads=args.pipeline_threads,
    )
    print(report.markdown())
    return 0
