"""``hhpnet video SOURCE...``: head poses, tracks, smoothing and who-looks-at-whom over time.

Each SOURCE is a video file, a folder/glob of images (one image sequence), a webcam index or a
stream URL. With several SOURCEs every output name gets the source name inserted
(``out.csv`` → ``out.<name>.csv``). Exit code: 0 on success, 1 if a source was damaged or
failed (the others are still processed, their files kept), 130 on Ctrl-C, 2 on a usage error.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer


def _name_of(src: Any) -> str:
    if src.kind == "webcam":
        return f"webcam{src.value}"
    if src.kind == "stream":
        return "stream"
    return Path(str(src.value)).stem or "video"


def _derive(path: Path | None, name: str, many: bool) -> str | None:
    if path is None:
        return None
    if not many:
        return str(path)
    return str(path.with_name(f"{path.stem}.{name}{path.suffix}"))


def report_summary(summary: Any) -> None:
    """Print a :class:`hhpnet.video.VideoSummary` on stderr (warnings, one summary line).

    Ctrl-C → exit 130; a damaged video or lost stream raises :class:`HhpnetError` with the
    one-line reason after its files were kept (callers count it as failed, exit code 1).
    """
    from hhpnet.errors import HhpnetError

    for w in summary.warnings:
        print(f"hhpnet: warning: {w}", file=sys.stderr)
    outs = ", ".join(summary.outputs.values()) or "no files written"
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


def register(app: typer.Typer) -> None:
    """Add the ``video`` command."""

    @app.command("video")
    def video(
        sources: Annotated[
            list[str],
            typer.Argument(
                help="Video files, image folders/globs, webcam index (0), rtsp/http URL."
            ),
        ],
        model: Annotated[str, typer.Option(help="Model name or .safetensors path.")] = "hhpnet-1.0",
        detector: Annotated[
            str, typer.Option(help="Keypoint detector: blazeface, blazepose, movenet, auto.")
        ] = "blazeface",
        kpt_thr: Annotated[float, typer.Option(help="Keypoints below it are missing.")] = 0.0,
        interact: Annotated[
            bool, typer.Option("--interact/--no-interact", help="Who looks at whom per frame.")
        ] = True,
        method: Annotated[str, typer.Option(help="Interaction method (hhpnet, paper).")] = "hhpnet",
        save_video: Annotated[
            Path | None, typer.Option(help="Annotated mp4 (smoothed axes, σ fans, track ids).")
        ] = None,
        csv: Annotated[Path | None, typer.Option(help="One row per person per frame.")] = None,
        parquet: Annotated[
            Path | None, typer.Option(help="Same rows as Parquet (needs the parquet extra).")
        ] = None,
        json: Annotated[
            Path | None, typer.Option("--json", help="JSON Lines, one record per frame.")
        ] = None,
        timeline_csv: Annotated[
            Path | None, typer.Option(help="Interaction intervals (+ <stem>_people.csv totals).")
        ] = None,
        timeline_png: Annotated[
            Path | None, typer.Option(help="Timeline picture, one row per pair.")
        ] = None,
        stride: Annotated[int, typer.Option(help="Process every N-th frame.")] = 1,
        max_frames: Annotated[int | None, typer.Option(help="Stop after N frames.")] = None,
        start: Annotated[float, typer.Option(help="Start time, seconds.")] = 0.0,
        end: Annotated[float | None, typer.Option(help="End time, seconds.")] = None,
        fps: Annotated[
            float | None, typer.Option(help="Frame rate of image sequences (default 30).")
        ] = None,
        resume: Annotated[
            bool, typer.Option("--resume", help="Continue an interrupted run from its --csv.")
        ] = False,
        show: Annotated[
            bool | None,
            typer.Option(
                "--show/--no-show",
                help="Live window (default: on for webcams if a display exists).",
            ),
        ] = None,
        progress: Annotated[bool, typer.Option("--progress/--no-progress")] = True,
        smooth_accel: Annotated[
            float | None,
            typer.Option(help="Smoothing process noise, deg/s² per √s (larger = less smoothing)."),
        ] = None,
    ) -> None:
        """Track people in a video, webcam or stream; smooth their head poses; time their gazes."""
        from hhpnet.errors import HhpnetError
        from hhpnet.pipeline import HeadPoseEstimator
        from hhpnet.smoothing import SmootherParams
        from hhpnet.sources import resolve
        from hhpnet.video import process_video

        groups: list[tuple[str, Any]] = []
        for spec in sources:
            found = resolve([spec])
            if all(s.kind == "image" for s in found):
                groups.append(
                    (Path(spec.rstrip("/")).stem or "images", [str(s.value) for s in found])
                )
            else:
                groups.extend((_name_of(s), s) for s in found)
        many = len(groups) > 1
        est = HeadPoseEstimator(model=model, detector=detector, kpt_thr=kpt_thr)
        params = SmootherParams(accel_std=smooth_accel) if smooth_accel else None
        failed = 0
        for name, src in groups:
            live = not isinstance(src, list) and src.kind in ("webcam", "stream")
            try:
                summary = process_video(
                    src,
                    est,
                    csv=_derive(csv, name, many),
                    parquet=_derive(parquet, name, many),
                    jsonl=_derive(json, name, many),
                    save_video=_derive(save_video, name, many),
                    timeline_csv=_derive(timeline_csv, name, many),
                    timeline_png=_derive(timeline_png, name, many),
                    interact=interact,
                    interaction_method=method,
                    stride=stride,
                    max_frames=max_frames,
                    start=start,
                    end=end,
                    fps=fps,
                    resume=resume,
                    show=live if show is None else show,
                    progress=progress,
                    smoothing=params,
                )
            except HhpnetError as exc:
                if not many:
                    raise
                failed += 1
                print(f"hhpnet: error: {exc}", file=sys.stderr)
                continue
            try:
                report_summary(summary)
            except HhpnetError as exc:
                failed += 1
                print(f"hhpnet: error: {exc}", file=sys.stderr)
        if failed:
            raise typer.Exit(1)
