"""``hhpnet batch INPUTS... --out DIR``: many videos at once on Ray (local, or a cluster).

Every input goes through the same pipeline as ``hhpnet video`` in its own Ray task; see
:mod:`hhpnet.batch` for the output layout, commits and resume. Exit code: 0 when every input is
done, 1 if one failed or was damaged (the others are processed and kept), 130 on Ctrl-C (re-run
the same command to continue), 2 on a usage error (no inputs, bad option, OUT locked by another
run or made with other options, Ray not installed or not reachable).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from hhpnet.commands.options import InteractOpt, PreciseOpt, detector_option, method_option

_Inputs = Annotated[
    list[str],
    typer.Argument(
        metavar="INPUTS...",
        help="Videos/images, folders, globs, http(s) URLs, or manifests "
        "(.txt: one per line; .csv: a 'path' column, optional 'name').",
        show_default=False,
    ),
]
_Out = Annotated[
    Path, typer.Option("--out", "-o", help="Output folder (resumable).", show_default=False)
]
_Address = Annotated[
    str | None, typer.Option(help="Join this Ray cluster (auto or host:port); default: local.")
]
_NumCpus = Annotated[
    int | None, typer.Option(help="CPUs of the local Ray instance (default: all).")
]
_Workers = Annotated[
    int | None, typer.Option(help="Inputs processed at once (default: CPUs ÷ threads).")
]
_Threads = Annotated[int, typer.Option(help="CPUs (detector threads) per input.")]
_Retries = Annotated[int, typer.Option(help="Retries of a task whose worker died or that crashed.")]
_Check = Annotated[
    str, typer.Option(help="Verify finished inputs by 'size' (and mtime) or 'hash' (SHA-256).")
]
_Force = Annotated[bool, typer.Option("--force", help="Redo every input.")]
_Model = Annotated[str, typer.Option(help="Model name or .safetensors path.")]
_KptThr = Annotated[float, typer.Option(help="Keypoints below it are missing.")]
_Json = Annotated[bool, typer.Option("--json", help="Also write poses.jsonl per input.")]
_SaveVideo = Annotated[
    bool, typer.Option("--save-video", help="Also write annotated.mp4 per input.")
]
_TimelinePng = Annotated[
    bool, typer.Option("--timeline-png", help="Also write timeline.png per input.")
]
_Stride = Annotated[int, typer.Option(help="Process every N-th frame.")]
_MaxFrames = Annotated[int | None, typer.Option(help="Stop each input after N frames.")]
_Fps = Annotated[float | None, typer.Option(help="Frame rate of image inputs (default 30).")]
_SmoothAccel = Annotated[
    float | None,
    typer.Option(help="Smoothing process noise, deg/s² per √s (larger = less smoothing)."),
]
_Progress = Annotated[
    bool | None,
    typer.Option("--progress/--no-progress", help="Progress bar (default: on a terminal)."),
]
_RayLogs = Annotated[
    bool, typer.Option("--ray-logs", help="Show Ray's own and the workers' log lines.")
]


def batch(
    inputs: _Inputs,
    out: _Out,
    address: _Address = None,
    num_cpus: _NumCpus = None,
    workers: _Workers = None,
    threads: _Threads = 1,
    retries: _Retries = 2,
    check: _Check = "size",
    force: _Force = False,
    model: _Model = "hhpnet-1.0",
    detector: Annotated[str, detector_option(summaries=False, metavar=None)] = "auto",
    kpt_thr: _KptThr = 0.0,
    precise: PreciseOpt = False,
    interact: InteractOpt = True,
    method: Annotated[str, method_option("Interaction method ({}).")] = "hhpnet",
    json: _Json = False,
    save_video: _SaveVideo = False,
    timeline_png: _TimelinePng = False,
    stride: _Stride = 1,
    max_frames: _MaxFrames = None,
    fps: _Fps = None,
    smooth_accel: _SmoothAccel = None,
    progress: _Progress = None,
    ray_logs: _RayLogs = False,
) -> None:
    """Process many videos on Ray: per-input files, one Parquet dataset, a summary table.

    \f
    The signature is the option list of ``hhpnet batch``; the body hands them on as
    :class:`hhpnet.batch.BatchOptions` (checked by :func:`hhpnet.batch.run_batch`). Text after
    the form feed is not part of ``--help``.
    """
    from hhpnet.batch import BatchOptions, run_batch

    opts = BatchOptions(
        model=model,
        detector=detector,
        kpt_thr=kpt_thr,
        interact=interact,
        method=method,
        stride=stride,
        max_frames=max_frames,
        fps=fps,
        smooth_accel=smooth_accel,
        precise=precise,
        jsonl=json,
        save_video=save_video,
        timeline_png=timeline_png,
        address=address,
        num_cpus=num_cpus,
        workers=workers,
        threads=threads,
        retries=retries,
        check=check,
        force=force,
        progress=progress,
        ray_logs=ray_logs,
    )
    report = run_batch(inputs, out, opts)
    if report.interrupted:
        print(
            "hhpnet: interrupted; finished inputs are kept — run the same command again to "
            "continue",
            file=sys.stderr,
        )
    print(report.summary_line(), file=sys.stderr)
    raise typer.Exit(report.exit_code)


def register(app: typer.Typer) -> None:
    """Add the ``batch`` command."""
    app.command("batch")(batch)
