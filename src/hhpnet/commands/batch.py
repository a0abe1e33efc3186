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

from hhpnet.commands.options import PreciseOpt, detector_option, method_names


def register(app: typer.Typer) -> None:
    """Add the ``batch`` command.

    Long only because it defines the ``batch`` command, whose signature is that command's option
    list (one annotated typer parameter per documented option).
    """

    @app.command("batch")
    def batch(
        inputs: Annotated[
            list[str],
            typer.Argument(
                metavar="INPUTS...",
                help="Videos/images, folders, globs, http(s) URLs, or manifests "
                "(.txt: one per line; .csv: a 'path' column, optional 'name').",
                show_default=False,
            ),
        ],
        out: Annotated[
            Path, typer.Option("--out", "-o", help="Output folder (resumable).", show_default=False)
        ],
        address: Annotated[
            str | None,
            typer.Option(help="Join this Ray cluster (auto or host:port); default: local."),
        ] = None,
        num_cpus: Annotated[
            int | None, typer.Option(help="CPUs of the local Ray instance (default: all).")
        ] = None,
        workers: Annotated[
            int | None, typer.Option(help="Inputs processed at once (default: CPUs ÷ threads).")
        ] = None,
        threads: Annotated[int, typer.Option(help="CPUs (detector threads) per input.")] = 1,
        retries: Annotated[
            int, typer.Option(help="Retries of a task whose worker died or that crashed.")
        ] = 2,
        check: Annotated[
            str,
            typer.Option(help="Verify finished inputs by 'size' (and mtime) or 'hash' (SHA-256)."),
        ] = "size",
        force: Annotated[bool, typer.Option("--force", help="Redo every input.")] = False,
        model: Annotated[str, typer.Option(help="Model name or .safetensors path.")] = "hhpnet-1.0",
        detector: Annotated[str, detector_option(summaries=False, metavar=None)] = "auto",
        kpt_thr: Annotated[float, typer.Option(help="Keypoints below it are missing.")] = 0.0,
        precise: PreciseOpt = False,
        interact: Annotated[
            bool, typer.Option("--interact/--no-interact", help="Who looks at whom per frame.")
        ] = True,
        method: Annotated[
            str, typer.Option(help=f"Interaction method ({method_names()}).")
        ] = "hhpnet",
        json: Annotated[
            bool, typer.Option("--json", help="Also write poses.jsonl per input.")
        ] = False,
        save_video: Annotated[
            bool, typer.Option("--save-video", help="Also write annotated.mp4 per input.")
        ] = False,
        timeline_png: Annotated[
            bool, typer.Option("--timeline-png", help="Also write timeline.png per input.")
        ] = False,
        stride: Annotated[int, typer.Option(help="Process every N-th frame.")] = 1,
        max_frames: Annotated[
            int | None, typer.Option(help="Stop each input after N frames.")
        ] = None,
        fps: Annotated[
            float | None, typer.Option(help="Frame rate of image inputs (default 30).")
        ] = None,
        smooth_accel: Annotated[
            float | None,
            typer.Option(help="Smoothing process noise, deg/s² per √s (larger = less smoothing)."),
        ] = None,
        progress: Annotated[
            bool | None,
            typer.Option("--progress/--no-progress", help="Progress bar (default: on a terminal)."),
        ] = None,
        ray_logs: Annotated[
            bool, typer.Option("--ray-logs", help="Show Ray's own and the workers' log lines.")
        ] = False,
    ) -> None:
        """Process many videos on Ray: per-input files, one Parquet dataset, a summary table.

        \f
        Long: the signature is the option list of ``hhpnet batch`` (one typer parameter per
        documented option); the body only checks them (usage errors first) and hands them
        on. Text after the form feed is not part of ``--help``.
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
