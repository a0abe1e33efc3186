"""``hhpnet video SOURCE...``: head poses, tracks, smoothing and who-looks-at-whom over time.

Each SOURCE is a video file, a folder/glob of images (one image sequence), a webcam index or a
stream URL (a folder holding videos: each video is a source of its own). With one source the
output files are named as given; with several, every output name gets the source's name
inserted (``out.csv`` → ``out.<name>.csv``; names made unique). Without any output option the
JSON Lines go to standard output, one per frame.

Exit code (docs/errors.md): 0 on success; 1 if a source was missing, could not be opened, was
damaged or failed (the others are still processed, their files kept); 2 on a usage error
(bad option value, unknown model or detector, unwritable output), before anything is read;
130 on Ctrl-C.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from hhpnet.commands.options import PreciseOpt, detector_option, method_names


def _name_of(src: Any) -> str:
    from hhpnet.commands.outputs import safe_name

    if src.kind == "webcam":
        return f"webcam{src.value}"
    if src.kind == "stream":
        return "stream"
    return safe_name(Path(str(src.value)).stem) or "video"


def report_summary(summary: Any, *, stdout: bool = False) -> None:
    """Print a :class:`hhpnet.video.VideoSummary` on stderr (warnings, one summary line;
    ``stdout``: the records went to standard output).

    Ctrl-C → exit 130; a damaged video or lost stream raises :class:`HhpnetError` with the
    one-line reason after its files were kept (callers count it as failed, exit code 1).
    """
    from hhpnet.errors import HhpnetError

    for w in summary.warnings:
        print(f"hhpnet: warning: {w}", file=sys.stderr)
    outs = ", ".join(summary.outputs.values())
    outs = outs or ("JSON Lines on standard output" if stdout else "no files written")
    print(
        f"{summary.source}: {summary.frames} frames, {summary.tracks} tracks, "
        f"{summary.fps:.1f} fps → {outs}",
        file=sys.stderr,
    )
    if summary.interrupted:
        print("hhpnet: interrupted; files written so far are kept", file=sys.stderr)
        raise typer.Exit(130)
    if summary.error:
        raise HhpnetError(summary.error)


def _groups(found: list[Any]) -> list[tuple[str, Any, str | None]]:
    """(name, what to open, display name): the images of a SOURCE form one sequence; each
    video, webcam or stream is a source of its own."""
    from hhpnet.commands.outputs import safe_name

    groups: list[tuple[str, Any, str | None]] = []
    for spec, srcs in found:
        images = [str(s.value) for s in srcs if s.is_image]
        if images:
            path = Path(spec.rstrip("/\\"))
            # a folder's or file's name; for a glob ('seq/*.png') the folder it searches
            base = path.parent.name if any(c in path.name for c in "*?[") else path.stem
            groups.append((safe_name(base) if base else "images", images, spec))
        groups.extend((_name_of(s), s, None) for s in srcs if not s.is_image)
    return groups


def register(app: typer.Typer) -> None:
    """Add the ``video`` command.

    Long only because it defines the ``video`` command, whose signature is that command's option
    list (one annotated typer parameter per documented option).
    """

    @app.command("video")
    def video(
        sources: Annotated[
            list[str],
            typer.Argument(
                metavar="SOURCE...",
                help="Video files, image folders/globs, webcam index (0), rtsp/http URL.",
                show_default=False,
            ),
        ],
        model: Annotated[
            str, typer.Option(metavar="NAME", help="Model name or .safetensors path.")
        ] = "hhpnet-1.0",
        detector: Annotated[str, detector_option(summaries=False)] = "auto",
        kpt_thr: Annotated[
            float, typer.Option(metavar="C", help="Keypoints below this confidence are missing.")
        ] = 0.0,
        precise: PreciseOpt = False,
        interact: Annotated[
            bool, typer.Option("--interact/--no-interact", help="Who looks at whom per frame.")
        ] = True,
        method: Annotated[
            str, typer.Option(metavar="NAME", help=f"Interaction method: {method_names()}.")
        ] = "hhpnet",
        save_video: Annotated[
            Path | None,
            typer.Option(metavar="FILE", help="Annotated mp4 (smoothed axes, σ fans, track ids)."),
        ] = None,
        csv: Annotated[
            Path | None, typer.Option(metavar="FILE", help="One row per person per frame.")
        ] = None,
        parquet: Annotated[
            Path | None,
            typer.Option(metavar="FILE", help="Same rows as Parquet (needs the parquet extra)."),
        ] = None,
        json: Annotated[
            Path | None,
            typer.Option("--json", metavar="FILE", help="JSON Lines, one record per frame."),
        ] = None,
        timeline_csv: Annotated[
            Path | None,
            typer.Option(
                metavar="FILE", help="Interaction intervals (+ <stem>_people.csv totals)."
            ),
        ] = None,
        timeline_png: Annotated[
            Path | None, typer.Option(metavar="FILE", help="Timeline picture, one row per pair.")
        ] = None,
        stride: Annotated[int, typer.Option(metavar="N", help="Process every N-th frame.")] = 1,
        body_every: Annotated[
            int,
            typer.Option(
                metavar="K",
                help="'auto' detector: MoveNet on every K-th frame and on scene cuts only "
                "(faster; readings in between differ a little, docs/video.md).",
            ),
        ] = 1,
        max_frames: Annotated[
            int | None, typer.Option(metavar="N", help="Stop after N processed frames.")
        ] = None,
        start: Annotated[float, typer.Option(metavar="SECONDS", help="Start time.")] = 0.0,
        end: Annotated[float | None, typer.Option(metavar="SECONDS", help="End time.")] = None,
        fps: Annotated[
            float | None,
            typer.Option(metavar="FPS", help="Frame rate of image sequences (default 30)."),
        ] = None,
        resume: Annotated[
            bool, typer.Option("--resume", help="Continue an interrupted run from its --csv.")
        ] = False,
        show: Annotated[
            bool | None,
            typer.Option(
                "--show/--no-show",
                help="Live window (default: on for webcams if a display exists).",
                show_default=False,
            ),
        ] = None,
        progress: Annotated[
            bool | None,
            typer.Option(
                "--progress/--no-progress",
                help="Progress bar on stderr (default: only when stderr is a terminal).",
                show_default=False,
            ),
        ] = None,
        smooth_accel: Annotated[
            float | None,
            typer.Option(
                metavar="DEG_S2",
                help="Smoothing process noise, deg/s² per √s, in (0, 1e6] (default 100; larger "
                "= less smoothing).",
            ),
        ] = None,
    ) -> None:
        """Track people in a video, webcam or stream; smooth their head poses; time their gazes.

        \f
        Long: the signature is the option list of ``hhpnet video`` (one typer parameter per
        documented option); the body only checks them (usage errors first) and hands them
        on. Text after the form feed is not part of ``--help``.
        """
        from hhpnet.commands.options import progress_wanted
        from hhpnet.commands.outputs import (
            check_output_file,
            derived,
            print_records,
            resolve_each,
            unique_names,
        )
        from hhpnet.errors import HhpnetError, InputError
        from hhpnet.pipeline import HeadPoseEstimator
        from hhpnet.video import check_options, process_video
        from hhpnet.video.smoothing import SmootherParams

        # usage errors first (exit 2), before any source is opened or any file written
        check_options(
            stride=stride,
            max_frames=max_frames,
            start=start,
            end=end,
            fps=fps,
            save_video=save_video,
            timeline_png=timeline_png,
        )
        params = SmootherParams(accel_std=smooth_accel) if smooth_accel is not None else None
        outputs = {
            "--csv": csv,
            "--parquet": parquet,
            "--json": json,
            "--save-video": save_video,
            "--timeline-csv": timeline_csv,
            "--timeline-png": timeline_png,
        }
        for option, path in outputs.items():
            check_output_file(path, option)
        if resume and csv is None:
            raise InputError("--resume needs --csv: the CSV is the journal a run resumes from")
        if (timeline_csv or timeline_png) and not interact:
            raise InputError("a timeline needs the interaction analysis (remove --no-interact)")
        if interact:
            from hhpnet.interaction import analyze
            from hhpnet.poses import Poses

            analyze(Poses.empty(), method=method)  # an unknown method fails now
        found, bad = [], []
        for spec in sources:
            got, missing = resolve_each([spec])
            if got:
                found.append((spec, got))
            bad.extend(missing)
        groups = _groups(found)
        live = [g for g in groups if not isinstance(g[1], list) and g[1].kind != "video"]
        if resume and live:
            src = live[0][1]
            what = f"webcam {src.value}" if src.kind == "webcam" else str(src.value)
            raise InputError(f"--resume: {what} is a live source and cannot be resumed")
        est = HeadPoseEstimator(model=model, detector=detector, kpt_thr=kpt_thr, precise=precise)
        est.model  # noqa: B018 - load now: a bad name is a usage error
        est.detector  # noqa: B018
        if body_every != 1:
            from hhpnet.video.cadence import with_body_cadence

            with_body_cadence(est, body_every)  # a bad value or detector is a usage error

        failed = 0
        for _spec, msg in bad:
            failed += 1
            print(f"hhpnet: error: {msg}", file=sys.stderr)
        many = len(groups) + len(bad) > 1
        names = unique_names([g[0] for g in groups]) if many else [None] * len(groups)
        to_stdout = all(p is None for p in outputs.values())
        for (_, src, display), name in zip(groups, names, strict=True):
            is_live = not isinstance(src, list) and src.kind != "video"
            try:
                summary = process_video(
                    src,
                    est,
                    csv=derived(csv, name),
                    parquet=derived(parquet, name),
                    jsonl=derived(json, name),
                    save_video=derived(save_video, name),
                    timeline_csv=derived(timeline_csv, name),
                    timeline_png=derived(timeline_png, name),
                    interact=interact,
                    interaction_method=method,
                    stride=stride,
                    max_frames=max_frames,
                    start=start,
                    end=end,
                    fps=fps,
                    body_every=body_every,
                    resume=resume,
                    show=is_live if show is None else show,
                    progress=progress_wanted(progress),
                    smoothing=params,
                    on_frame=print_records if to_stdout else None,
                    name=display,
                )
                report_summary(summary, stdout=to_stdout)
            except HhpnetError as exc:
                failed += 1
                print(f"hhpnet: error: {exc}", file=sys.stderr)
        if failed:
            raise typer.Exit(1)
