"""``--resume``: replay the frames already in the CSV journal through the same per-frame step
(:meth:`~hhpnet.video.processor.VideoProcessor.process_poses`) so that tracker, smoother and
timeline continue from the state of an uninterrupted run."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator

import numpy as np
from numpy.typing import NDArray

from hhpnet.errors import InputError
from hhpnet.poses import Column, Poses
from hhpnet.video.processor import VideoProcessor
from hhpnet.video.readers import Frame


def _rows_by_frame(rows: dict[str, Column]) -> dict[int, NDArray[np.int64]]:
    """Row indices of every frame of the journal, in file order."""
    frames = rows["frame"]
    order = np.argsort(frames, kind="stable")
    uniq, starts = np.unique(frames[order], return_index=True)
    bounds = [*starts.tolist(), len(order)]
    return {int(f): order[bounds[k] : bounds[k + 1]] for k, f in enumerate(uniq)}


def _replay(
    proc: VideoProcessor,
    frames: Iterator[Frame],
    journal: dict[str, Column],
    resume_frame: int,
    csv: str,
    on_step: Callable[[], None] | None = None,
) -> tuple[int, Frame | None]:
    """Re-run the frames before ``resume_frame`` with the poses of the CSV journal instead of
    the estimator: tracker, smoother and timeline end in the state of an uninterrupted run.

    Returns (frames replayed, the first frame at or after the restart point or None)."""
    by_frame = {f: ix for f, ix in _rows_by_frame(journal).items() if f < resume_frame}
    count = 0
    pending: Frame | None = None
    # a detection cadence (--body-every) is rebuilt from the frames since its last K-th frame
    detector = getattr(proc.estimator, "detector", None)
    cadence = getattr(detector, "restore", None)
    recent: deque[NDArray[np.uint8]] = deque(maxlen=getattr(detector, "every", 1))
    for frame in frames:
        if frame.index >= resume_frame:
            pending = frame
            break
        if cadence is not None:
            recent.append(frame.image)
        h, w = frame.image.shape[:2]
        ix = by_frame.pop(frame.index, None)
        poses = Poses.empty((w, h)) if ix is None else Poses.from_columns(journal, ix, (w, h))
        result = proc.process_poses(frame.index, frame.time_s, poses)
        if ix is not None and result.track_ids.tolist() != journal["track_id"][ix].tolist():
            raise InputError(_mismatch(csv, frame.index))
        count += 1
        if on_step is not None:
            on_step()
    if by_frame:  # frames of the journal that this run does not process
        raise InputError(_mismatch(csv, min(by_frame)))
    if cadence is not None:  # BGR frames → the RGB the detector gets
        cadence(count, [np.ascontiguousarray(img[..., ::-1]) for img in recent])
    return count, pending


def _mismatch(csv: str, frame: int) -> str:
    return (
        f"{csv}: cannot resume: the CSV does not match this source and these options at frame "
        f"{frame} (use the SOURCE, --stride, --start and --end of the first run, or run "
        "again without --resume)"
    )
