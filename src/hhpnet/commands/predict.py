"""``hhpnet predict SOURCE...``: head poses for images (folders, globs) or given keypoints.

Outputs (all written incrementally, flushed after every image):

* ``--json FILE``: JSON Lines, one record per image (schema in the README, "Output");
* ``--csv FILE``: one row per person (columns :data:`hhpnet.pipeline.CSV_COLUMNS`);
* ``--save-dir DIR``: annotated copies of the images (same file names, JPEG/PNG as the input);
* none of these: the JSON Lines go to standard output.

A bad image prints one line on stderr; the other images are still processed and written, and
the exit code is 1 at the end. Video, webcam and stream sources go to
:func:`hhpnet.video.process_video` (per-video files, see :func:`_run_video`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer


def _out_name(src: str, used: set[str]) -> str:
    """A file name for the annotated copy of ``src``, unique within this run."""
    p = Path(src)
    ext = p.suffix.lower() if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".bmp") else ".jpg"
    name = p.stem + ext
    k = 1
    while name in used:
        name = f"{p.stem}_{k}{ext}"
        k += 1
    used.add(name)
    return name


def _match_keypoints(images: list[str], records: list[Any]) -> list[tuple[str | None, Any]]:
    """Pair keypoint records with image paths: by file name/stem, else by order."""
    from hhpnet.errors import InputError

    if not images:
        return [(None, r) for r in records]
    by_key: dict[str, Any] = {}
    for r in records:
        if r.source is not None:
            by_key.setdefault(str(r.source), r)
            by_key.setdefault(Path(str(r.source)).stem, r)
    pairs: list[tuple[str | None, Any]] = []
    for img in images:
        p = Path(img)
        rec = by_key.get(p.name, by_key.get(p.stem))
        if rec is None:
            break
        pairs.append((img, rec))
    else:
        return pairs
    if len(images) == len(records):
        return [(img, rec) for img, rec in zip(images, records, strict=True)]
    raise InputError(
        f"cannot match {len(records)} keypoint record(s) to {len(images)} image(s): names differ "
        "and the counts are not equal"
    )


def run_predict(
    sources: list[str],
    *,
    model: str = "hhpnet-1.0",
    detector: str = "blazeface",
    keypoints: str | None = None,
    layout: str | None = None,
    save_dir: str | None = None,
    json_path: str | None = None,
    csv_path: str | None = None,
    kpt_thr: float = 0.0,
    progress: bool = True,
    detector_options: dict[str, Any] | None = None,
) -> tuple[int, int, int]:
    """Run the predict command; returns (images done, people found, failures)."""
    import csv

    import cv2
    from tqdm import tqdm

    from hhpnet.adapters import load_keypoints_file
    from hhpnet.draw import annotate
    from hhpnet.errors import HhpnetError, InputError
    from hhpnet.io import read_image
    from hhpnet.pipeline import CSV_COLUMNS, HeadPoseEstimator
    from hhpnet.sources import resolve

    if not sources and keypoints is None:
        raise InputError("give at least one SOURCE (image, folder, glob, video) or --keypoints")
    resolved = resolve(sources) if sources else []
    images = [str(s.value) for s in resolved if s.is_image]
    streams = [s for s in resolved if not s.is_image]
    est = HeadPoseEstimator(
        model=model,
        detector=None if keypoints is not None else detector,
        kpt_thr=kpt_thr,
        **(detector_options or {}),
    )
    est.model  # noqa: B018 - load now: a missing model is one error, not one per image

    jobs: list[tuple[str | None, Any]]
    if keypoints is not None:
        jobs = _match_keypoints(images, load_keypoints_file(keypoints, layout))
    else:
        jobs = [(img, None) for img in images]

    out_dir = Path(save_dir) if save_dir else None
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    to_stdout = json_path is None and csv_path is None and save_dir is None
    json_fh = open(json_path, "w", encoding="utf-8") if json_path else None
    csv_fh = open(csv_path, "w", newline="", encoding="utf-8") if csv_path else None
    writer = csv.DictWriter(csv_fh, fieldnames=list(CSV_COLUMNS)) if csv_fh else None
    if writer is not None and csv_fh is not None:
        writer.writeheader()
        csv_fh.flush()
    done = people = failed = 0
    used: set[str] = set()
    bar = tqdm(
        jobs, unit="img", disable=not progress or len(jobs) < 2, file=sys.stderr, dynamic_ncols=True
    )
    try:
        for img_path, rec in bar:
            label = img_path or (rec.source if rec is not None else "?")
            try:
                image = read_image(img_path) if img_path is not None else None
                if rec is None:
                    poses = est(image, rgb=True, source=img_path)
                else:
                    size = (image.shape[1], image.shape[0]) if image is not None else None
                    poses = est.from_keypoints(
                        rec, image_size=size or rec.image_size, source=img_path or rec.source
                    )
            except HhpnetError as exc:
                failed += 1
                msg = str(exc) if str(label) in str(exc) else f"{label}: {exc}"
                tqdm.write(f"hhpnet: error: {msg}", file=sys.stderr)
                continue
            done += 1
            people += len(poses)
            line = poses.to_json()
            if to_stdout:
                sys.stdout.write(line + "\n")
                sys.stdout.flush()
            if json_fh is not None:
                json_fh.write(line + "\n")
                json_fh.flush()
            if writer is not None and csv_fh is not None:
                writer.writerows(poses.to_rows())
                csv_fh.flush()
            if out_dir is not None and image is not None and img_path is not None:
                drawn = annotate(image, poses, rgb=True)
                target = out_dir / _out_name(img_path, used)
                if not cv2.imwrite(str(target), drawn[..., ::-1]):
                    raise InputError(f"{target}: cannot write the annotated image")
    finally:
        bar.close()
        if json_fh is not None:
            json_fh.close()
        if csv_fh is not None:
            csv_fh.close()

    for src in streams:
        try:
            _run_video(
                src,
                est,
                save_dir=save_dir,
                json_path=json_path,
                csv_path=csv_path,
                progress=progress,
            )
        except HhpnetError as exc:
            failed += 1
            print(f"hhpnet: error: {src.value}: {exc}", file=sys.stderr)
    return done, people, failed


def _derived(path: str | None, name: str, ext: str) -> str | None:
    """``out.jsonl`` + video ``clip`` → ``out.clip.jsonl`` (next to the images' file)."""
    if path is None:
        return None
    p = Path(path)
    return str(p.with_name(f"{p.stem}.{name}{ext}"))


def _run_video(
    src: Any,
    est: Any,
    *,
    save_dir: str | None,
    json_path: str | None,
    csv_path: str | None,
    progress: bool,
) -> None:
    """Hand a video/webcam/stream source to :func:`hhpnet.video.process_video` (no interaction
    analysis; per-frame poses): ``<save-dir>/<name>.mp4``, ``<json stem>.<name>.jsonl`` and
    ``<csv stem>.<name>.csv``, where name is the video file stem or ``webcam<index>``/``stream``.
    """
    from hhpnet.commands.video import report_summary
    from hhpnet.video import process_video

    if src.kind == "video":
        name = Path(str(src.value)).stem
    elif src.kind == "webcam":
        name = f"webcam{src.value}"
    else:
        name = "stream"
    summary = process_video(
        src.value,
        est,
        save_video=str(Path(save_dir) / f"{name}.mp4") if save_dir else None,
        jsonl=_derived(json_path, name, ".jsonl"),
        csv=_derived(csv_path, name, ".csv"),
        interact=False,
        progress=progress,
    )
    report_summary(summary)


def register(app: typer.Typer) -> None:
    """Add the ``predict`` command."""

    @app.command("predict")
    def predict(
        sources: Annotated[
            list[str] | None,
            typer.Argument(
                metavar="SOURCE...",
                help="Image files, folders, globs ('photos/*.jpg'); videos, webcam index, URLs.",
                show_default=False,
            ),
        ] = None,
        detector: str = typer.Option("blazeface", help="Keypoint detector: blazeface, blazepose."),
        model: str = typer.Option(
            "hhpnet-1.0", help="hhpnet-1.0, hhpnet-0.6, hhpnet-0.2 or a .safetensors file."
        ),
        keypoints: str = typer.Option(
            None,
            "--keypoints",
            help="Use these keypoints instead of detecting: COCO/OpenPose/MMPose JSON, an "
            "OpenPose folder, or .npy. Matched to the SOURCE images by name, else by order.",
        ),
        layout: str = typer.Option(
            None,
            help="Layout of --keypoints arrays: coco17, openpose25, openpose18, blazepose33, "
            "blazeface6, hhpnet5 (JSON formats are recognised).",
        ),
        save_dir: str = typer.Option(None, "--save-dir", help="Write annotated images here."),
        json_path: str = typer.Option(
            None, "--json", help="Write JSON Lines here (one record per image)."
        ),
        csv_path: str = typer.Option(None, "--csv", help="Write a CSV here (one row per person)."),
        kpt_thr: float = typer.Option(
            0.0, "--kpt-thr", help="Keypoints with a lower confidence count as missing."
        ),
        tile: bool = typer.Option(
            False, "--tile", help="BlazeFace: also search tiles (small faces in large images)."
        ),
        progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bar."),
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
        )
        written = [p for p in (json_path, csv_path, save_dir) if p]
        where = f"; wrote {', '.join(os.fspath(p) for p in written)}" if written else ""
        print(
            f"hhpnet: {done} image(s), {people} person(s), {failed} failed{where}",
            file=sys.stderr,
        )
        if failed:
            raise typer.Exit(1)
