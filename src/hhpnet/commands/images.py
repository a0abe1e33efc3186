"""The image side of ``hhpnet predict`` and ``hhpnet interact``.

Keypoint files are matched to the images, every image is read and estimated with its own
one-line error (:class:`ImageBatch`), and the output files are opened, written and flushed per
image (:class:`Outputs`).
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from hhpnet.commands.options import progress_wanted
from hhpnet.commands.outputs import error_line


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
