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
from typing import TYPE_CHECKING, Annotated

import typer

from hhpnet.commands.options import (
    InteractOpt,
    PreciseOpt,
    ProgressOpt,
    any_output_option,
    detector_option,
    method_option,
    output_option,
)

if TYPE_CHECKING:
    from hhpnet.pipeline import HeadPoseEstimator
    from hhpnet.video.settings import VideoSettings
    from hhpnet.video.sources import Source

    #: (name, what to open: a source or the images of one SOURCE, display name)
    Group = tuple[str, Source | list[str], str | None]


_Sources = Annotated[
    list[str],
    typer.Argument(
        metavar="SOURCE...",
        help="Video files, image folders/globs, webcam index (0), rtsp/http URL.",
        show_default=False,
    ),
]
_Model = Annotated[str, typer.Option(metavar="NAME", help="Model name or .safetensors path.")]
_KptThr = Annotated[
    float, typer.Option(metavar="C", help="Keypoints below this confidence are missing.")
]
_Stride = Annotated[int, typer.Option(metavar="N", help="Process every N-th frame.")]
_BodyEvery = Annotated[
    int,
    typer.Option(
        metavar="K",
        help="'auto' detector: MoveNet on every K-th frame and on scene cuts only "
        "(faster; readings in between differ a little, docs/video.md).",
    ),
]
_MaxFrames = Annotated[int | None, typer.Option(metavar="N", help="Stop after N processed frames.")]
_Start = Annotated[float, typer.Option(metavar="SECONDS", help="Start time.")]
_End = Annotated[float | None, typer.Option(metavar="SECONDS", help="End time.")]
_Fps = Annotated[
    float | None, typer.Option(metavar="FPS", help="Frame rate of image sequences (default 30).")
]
_Resume = Annotated[
    bool, typer.Option("--resume", help="Continue an interrupted run from its --csv.")
]
_Show = Annotated[
    bool | None,
    typer.Option(
        "--show/--no-show",
        help="Live window (default: on for webcams if a display exists).",
        show_default=False,
    ),
]
_SmoothAccel = Annotated[
    float | None,
    typer.Option(
        metavar="DEG_S2",
        help="Smoothing process noise, deg/s² per √s, in (0, 1e6] (default 100; larger "
        "= less smoothing).",
    ),
]


def video(
    sources: _Sources,
    model: _Model = "hhpnet-1.0",
    detector: Annotated[str, detector_option(summaries=False)] = "auto",
    kpt_thr: _KptThr = 0.0,
    precise: PreciseOpt = False,
    interact: InteractOpt = True,
    method: Annotated[str, method_option("Interaction method: {}.", metavar="NAME")] = "hhpnet",
    save_video: Annotated[Path | None, output_option("save_video")] = None,
    csv: Annotated[Path | None, output_option("csv")] = None,
    parquet: Annotated[Path | None, output_option("parquet")] = None,
    json: Annotated[Path | None, output_option("jsonl")] = None,
    timeline_csv: Annotated[Path | None, output_option("timeline_csv")] = None,
    timeline_png: Annotated[Path | None, output_option("timeline_png")] = None,
    output: Annotated[list[str] | None, any_output_option()] = None,
    stride: _Stride = 1,
    body_every: _BodyEvery = 1,
    max_frames: _MaxFrames = None,
    start: _Start = 0.0,
    end: _End = None,
    fps: _Fps = None,
    resume: _Resume = False,
    show: _Show = None,
    progress: ProgressOpt = None,
    smooth_accel: _SmoothAccel = None,
) -> None:
    """Track people in a video, webcam or stream; smooth their head poses; time their gazes.

    \f
    The signature is the option list of ``hhpnet video``; the body gathers them into one
    :class:`~hhpnet.video.VideoSettings` (:func:`run_video` checks and runs it). Text after
    the form feed is not part of ``--help``.
    """
    from hhpnet.commands.options import parse_outputs, progress_wanted
    from hhpnet.video.settings import VideoSettings

    settings = VideoSettings(
        model=model,
        detector=detector,
        kpt_thr=kpt_thr,
        precise=precise,
        interact=interact,
        interaction_method=method,
        save_video=save_video,
        csv=csv,
        parquet=parquet,
        jsonl=json,
        timeline_csv=timeline_csv,
        timeline_png=timeline_png,
        stride=stride,
        body_every=body_every,
        max_frames=max_frames,
        start=start,
        end=end,
        fps=fps,
        resume=resume,
        progress=progress_wanted(progress),
        smooth_accel=smooth_accel,
        outputs=parse_outputs(output),
    )
    if run_video(sources, settings, show=show):
        raise typer.Exit(1)


def _name_of(src: Source) -> str:
    from hhpnet.commands.outputs import safe_name

    if src.kind == "webcam":
        return f"webcam{src.value}"
    if src.kind == "stream":
        return "stream"
    return safe_name(Path(str(src.value)).stem) or "video"


def _groups(found: list[tuple[str, list[Source]]]) -> list[Group]:
    """(name, what to open, display name): the images of a SOURCE form one sequence; each
    video, webcam or stream is a source of its own."""
    from hhpnet.commands.outputs import safe_name

    groups: list[Group] = []
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
    """Add the ``video`` command."""
    app.command("video")(video)


def run_video(sources: list[str], settings: VideoSettings, *, show: bool | None = None) -> int:
    """Check ``settings`` and the output files (usage errors, before anything is read), then
    run every source (:func:`_groups`) with its own files (one source: the names as given;
    several: ``out.<name>.csv``, …); ``show`` None: a window for webcams and streams. Returns
    the number of sources missing or failed (each reported on one line)."""
    from hhpnet.commands.outputs import check_output_files, resolve_each
    from hhpnet.errors import InputError

    settings.check()
    check_output_files(settings.paths())
    found, bad = [], []
    for spec in sources:
        got, missing = resolve_each([spec])
        if got:
            found.append((spec, got))
        bad.extend(missing)
    groups = _groups(found)
    live = [g[1] for g in groups if not isinstance(g[1], list) and g[1].kind != "video"]
    if settings.resume and live:
        src = live[0]
        assert not isinstance(src, list)
        what = f"webcam {src.value}" if src.kind == "webcam" else str(src.value)
        raise InputError(f"--resume: {what} is a live source and cannot be resumed")
    est = settings.estimator()
    for _spec, msg in bad:
        print(f"hhpnet: error: {msg}", file=sys.stderr)
    return len(bad) + _run_groups(groups, est, settings, many=len(groups) + len(bad) > 1, show=show)


def _run_groups(
    groups: list[Group],
    est: HeadPoseEstimator,
    settings: VideoSettings,
    *,
    many: bool,
    show: bool | None,
) -> int:
    """Process each group (a source or an image sequence) with its own files; the number that
    failed."""
    import dataclasses

    from hhpnet.commands.outputs import derived, print_records, report_summary, unique_names
    from hhpnet.errors import HhpnetError
    from hhpnet.video import process_video

    paths = settings.paths()
    names = unique_names([g[0] for g in groups]) if many else [None] * len(groups)
    to_stdout = not paths
    failed = 0
    for (_, src, display), name in zip(groups, names, strict=True):
        is_live = not isinstance(src, list) and src.kind != "video"
        run = dataclasses.replace(
            settings.with_paths({k: derived(p, name) for k, p in paths.items()}),
            name=display,
            show=is_live if show is None else show,
        )
        try:
            summary = process_video(
                src, est, settings=run, on_frame=print_records if to_stdout else None
            )
            report_summary(summary, stdout=to_stdout)
        except HhpnetError as exc:
            failed += 1
            print(f"hhpnet: error: {exc}", file=sys.stderr)
    return failed
