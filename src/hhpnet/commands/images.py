"""The image side of ``hhpnet predict`` and ``hhpnet interact``.

Keypoint files are matched to the images, every image is read and estimated with its own
one-line error (:class:`ImageBatch`), and the output files are opened, written and flushed per
image (:class:`Outputs`).
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from hhpnet.adapters import HeadKeypoints
    from hhpnet.interaction import Interaction
    from hhpnet.pipeline import HeadPoseEstimator
    from hhpnet.poses import Poses
    from hhpnet.video.settings import DetectorSpec, ModelSpec
    from hhpnet.video.sources import Source

    #: an image's path and its keypoints (None: detect them)
    Job = tuple[str | None, HeadKeypoints | None]
    #: the per-image analysis of ``hhpnet interact``
    Analyse = Callable[[Poses], Interaction]

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


def match_keypoints(images: list[str], records: Sequence[HeadKeypoints]) -> list[Job]:
    """Pair keypoint records with image paths: by file name/stem, else by order."""
    from hhpnet.errors import InputError

    if not images:
        return [(None, r) for r in records]
    by_key: dict[str, HeadKeypoints] = {}
    for r in records:
        if r.source is not None:
            by_key.setdefault(str(r.source), r)
            by_key.setdefault(Path(str(r.source)).stem, r)
    pairs: list[Job] = []
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

    est: HeadPoseEstimator
    jobs: list[Job]
    streams: list[Source]
    progress: bool = True
    analyse: Analyse | None = None
    failed: int = 0

    @classmethod
    def prepare(
        cls,
        sources: Sequence[Source],
        *,
        model: ModelSpec,
        detector: DetectorSpec,
        keypoints: str | None,
        layout: str | None,
        kpt_thr: float,
        detector_options: dict[str, Any] | None,
        progress: bool | None,
        analyse: Analyse | None = None,
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

    def __iter__(
        self,
    ) -> Iterator[tuple[str | None, NDArray[np.uint8] | None, Poses, Interaction | None]]:
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

    def write(self, line: str, rows: Sequence[Mapping[str, object]]) -> None:
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

    def save_image(self, src: str, drawn_rgb: NDArray[np.uint8]) -> Path | None:
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


@dataclass(frozen=True)
class ImageCommand:
    """The options ``predict`` and ``interact`` share, and the steps of their runs around the
    per-image work: :meth:`start` (usage errors first, then the sources, the model, the
    detector and the keypoint file) and :meth:`run_videos` (the video, webcam and stream
    sources, each through :func:`hhpnet.video.process_video` with files of its own).

    ``model`` / ``detector`` may be names or objects (as for
    :class:`hhpnet.pipeline.HeadPoseEstimator`); ``detector_options`` go to the detector.
    """

    sources: list[str]
    model: ModelSpec = "hhpnet-1.0"
    detector: DetectorSpec = "auto"
    keypoints: str | None = None
    layout: str | None = None
    save_dir: str | None = None
    json_path: str | None = None
    csv_path: str | None = None
    kpt_thr: float = 0.0
    progress: bool | None = None
    detector_options: dict[str, Any] | None = None
    precise: bool = False

    def start(self, analyse: Analyse | None = None) -> tuple[ImageBatch, int]:
        """Check the outputs (and ``analyse``'s options on no people), resolve the sources,
        prepare the :class:`ImageBatch` (with ``analyse`` per image); print one line per
        missing source. Returns the batch and the number of missing sources."""
        from hhpnet.commands.outputs import check_output_dir, check_output_file, resolve_each
        from hhpnet.errors import InputError

        check_output_file(self.json_path, "--json")
        check_output_file(self.csv_path, "--csv")
        check_output_dir(self.save_dir, "--save-dir")
        if analyse is not None:
            from hhpnet.poses import Poses

            analyse(Poses.empty())  # bad method options: fail now
        if not self.sources and self.keypoints is None:
            raise InputError("give at least one SOURCE (image, folder, glob, video) or --keypoints")
        found, bad = resolve_each(self.sources)
        batch = ImageBatch.prepare(
            found,
            model=self.model,
            detector=self.detector,
            keypoints=self.keypoints,
            layout=self.layout,
            kpt_thr=self.kpt_thr,
            detector_options=self.detector_options,
            progress=self.progress,
            analyse=analyse,
            precise=self.precise,
        )
        for _spec, msg in bad:
            print(f"hhpnet: error: {msg}", file=sys.stderr)
        return batch, len(bad)

    def run_videos(
        self, batch: ImageBatch, missing: int, interaction: tuple[str, dict[str, object]] | None
    ) -> int:
        """Run the batch's video, webcam and stream sources (``interaction``: the method and
        its parameters, None: poses only); the number that failed (one line each)."""
        from hhpnet.commands.outputs import stream_name, unique_names
        from hhpnet.errors import HhpnetError

        streams = batch.streams
        if not batch.jobs and not missing and len(streams) == 1:
            names: list[str | None] = [None]  # the run's only source: the files as given
        else:
            names = list(unique_names([stream_name(s) for s in streams]))
        failed = 0
        for src, name in zip(streams, names, strict=True):
            try:
                self._run_video(src, batch, name, interaction)
            except HhpnetError as exc:
                failed += 1
                print(error_line(src.value, exc), file=sys.stderr)
        return failed

    def _run_video(
        self,
        src: Source,
        batch: ImageBatch,
        name: str | None,
        interaction: tuple[str, dict[str, object]] | None,
    ) -> None:
        """One video/webcam/stream source → :func:`hhpnet.video.process_video` (per-frame poses,
        and with ``interaction`` the analysis and timelines). One source: ``--csv``/``--json``
        are its files; several: ``<csv stem>.<name>.csv`` and ``<json stem>.<name>.jsonl``
        (name = the video file's stem, ``webcam<index>`` or ``stream``);
        ``<save-dir>/<name>.mp4``; with interaction the timeline ``<csv stem>[.<name>].timeline.
        csv`` and ``<save-dir>/<name>_timeline.png``. Without any output option the JSON Lines
        go to standard output, one per frame."""
        from hhpnet.commands.outputs import derived, print_records, report_summary, stream_name
        from hhpnet.video import process_video
        from hhpnet.video.settings import VideoSettings

        stem = name or stream_name(src)
        folder = Path(self.save_dir) if self.save_dir else None
        paths = {
            "csv": derived(self.csv_path, name),
            "jsonl": derived(self.json_path, name),
            "save_video": str(folder / f"{stem}.mp4") if folder else None,
        }
        if interaction is not None:
            paths["timeline_csv"] = derived(self.csv_path, name, ".timeline.csv")
            paths["timeline_png"] = str(folder / f"{stem}_timeline.png") if folder else None
        method, params = interaction or ("hhpnet", None)
        settings = VideoSettings(
            model=self.model,
            detector=self.detector,
            kpt_thr=self.kpt_thr,
            precise=self.precise,
            interact=interaction is not None,
            interaction_method=method,
            interaction_params=params,
            progress=batch.progress,
        ).with_paths(paths)
        to_stdout = self.json_path is None and self.csv_path is None and self.save_dir is None
        summary = process_video(
            src.value, batch.est, settings=settings, on_frame=print_records if to_stdout else None
        )
        report_summary(summary, stdout=to_stdout)
