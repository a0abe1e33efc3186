"""``hhpnet predict SOURCE...``: head poses for images (folders, globs) or given keypoints.

Outputs (all written incrementally, flushed after every image):

* ``--json FILE``: JSON Lines, one record per image (schema in the README, "Output");
* ``--csv FILE``: one row per person (columns :data:`hhpnet.poses.CSV_COLUMNS`);
* ``--save-dir DIR``: annotated copies of the images (same file names, JPEG/PNG as the input);
* none of these: the JSON Lines go to standard output.

A bad image prints one line on stderr; the other images are still processed and written, and
the exit code is 1 at the end. Video, webcam and stream sources go to
:func:`hhpnet.video.process_video` (per-video files, see :func:`_run_video`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from hhpnet.commands.options import (
    KeypointsOpt,
    KptThrOpt,
    LayoutOpt,
    ModelOpt,
    PreciseOpt,
    ProgressOpt,
    SourcesArg,
    TileOpt,
    detector_option,
)
from hhpnet.commands.outputs import error_line, written_files


def run_predict(
    sources: list[str],
    *,
    model: str = "hhpnet-1.0",
    detector: str = "auto",
    keypoints: str | None = None,
    layout: str | None = None,
    save_dir: str | None = None,
    json_path: str | None = None,
    csv_path: str | None = None,
    kpt_thr: float = 0.0,
    progress: bool | None = None,
    detector_options: dict[str, Any] | None = None,
    precise: bool = False,
) -> tuple[int, int, int]:
    """Run the predict command; returns (images done, people found, failures).

    Usage errors (bad options, unknown model or detector, unwritable outputs) raise
    :class:`~hhpnet.errors.InputError` before anything is processed; a missing SOURCE, a bad
    image or a failing video prints one line on stderr and counts as a failure.

    Long: option checks, the image batch with its outputs and the video sources share the counts
    and the open output files.
    """
    from hhpnet.commands.images import ImageBatch, Outputs
    from hhpnet.commands.outputs import check_output_dir, check_output_file, resolve_each
    from hhpnet.draw import annotate
    from hhpnet.errors import HhpnetError, InputError
    from hhpnet.poses import CSV_COLUMNS
    from hhpnet.records import record_line

    check_output_file(json_path, "--json")
    check_output_file(csv_path, "--csv")
    check_output_dir(save_dir, "--save-dir")
    if not sources and keypoints is None:
        raise InputError("give at least one SOURCE (image, folder, glob, video) or --keypoints")
    found, bad = resolve_each(sources)
    batch = ImageBatch.prepare(
        found,
        model=model,
        detector=detector,
        keypoints=keypoints,
        layout=layout,
        kpt_thr=kpt_thr,
        detector_options=detector_options,
        progress=progress,
        precise=precise,
    )
    for _spec, msg in bad:
        print(f"hhpnet: error: {msg}", file=sys.stderr)
    done = people = 0
    if batch.jobs:
        with Outputs(json_path, csv_path, CSV_COLUMNS, save_dir) as out:
            for img_path, image, poses, _ in batch:
                done += 1
                people += len(poses)
                out.write(record_line(poses), poses.to_rows())
                if image is not None and img_path is not None and save_dir:
                    out.save_image(img_path, annotate(image, poses, rgb=True))
    failed = batch.failed + len(bad)
    names = video_names(batch.streams, one_source=not batch.jobs and not bad)
    for src, name in zip(batch.streams, names, strict=True):
        try:
            _run_video(
                src,
                batch.est,
                name=name,
                save_dir=save_dir,
                json_path=json_path,
                csv_path=csv_path,
                progress=batch.progress,
            )
        except HhpnetError as exc:
            failed += 1
            print(error_line(src.value, exc), file=sys.stderr)
    return done, people, failed


def video_names(streams: list[Any], *, one_source: bool) -> list[str | None]:
    """Per-video output name pieces: None (the files are named as given) when the run has a
    single source, else the video's stem (``webcam0``, ``stream``), made unique."""
    from hhpnet.commands.outputs import stream_name, unique_names

    if one_source and len(streams) == 1:
        return [None]
    return list(unique_names([stream_name(s) for s in streams]))


def _run_video(
    src: Any,
    est: Any,
    *,
    name: str | None,
    save_dir: str | None,
    json_path: str | None,
    csv_path: str | None,
    progress: bool,
) -> None:
    """Hand a video/webcam/stream source to :func:`hhpnet.video.process_video` (no interaction
    analysis; per-frame poses). One source: ``--csv``/``--json`` are its files; several:
    ``<csv stem>.<name>.csv`` and ``<json stem>.<name>.jsonl`` (name = the video file's stem,
    ``webcam<index>`` or ``stream``). ``<save-dir>/<name>.mp4``. Without any output option the
    JSON Lines go to standard output, one per frame.
    """
    from hhpnet.commands.outputs import derived, print_records, stream_name
    from hhpnet.commands.video import report_summary
    from hhpnet.video import process_video

    stem = name or stream_name(src)
    to_stdout = json_path is None and csv_path is None and save_dir is None
    summary = process_video(
        src.value,
        est,
        save_video=str(Path(save_dir) / f"{stem}.mp4") if save_dir else None,
        jsonl=derived(json_path, name),
        csv=derived(csv_path, name),
        interact=False,
        progress=progress,
        on_frame=print_records if to_stdout else None,
    )
    report_summary(summary, stdout=to_stdout)


def register(app: typer.Typer) -> None:
    """Add the ``predict`` command."""

    @app.command("predict")
    def predict(
        sources: SourcesArg = None,
        detector: Annotated[str, detector_option()] = "auto",
        model: ModelOpt = "hhpnet-1.0",
        keypoints: KeypointsOpt = None,
        layout: LayoutOpt = None,
        save_dir: str = typer.Option(
            None, "--save-dir", metavar="DIR", help="Write annotated images here."
        ),
        json_path: str = typer.Option(
            None, "--json", metavar="FILE", help="Write JSON Lines here (one record per image)."
        ),
        csv_path: str = typer.Option(
            None, "--csv", metavar="FILE", help="Write a CSV here (one row per person)."
        ),
        kpt_thr: KptThrOpt = 0.0,
        tile: TileOpt = False,
        precise: PreciseOpt = False,
        progress: ProgressOpt = None,
    ) -> None:
        """Estimate head poses (yaw, pitch, roll ± σ, degrees) of every person in images."""
        options: dict[str, Any] = {"tile": True} if tile else {}
        done, people, failed = run_predict(
            list(sources or []),
            model=model,
            detector=detector,
            keypoints=keypoints,
            layout=layout,
            save_dir=save_dir,
            json_path=json_path,
            csv_path=csv_path,
            kpt_thr=kpt_thr,
            progress=progress,
            detector_options=options,
            precise=precise,
        )
        if done or failed or not sources:
            where = written_files(json_path, csv_path, save_dir) if done else ""
            print(
                f"hhpnet: {done} image(s), {people} person(s), {failed} failed{where}",
                file=sys.stderr,
            )
        if failed:
            raise typer.Exit(1)
