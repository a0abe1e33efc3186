"""``hhpnet predict SOURCE...``: head poses for images (folders, globs) or given keypoints.

Outputs (all written incrementally, flushed after every image):

* ``--json FILE``: JSON Lines, one record per image (schema in the README, "Output");
* ``--csv FILE``: one row per person (columns :data:`hhpnet.poses.CSV_COLUMNS`);
* ``--save-dir DIR``: annotated copies of the images (same file names, JPEG/PNG as the input);
* none of these: the JSON Lines go to standard output.

A bad image prints one line on stderr; the other images are still processed and written, and
the exit code is 1 at the end. Video, webcam and stream sources go to
:func:`hhpnet.video.process_video` (per-video files, see
:meth:`hhpnet.commands.images.ImageCommand.run_videos`).
"""

from __future__ import annotations

import sys
from typing import Annotated

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
from hhpnet.commands.outputs import written_files

_SaveDir = Annotated[
    str | None, typer.Option("--save-dir", metavar="DIR", help="Write annotated images here.")
]
_Json = Annotated[
    str | None,
    typer.Option("--json", metavar="FILE", help="Write JSON Lines here (one record per image)."),
]
_Csv = Annotated[
    str | None,
    typer.Option("--csv", metavar="FILE", help="Write a CSV here (one row per person)."),
]


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
    detector_options: dict[str, object] | None = None,
    precise: bool = False,
) -> tuple[int, int, int]:
    """Run the predict command; returns (images done, people found, failures).

    Usage errors (bad options, unknown model or detector, unwritable outputs) raise
    :class:`~hhpnet.errors.InputError` before anything is processed; a missing SOURCE, a bad
    image or a failing video prints one line on stderr and counts as a failure.
    """
    from hhpnet.commands.images import ImageCommand, Outputs
    from hhpnet.draw import annotate
    from hhpnet.poses import CSV_COLUMNS
    from hhpnet.records import record_line

    cmd = ImageCommand(
        sources,
        model=model,
        detector=detector,
        keypoints=keypoints,
        layout=layout,
        save_dir=save_dir,
        json_path=json_path,
        csv_path=csv_path,
        kpt_thr=kpt_thr,
        progress=progress,
        detector_options=detector_options,
        precise=precise,
    )
    batch, missing = cmd.start()
    done = people = 0
    if batch.jobs:
        with Outputs(json_path, csv_path, CSV_COLUMNS, save_dir) as out:
            for img_path, image, poses, _ in batch:
                done += 1
                people += len(poses)
                out.write(record_line(poses), poses.to_rows())
                if image is not None and img_path is not None and save_dir:
                    out.save_image(img_path, annotate(image, poses, rgb=True))
    failed = batch.failed + missing + cmd.run_videos(batch, missing, None)
    return done, people, failed


def predict(
    sources: SourcesArg = None,
    detector: Annotated[str, detector_option()] = "auto",
    model: ModelOpt = "hhpnet-1.0",
    keypoints: KeypointsOpt = None,
    layout: LayoutOpt = None,
    save_dir: _SaveDir = None,
    json_path: _Json = None,
    csv_path: _Csv = None,
    kpt_thr: KptThrOpt = 0.0,
    tile: TileOpt = False,
    precise: PreciseOpt = False,
    progress: ProgressOpt = None,
) -> None:
    """Estimate head poses (yaw, pitch, roll ± σ, degrees) of every person in images."""
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
        detector_options={"tile": True} if tile else {},
        precise=precise,
    )
    if done or failed or not sources:
        where = written_files(json_path, csv_path, save_dir) if done else ""
        print(
            f"hhpnet: {done} image(s), {people} person(s), {failed} failed{where}", file=sys.stderr
        )
    if failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the ``predict`` command."""
    app.command("predict")(predict)
