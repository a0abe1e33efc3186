"""``hhpnet bench``: speed of the pose network and of the whole pipeline, as a markdown report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

SECTIONS = ("posenet", "pipeline", "cli", "startup")


def register(app: typer.Typer) -> None:
    """Add the ``bench`` command."""

    @app.command("bench")
    def bench_command(
        output: Annotated[
            Path,
            typer.Option("--output", "-o", help="Markdown report (a .json with raw numbers too)."),
        ] = Path("hhpnet-bench/report.md"),
        quick: Annotated[
            bool, typer.Option("--quick", help="α=1.0, auto and BlazeFace only, fewer repeats.")
        ] = False,
        threads: Annotated[
            int, typer.Option("--threads", help="Threads of the pose-network backends.")
        ] = 1,
        pipeline_threads: Annotated[
            int, typer.Option("--pipeline-threads", help="Detector and OpenCV threads.")
        ] = 2,
        sections: Annotated[
            list[str] | None,
            typer.Option(
                "--section",
                "-s",
                metavar="NAME",
                help="posenet, pipeline, cli, startup (repeatable).",
            ),
        ] = None,
    ) -> None:
        """Benchmark on this machine: median and IQR of repeated, interleaved timings.

        Runs in a fresh interpreter with OMP/OpenBLAS threads pinned before numpy is imported.
        The competing pipelines (dlib, MediaPipe face mesh) are in benchmarks/run_all.py.
        """
        import subprocess
        import sys

        from hhpnet.errors import InputError

        chosen = sections or list(SECTIONS)
        bad = [s for s in chosen if s not in SECTIONS]
        if bad:
            raise InputError(f"unknown section(s) {bad}; choose from {', '.join(SECTIONS)}")
        if threads < 1 or pipeline_threads < 1:
            raise InputError("thread counts must be ≥ 1")
        cmd = [sys.executable, "-m", "hhpnet.bench", "-o", str(output), "--threads", str(threads)]
        cmd += ["--pipeline-threads", str(pipeline_threads), "--sections", *chosen]
        if quick:
            cmd.append("--quick")
        code = subprocess.run(cmd, check=False).returncode
        if code != 0:
            raise typer.Exit(code)
        typer.echo(f"report written to {output}", err=True)
