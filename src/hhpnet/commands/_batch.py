"""Shared machinery of ``hhpnet predict`` and ``hhpnet interact`` over images.

Sources are resolved once (images vs. videos/webcams/streams), keypoint files are matched to the
images, every image is read and estimated with its own one-line error, and the output files are
opened, written and flushed per image.
"""

from __future__ import annotations

import csv
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Annotated, Any

import typer

# Options shared by ``predict`` and ``interact`` (typer ``Annotated`` declarations).
SourcesArg = Annotated[
    list[str] | None,
    typer.Argument(
        metavar="SOURCE...",
        help="Image files, folders, globs ('photos/*.jpg'); videos, webcam index, URLs.",
        show_default=False,
    ),
]
DetectorOpt = Annotated[
    str,
    typer.Option(
        metavar="NAME",
        help="Keypoint detector: blazeface (faces), blazepose, movenet (bodies: profiles, "
        "backs), auto (blazeface + movenet merged).",
    ),
]
ModelOpt = Annotated[
    str,
    typer.Option(metavar="NAME", help="hhpnet-1.0, hhpnet-0.6, hhpnet-0.2 or a .safetensors file."),
]
KeypointsOpt = Annotated[
    str | None,
    typer.Option(
        "--keypoints",
        metavar="FILE",
        help="Use these keypoints instead of detecting: COCO/OpenPose/MMPose JSON, an "
        "OpenPose folder, or .npy. Matched to the SOURCE images by name, else by order.",
    ),
]
LayoutOpt = Annotated[
    str | None,
    typer.Option(
        metavar="NAME",
        help="Layout of --keypoints arrays: coco17, openpose25, openpose18, blazepose33, "
        "blazeface6, hhpnet5 (JSON formats are recognised).",
    ),
]
KptThrOpt = Annotated[
    float,
    typer.Option(
        "--kpt-thr", metavar="C", help="Keypoints with a lower confidence count as missing."
    ),
]
TileOpt = Annotated[
    bool,
    typer.Option("--tile", help="Also search image tiles (small people in large images)."),
]
PreciseOpt = Annotated[
    bool,
    typer.Option(
        "--precise",
        help="Accuracy first: also run the detector and the face mesh on the mirrored image "
        "and fuse both images' readings of every head (about twice the time).",
    ),
]
ProgressOpt = Annotated[
    bool | None,
    typer.Option(
        "--progress/--no-progress",
        help="Progress bar on stderr (default: only when stderr is a terminal).",
        show_default=False,
    ),
]


def progress_wanted(progress: bool | None) -> bool:
    """``--progress``/``--no-progress``, else on only when stderr is a terminal (a log file or
    a pipe gets no partial progress lines)."""
    if progress is not None:
        return progress
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def check_output_file(path: str | os.PathLike[str] | None, option: str) -> None:
    """Raise a one-line InputError now if ``path`` cannot be written as a file: a folder, or
    under an existing file."""
    from hhpnet.errors import InputError

    if path is None:
        return
    p = Path(path)
    if str(path) == "":
        raise InputError(f"{option}: empty file name")
    if p.is_dir():
        raise InputError(f"{option} {str(path)!r}: is a folder; give a file name")
    _check_parents(p.parent, f"{option} {str(path)!r}")


def check_output_dir(path: str | os.PathLike[str] | None, option: str) -> None:
    """Raise a one-line InputError now if ``path`` cannot be a folder (an existing file, or
    under one)."""
    from hhpnet.errors import InputError

    if path is None:
        return
    p = Path(path)
    if str(path) == "":
        raise InputError(f"{option}: empty folder name")
    if p.exists() and not p.is_dir():
        raise InputError(f"{option} {str(path)!r}: is a file, not a folder")
    _check_parents(p.parent, f"{option} {str(path)!r}")


def _check_parents(parent: Path, what: str) -> None:
    from hhpnet.errors import InputError

    for q in (parent, *parent.parents):
        if q.exists():
            if not q.is_dir():
                raise InputError(f"{what}: cannot create a folder under the file {str(q)!r}")
            if not os.access(q, os.W_OK | os.X_OK):
                raise InputError(f"{what}: the folder {str(q)!r} is not writable")
            return


def resolve_each(specs: Sequence[str]) -> tuple[list[Any], list[tuple[str, str]]]:
    """Resolve every SOURCE on its own: (sources found, [(spec, one-line error)] of those
    that are missing or empty) — one bad SOURCE does not stop the others."""
    from hhpnet.errors import InputError
    from hhpnet.video.sources import resolve

    found: list[Any] = []
    bad: list[tuple[str, str]] = []
    for spec in specs:
        try:
            found.extend(resolve([spec]))
        except InputError as exc:
            bad.append((spec, str(exc)))
    return found, bad


def safe_name(text: str) -> str:
    """A file-name piece from a source name: letters, digits, ``._-`` (others → ``_``)."""
    out = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._")
    return out or "source"


def unique_names(names: Sequence[str]) -> list[str]:
    """``names`` made unique by appending ``_1``, ``_2``, … to repeats (order kept)."""
    used: set[str] = set()
    out = []
    for n in names:
        cand, k = n, 1
        while cand in used:
            cand, k = f"{n}_{k}", k + 1
        used.add(cand)
        out.append(cand)
    return out


def written_files(*paths: str | None) -> str:
    """``"; wrote a, b"`` for the given output paths (empty without any)."""
    written = [p for p in paths if p]
    return f"; wrote {', '.join(written)}" if written else ""


def error_line(label: Any, exc: BaseException) -> str:
    """``hhpnet: error: <label>: <message>`` without repeating a label the message already has."""
    msg = str(exc) if str(label) in str(exc) else f"{label}: {exc}"
    return f"hhpnet: error: {msg}"


def out_name(src: str, used: set[str]) -> str:
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


def derived(path: str | os.PathLike[str] | None, name: str | None, ext: str = "") -> str | None:
    """The output file of one source: ``out.csv`` itself when ``name`` is None (the run has
    one source), else ``out.<name>.csv``; ``ext`` replaces the extension (``.timeline.csv``)."""
    if path is None:
        return None
    p = Path(path)
    ext = ext or p.suffix
    if name is None:
        return str(p.with_name(f"{p.stem}{ext}")) if ext != p.suffix else str(p)
    return str(p.with_name(f"{p.stem}.{name}{ext}"))


def stream_name(src: Any) -> str:
    """Base name of the per-video files: the file stem, ``webcam<index>`` or ``stream``."""
    if src.kind == "video":
        return safe_name(Path(str(src.value)).stem)
    if src.kind == "webcam":
        return f"webcam{src.value}"
    return "stream"


def print_records(result: Any) -> None:
    """``on_frame`` callback: one JSON line per frame on standard output (no output file)."""
    import json

    rec = result.record()
    sys.stdout.write(json.dumps(rec, allow_nan=False, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def match_keypoints(images: list[str], records: list[Any]) -> list[tuple[str | None, Any]]:
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


@dataclass
class ImageBatch:
    """The image jobs of one command run; iterate for ``(path, image, poses, extra)``.

    ``path``/``image`` are None for keypoints given without images; ``image`` is RGB;
    ``extra`` is ``analyse(poses)`` (None without). A failing image prints one line on stderr,
    counts in ``failed`` and is skipped.
    """

    est: Any
    jobs: list[tuple[str | None, Any]]
    streams: list[Any]
    progress: bool = True
    analyse: Callable[[Any], Any] | None = None
    failed: int = 0

    @classmethod
    def prepare(
        cls,
        sources: Sequence[Any],
        *,
        model: Any,
        detector: Any,
        keypoints: str | None,
        layout: str | None,
        kpt_thr: float,
        detector_options: dict[str, Any] | None,
        progress: bool | None,
        analyse: Callable[[Any], Any] | None = None,
        precise: bool = False,
    ) -> ImageBatch:
        """From resolved sources (:func:`resolve_each`): load the model and the detector now
        (a bad name is one error, not one per image), match the keypoint file to the images."""
        from hhpnet.adapters import load_keypoints_file
        from hhpnet.errors import InputError
        from hhpnet.pipeline import HeadPoseEstimator

        if layout is not None and keypoints is None:
            raise InputError("--layout describes --keypoints arrays; give --keypoints too")
        if precise and keypoints is not None:
            raise InputError(
                "--precise reads the mirrored image with the detector; not with --keypoints"
            )
        images = [str(s.value) for s in sources if s.is_image]
        streams = [s for s in sources if not s.is_image]
        est = HeadPoseEstimator(
            model=model,
            detector=None if keypoints is not None else detector,
            kpt_thr=kpt_thr,
            precise=precise,
            **(detector_options or {}),
        )
        est.model  # noqa: B018 - load now
        est.detector  # noqa: B018 - a wrong detector name or option: one error, exit code 2
        if keypoints is not None:
            if streams:
                raise InputError("--keypoints goes with images, not with videos or webcams")
            try:
                records = load_keypoints_file(keypoints, layout)
            except UnicodeDecodeError:  # a binary file given as JSON (e.g. an image)
                raise InputError(f"{keypoints}: not a keypoints file (not text JSON)") from None
            jobs = match_keypoints(images, records)
        else:
            if images or streams:
                est.detector  # noqa: B018 - create now: an unknown name fails once
            jobs = [(img, None) for img in images]
        return cls(est, jobs, streams, progress=progress_wanted(progress), analyse=analyse)

    def __iter__(self) -> Iterator[tuple[str | None, Any, Any, Any]]:
        from tqdm import tqdm

        from hhpnet.errors import HhpnetError
        from hhpnet.io import read_image

        show = self.progress and len(self.jobs) >= 2
        bar = tqdm(self.jobs, unit="img", disable=not show, file=sys.stderr, dynamic_ncols=True)
        try:
            for img_path, rec in bar:
                label = img_path or (rec.source if rec is not None else "?")
                try:
                    image = read_image(img_path) if img_path is not None else None
                    if rec is None:
                        poses = self.est(image, rgb=True, source=img_path)
                    else:
                        size = (image.shape[1], image.shape[0]) if image is not None else None
                        poses = self.est.from_keypoints(
                            rec, image_size=size or rec.image_size, source=img_path or rec.source
                        )
                    extra = self.analyse(poses) if self.analyse is not None else None
                except HhpnetError as exc:
                    self.failed += 1
                    tqdm.write(error_line(label, exc), file=sys.stderr)
                    continue
                yield img_path, image, poses, extra
        finally:
            bar.close()


@dataclass
class Outputs:
    """The per-run output files (context manager): JSON Lines, a CSV, annotated images.

    Without any of them the JSON Lines go to standard output. Everything is flushed per image.
    """

    json_path: str | None
    csv_path: str | None
    csv_columns: Sequence[str]
    save_dir: str | None
    _json: Any = None
    _csv: Any = None
    _writer: Any = None
    _used: set[str] = field(default_factory=set)

    def __enter__(self) -> Outputs:
        for path in (self.json_path, self.csv_path):
            if path:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
        if self.save_dir:
            Path(self.save_dir).mkdir(parents=True, exist_ok=True)
        if self.json_path:
            self._json = open(self.json_path, "w", encoding="utf-8")
        if self.csv_path:
            self._csv = open(self.csv_path, "w", newline="", encoding="utf-8")
            self._writer = csv.DictWriter(self._csv, fieldnames=list(self.csv_columns))
            self._writer.writeheader()
            self._csv.flush()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for fh in (self._json, self._csv):
            if fh is not None:
                fh.close()

    def write(self, line: str, rows: list[dict[str, Any]]) -> None:
        """One image's JSON line and CSV rows."""
        if self.json_path is None and self.csv_path is None and self.save_dir is None:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
        if self._json is not None:
            self._json.write(line + "\n")
            self._json.flush()
        if self._writer is not None:
            self._writer.writerows(rows)
            self._csv.flush()

    def save_image(self, src: str, drawn_rgb: Any) -> Path | None:
        """Write an annotated RGB image under ``save_dir`` (unique name); its path, or None."""
        import cv2

        from hhpnet.errors import InputError
        from hhpnet.io import bgr_to_rgb

        if self.save_dir is None:
            return None
        target = Path(self.save_dir) / out_name(src, self._used)
        if not cv2.imwrite(str(target), bgr_to_rgb(drawn_rgb)):  # RGB → BGR, the same swap
            raise InputError(f"{target}: cannot write the annotated image")
        return target
